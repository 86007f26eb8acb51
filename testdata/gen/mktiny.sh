#!/usr/bin/env bash
# Builds testdata/ntfs/tiny.raw.xz: a 2 MiB NTFS volume with 512-byte
# clusters and a few dozen files (one directory big enough for an index
# block), small enough to be the seed of fuzz targets that mutate a whole
# volume. Needs mkntfs (ntfs-3g), wimcapture/wimapply (wimtools), xz.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tree/dir/sub" "$work/tree/empty"
printf 'hello\r\n' >"$work/tree/a.txt"
for i in $(seq 0 299); do printf 'line %04d of b.txt\r\n' "$i"; done >"$work/tree/dir/b.txt"
for i in $(seq 1 40); do printf '%s\r\n' "$i" >"$work/tree/dir/sub/file number $i.txt"; done
printf 'Καλημέρα\r\n' >"$work/tree/dir/Ελληνικά.txt"
truncate -s 2M "$work/tiny.raw"
mkntfs -F -Q -q -s 512 -c 512 "$work/tiny.raw" 2>/dev/null
wimcapture "$work/tree" "$work/t.wim" --no-acls --compress=none >/dev/null
wimapply "$work/t.wim" 1 "$work/tiny.raw" >/dev/null
ntfsfix -n "$work/tiny.raw" >/dev/null
mkdir -p testdata/ntfs
xz -9 -c "$work/tiny.raw" >testdata/ntfs/tiny.raw.xz
