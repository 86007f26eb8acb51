#!/usr/bin/env bash
# mkfeatures.sh builds the NTFS feature volumes under testdata/ntfs/:
# bare 64 MiB NTFS volumes (no partition table) with 512-byte, 4 KiB and
# 64 KiB clusters, filled through an ntfs-3g FUSE mount with compressed
# and sparse files, alternate data streams, hard links, files with an
# $ATTRIBUTE_LIST, a 5000-entry directory with deleted entries, reparse
# points, odd names and so on (testdata/gen/mkfeatures/populate.go), and
# testdata/ntfs/features.manifest, what sleuthkit (and ntfsinfo,
# fsntfsinfo) read back from each volume. It ends with verify-features.sh.
#
# Needs root (FUSE) and: go, ntfs-3g (mkntfs, ntfs-3g, ntfsfix, ntfsinfo,
# ntfsls, ntfsresize), sleuthkit (fls, istat, icat), libfsntfs-utils
# (fsntfsinfo), fuse (fusermount), xz-utils. mkntfs stamps a random volume
# serial number and ntfs-3g the current MFT-change times, so a rebuild is
# equivalent (same manifest), not byte-identical.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# Volumes on tmpfs when there is one: sleuthkit reads them many times.
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
mnt=$work/mnt
mkdir -p "$mnt" testdata/ntfs
ntfs3g_pid=
cleanup() {
	if [ -n "$ntfs3g_pid" ]; then
		fusermount -u "$mnt" 2>/dev/null || true
		wait "$ntfs3g_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/mkfeatures" ./testdata/gen/mkfeatures

# mount VOL OPTIONS: ntfs-3g in the foreground (no_detach) as a child of
# this shell, so that unmount can wait for it to have written everything.
mount_volume() {
	ntfs-3g -o "no_detach,$2" "$1" "$mnt" >"$work/ntfs-3g.log" 2>&1 &
	ntfs3g_pid=$!
	for _ in $(seq 100); do
		mountpoint -q "$mnt" && return 0
		sleep 0.1
	done
	echo "ntfs-3g did not mount $1" >&2
	cat "$work/ntfs-3g.log" >&2
	return 1
}
unmount_volume() {
	fusermount -u "$mnt"
	wait "$ntfs3g_pid"
	ntfs3g_pid=
}

for c in 512 4096 65536; do
	vol=$work/features-c$c.raw
	truncate -s 64M "$vol"
	mkntfs -F -Q -q -T -s 512 -c "$c" -p 0 -H 255 -S 63 -L "features-c$c" "$vol"
	mount_volume "$vol" streams_interface=windows
	"$work/mkfeatures" populate -mnt "$mnt" -spec "$work/c$c.spec"
	unmount_volume
	ntfsfix -n "$vol" >/dev/null
	"$work/mkfeatures" observe -vol "$vol" -out "$work/c$c.obs"
done

# The same content went into every volume.
cmp "$work/c512.spec" "$work/c4096.spec"
cmp "$work/c512.spec" "$work/c65536.spec"
"$work/mkfeatures" merge -spec "$work/c4096.spec" -out testdata/ntfs/features.manifest \
	c512="$work/c512.obs" c4096="$work/c4096.obs" c65536="$work/c65536.obs"

for c in 512 4096 65536; do
	xz -9 -T0 -c "$work/features-c$c.raw" >"testdata/ntfs/features-c$c.raw.xz"
done
ls -l testdata/ntfs/

testdata/gen/verify-features.sh
