#!/usr/bin/env bash
# mkwin10real.sh builds testdata/win10real.raw.xz: testdata/win10.raw with
# its system volume changed, through an ntfs-3g FUSE mount, into what a
# long-lived Windows 10 leaves and the plain fixture lacks:
#   - System32 binaries hard linked into WinSxS component folders
#     (autochk.exe and cmd.exe among them), with 8.3 names for the folders
#     and the TrustedInstaller security descriptor of System32;
#   - a SOFTWARE hive grown to about 1.5 MB (hivexregedit --merge of
#     HKLM\SOFTWARE\Filler keys) and written through the mount in 4 KiB
#     pieces interleaved with a filler file, so that its run list
#     overflows the record into an $ATTRIBUTE_LIST (the filler is then
#     removed);
#   - Windows\System32\compact.dll, the content of System32's largest DLL, made
#     system-compressed (LZX) as Compact OS leaves files: libwim-compressed
#     WofCompressedData stream (gen/wofcompress.py), sparse unnamed $DATA,
#     WOF reparse point, and linked into WinSxS too.
# Needs root (FUSE) and: ntfs-3g, attr, libhivex-bin/libwin-hivex-perl,
# python3 with libwim15, xz-utils, coreutils.
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
mib=$((1 << 20))
xz -dc testdata/win10.raw.xz >"$work/disk.raw"
dd if="$work/disk.raw" of="$work/vol.raw" bs=1M skip=117 count=394 status=none

# The grown SOFTWARE hive, made on the host.
sys32=Windows/System32
python3 - "$work/filler.reg" <<'PY'
import sys
with open(sys.argv[1], "w", encoding="ascii", newline="") as f:
    f.write("Windows Registry Editor Version 5.00\r\n\r\n")
    f.write("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Filler]\r\n\r\n")
    for i in range(400):
        f.write("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Filler\\Key%04d]\r\n" % i)
        f.write('"Data"=hex:' + ",".join("%02x" % ((i + j) & 0xFF) for j in range(900)) + "\r\n\r\n")
PY

ntfs-3g -o no_detach,streams_interface=windows "$work/vol.raw" "$mnt" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.1; done
mountpoint -q "$mnt"

cp "$mnt/$sys32/config/SOFTWARE" "$work/SOFTWARE"
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' "$work/SOFTWARE" "$work/filler.reg"
# hivex leaves the base block's hive bins size (0x28) at the file size;
# Windows keeps it at the file size less the 4 KiB base block. Set it so,
# and the base block's checksum (0x1FC, XOR of its first 127 dwords).
python3 - "$work/SOFTWARE" <<'PY'
import os, struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
struct.pack_into("<I", b, 0x28, len(b) - 4096)
x = 0
for i in range(127):
    x ^= struct.unpack_from("<I", b, 4 * i)[0]
struct.pack_into("<I", b, 0x1FC, x)
open(p, "wb").write(b)
PY
hivexget "$work/SOFTWARE" 'Filler\Key0399' Data >/dev/null
# Free space as a checkerboard of single clusters: 2N one-cluster files,
# the rest of the volume filled by a ballast file, then every other small
# file removed; SOFTWARE, rewritten, can only go into those N holes.
python3 - "$work/SOFTWARE" "$mnt/$sys32/config/SOFTWARE" "$mnt/frag.tmp" <<'PY'
import errno, os, shutil, sys
data = open(sys.argv[1], "rb").read()
clusters = (len(data) + 4095) // 4096
hive = os.open(sys.argv[2], os.O_WRONLY | os.O_TRUNC)
os.fsync(hive)
d = sys.argv[3]
os.mkdir(d)
n = 2 * (clusters + 8)  # a few holes to spare for the metadata
for i in range(n):
    with open(os.path.join(d, "%05d" % i), "wb") as f:
        f.write(b"\x55" * 4096)
chunk = b"\x55" * (1 << 20)
with open(os.path.join(d, "ballast"), "wb", buffering=0) as f:
    while True:
        try:
            f.write(chunk)
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
            if len(chunk) <= 4096:
                break
            chunk = chunk[: len(chunk) // 2]
for i in range(0, n, 2):
    os.unlink(os.path.join(d, "%05d" % i))
if os.pwrite(hive, data, 0) != len(data):
    sys.exit("SOFTWARE: short write")
os.fsync(hive)
os.close(hive)
shutil.rmtree(d)
PY

# WinSxS component folders, each with a hard link of a System32 file.
acl=$(getfattr --absolute-names -h -e hex -n system.ntfs_acl "$mnt/Windows/WinSxS" | sed -n 's/^system.ntfs_acl=//p')
i=0
for f in autochk.exe cmd.exe kernel32.dll ntdll.dll; do
	[ -e "$mnt/$sys32/$f" ] || continue
	i=$((i + 1))
	h=$(printf '%s' "$f" | sha1sum | cut -c1-16)
	comp="amd64_microsoft-windows-${f%.*}_31bf3856ad364e35_10.0.19041.3636_none_$h"
	mkdir "$mnt/Windows/WinSxS/$comp"
	setfattr -h -n system.ntfs_acl -v "$acl" "$mnt/Windows/WinSxS/$comp"
	setfattr -h -n system.ntfs_dos_name -v "AMD64_~$i" "$mnt/Windows/WinSxS/$comp"
	ln "$mnt/$sys32/$f" "$mnt/Windows/WinSxS/$comp/$f"
done

# A system-compressed file (LZX), as Compact OS leaves it.
src=$(find "$mnt/$sys32" -maxdepth 1 -type f -name '*.dll' -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
echo "compact.dll is $(basename "$src"), $(stat -c %s "$src") bytes"
cp "$src" "$work/plain"
python3 testdata/gen/wofcompress.py lzx "$work/plain" "$work/plain.lzx"
f=$mnt/$sys32/compact.dll
: >"$f"
setfattr -h -n system.ntfs_acl -v "$(getfattr --absolute-names -h -e hex -n system.ntfs_acl "$src" | sed -n 's/^system.ntfs_acl=//p')" "$f"
truncate -s "$(stat -c %s "$work/plain")" "$f"
cat "$work/plain.lzx" >"$f:WofCompressedData"
mkdir "$mnt/Windows/WinSxS/amd64_microsoft-windows-compact_31bf3856ad364e35_10.0.19041.3636_none_0123456789abcdef"
ln "$f" "$mnt/Windows/WinSxS/amd64_microsoft-windows-compact_31bf3856ad364e35_10.0.19041.3636_none_0123456789abcdef/compact.dll"
setfattr -h -n system.ntfs_reparse_data -v 0x170000801000000001000000020000000100000001000000 "$f"
sha256sum "$work/plain" | cut -d' ' -f1 >"$work/compact.sum"

fusermount -u "$mnt"
wait "$pid"
pid=
ntfsfix -n "$work/vol.raw" >/dev/null
ntfsinfo -F "/$sys32/config/SOFTWARE" "$work/vol.raw" >"$work/sw.info"; grep -q ATTRIBUTE_LIST "$work/sw.info" || { grep -E "Data size|Dumping|runs" "$work/sw.info" >&2; echo "SOFTWARE has no attribute list" >&2; exit 1; }
dd if="$work/vol.raw" of="$work/disk.raw" bs=1M seek=117 conv=notrunc,sparse status=none
xz -9 -T0 -c "$work/disk.raw" >testdata/win10real.raw.xz
echo "compact.dll sha256 $(cat "$work/compact.sum")"
ls -l testdata/win10real.raw.xz
