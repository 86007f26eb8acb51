#!/usr/bin/env bash
# mkwof.sh builds testdata/ntfs/wof.raw.xz: a bare 16 MiB NTFS volume
# (mkntfs, 4 KiB clusters) holding system-compressed files as the Windows
# Overlay Filter leaves them, written through an ntfs-3g FUSE mount: a
# sparse unnamed $DATA of the uncompressed size, a WofCompressedData stream
# whose chunks libwim compressed (gen/wofcompress.py), and the WOF reparse
# point, which ntfs-3g also enters in $Extend\$Reparse.
#
#   Windows/System32/xpress4k.dll, xpress8k.dll, xpress16k.dll, lzx.dll
#       the 200 001 bytes of `wofcompress.py gen-plain`, one per algorithm
#   Windows/System32/wimboot.dll   WOF provider 1 (WIMBoot), no stream
#   Windows/System32/unknown.dll   provider 2 with algorithm 9
#   Windows/System32/plain.txt     an ordinary file
#
# Needs root (FUSE) and: ntfs-3g (mkntfs, ntfs-3g, ntfsfix), attr
# (setfattr), fuse, python3 with libwim15, xz-utils.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
work=$(mktemp -d)
mnt=$work/mnt
mkdir -p "$mnt"
pid=
cleanup() {
	if [ -n "$pid" ]; then fusermount -u "$mnt" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

py=testdata/gen/wofcompress.py
python3 "$py" gen-plain "$work/plain"
for a in xpress4k xpress8k xpress16k lzx; do python3 "$py" "$a" "$work/plain" "$work/$a"; done

vol=$work/wof.raw
truncate -s 16M "$vol"
mkntfs -F -Q -q -s 512 -c 4096 -p 0 -H 255 -S 63 -L wof "$vol"
ntfs-3g -o no_detach,streams_interface=windows "$vol" "$mnt" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.1; done
mountpoint -q "$mnt"

sys=$mnt/Windows/System32
mkdir -p "$sys"
printf 'an ordinary file\r\n' >"$sys/plain.txt"
size=$(stat -c %s "$work/plain")
# reparse ALG: IO_REPARSE_TAG_WOF, 16 bytes of data: WOF_EXTERNAL_INFO
# {version 1, provider 2} and WOF_FILE_PROVIDER_EXTERNAL_INFO_V1 {1, ALG}.
reparse() { printf '0x17000080%s%s%s%s%02x000000' 10000000 01000000 02000000 01000000 "$1"; }
i=0
for a in xpress4k lzx xpress8k xpress16k; do # algorithm numbers 0 1 2 3
	f=$sys/$a.dll
	: >"$f"
	truncate -s "$size" "$f"
	cat "$work/$a" >"$f:WofCompressedData"
	setfattr -h -n system.ntfs_reparse_data -v "$(reparse $i)" "$f"
	i=$((i + 1))
done
f=$sys/unknown.dll
: >"$f"
truncate -s 4096 "$f"
head -c 300 "$work/xpress4k" >"$f:WofCompressedData"
setfattr -h -n system.ntfs_reparse_data -v "$(reparse 9)" "$f"
# WIMBoot: WOF_EXTERNAL_INFO {1, provider 1}, then WIM_PROVIDER_EXTERNAL_INFO
# {version 1, flags 0, data source id (8 bytes), SHA-1 of the resource (20)}.
f=$sys/wimboot.dll
: >"$f"
truncate -s 8192 "$f"
setfattr -h -n system.ntfs_reparse_data -v "0x170000802c000000010000000100000001000000000000000700000000000000$(printf '11%.0s' $(seq 20))" "$f"

fusermount -u "$mnt"
wait "$pid"
pid=
ntfsfix -n "$vol" >/dev/null
xz -9 -c "$vol" >testdata/ntfs/wof.raw.xz
ls -l testdata/ntfs/wof.raw.xz
