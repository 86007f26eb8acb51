#!/usr/bin/env bash
# verify-features.sh checks testdata/ntfs/features-*.raw.xz against
# testdata/ntfs/features.manifest with tools no one here wrote:
#   - ntfsfix -n (clean volume) and ntfsresize -i -f (cluster accounting);
#   - fls -r -p -u lists exactly the manifest's files, directories and
#     streams, and none of its deleted entries (kind x);
#   - istat confirms every entry's flags (resident, compressed, sparse,
#     attrlist and its extension records, indexalloc, security_id, object
#     ID, MFT record), link count and attribute bits; icat reads the
#     reparse points' tags and targets; ntfsinfo stands in for istat on the
#     1 GiB sparse file sleuthkit refuses, fsntfsinfo for the 5000 small
#     files of bigdir (residency only);
#   - ntfsls -R lists exactly the manifest's names;
#   - a read-only ntfs-3g mount (streams_interface=windows) and sha256sum -c
#     over every file, hard link and named stream.
# Needs root (FUSE), go, ntfs-3g, sleuthkit, libfsntfs-utils, xz-utils.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# Volumes on tmpfs when there is one: sleuthkit reads them many times.
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
mnt=$work/mnt
mkdir -p "$mnt"
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

for c in 512 4096 65536; do
	vol=$work/features-c$c.raw
	xz -dc "testdata/ntfs/features-c$c.raw.xz" >"$vol"
	ntfsfix -n "$vol" >/dev/null
	ntfsresize -i -f "$vol" >/dev/null
	"$work/mkfeatures" check -manifest testdata/ntfs/features.manifest -vol "$vol" -tag "c$c" -mnt "$mnt" >"$work/sums"
	ntfs-3g -o no_detach,ro,streams_interface=windows "$vol" "$mnt" >"$work/ntfs-3g.log" 2>&1 &
	ntfs3g_pid=$!
	for _ in $(seq 100); do
		mountpoint -q "$mnt" && break
		sleep 0.1
	done
	mountpoint -q "$mnt"
	sha256sum -c --quiet --strict "$work/sums"
	echo "c$c: $(wc -l <"$work/sums") files and streams match through ntfs-3g"
	fusermount -u "$mnt"
	wait "$ntfs3g_pid"
	ntfs3g_pid=
	rm -f "$vol"
done
echo "verify-features: all volumes agree with testdata/ntfs/features.manifest"
