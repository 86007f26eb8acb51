#!/usr/bin/env bash
# The table against the peers: each of our commands and the peer tool that
# does the same job, on the same input, side by side in one run on this
# machine, best of several runs each. Prints a Markdown table (paste it into
# the README with the date and machine it prints).
#
#   bash testdata/gen/peers.sh [RUNS]        # RUNS: runs per command, default 5
#
# Needs: go, qemu-img (qemu-utils), ntfscp/ntfscat (ntfs-3g), hivexregedit
# (libwin-hivex-perl), and for the customize row virt-customize and
# virt-win-reg (libguestfs-tools, with a kernel for its appliance:
# linux-image-amd64). libguestfs runs here only with TCG:
# LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg, set below;
# its rows take minutes, so they get fewer runs (GUESTFS_RUNS, default 2).
# Not run by CI: timings go in the README, never in pass/fail tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

runs=${1:-5}
gruns=${GUESTFS_RUNS:-2}
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/imagecustom" ./cmd/imagecustom
ic=$work/imagecustom
go run ./testdata/gen/unpack testdata/winxp.raw.xz >/dev/null 2>&1 || true
# A private copy of the XP disk, and its NTFS volume alone (the ntfs-3g
# tools take a volume, not a partitioned disk: partition 1 starts at 1 MiB).
cp --sparse=always testdata/winxp.raw "$work/base.raw"
dd if="$work/base.raw" of="$work/base.vol" bs=1M skip=1 conv=sparse status=none

# best N SETUP CMD...: the best wall time in seconds of N runs of CMD, each
# after SETUP (not timed; "" for none).
best() {
	local n=$1 setup=$2
	shift 2
	local b=
	for _ in $(seq "$n"); do
		[ -z "$setup" ] || eval "$setup"
		local t0 t1
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>"$work/err" || { echo "failed: $*" >&2; cat "$work/err" >&2; return 1; }
		t1=$(date +%s.%N)
		b=$(awk -v a="$t0" -v z="$t1" -v b="$b" 'BEGIN { d = z - a; if (b == "" || d < b) print d; else print b }')
	done
	echo "$b"
}

rows=()
# row JOB OURS-CMD PEER-CMD OURS-SECONDS PEER-SECONDS
row() {
	rows+=("$(awk -v j="$1" -v o="$2" -v p="$3" -v a="$4" -v b="$5" 'BEGIN {
		printf "| %s | `%s` %.3f s | `%s` %.3f s | %.3f |", j, o, a, p, b, a / b }')")
}

# 1. Copy a 1 MiB file in, replacing nothing (a new file).
head -c 1048576 /dev/urandom >"$work/blob.bin"
reset_raw="cp --sparse=always $work/base.raw $work/w.raw"
reset_vol="cp --sparse=always $work/base.vol $work/w.vol"
a=$(best "$runs" "$reset_raw" "$ic" put "$work/w.raw" "$work/blob.bin" '\WINDOWS\blob.bin')
b=$(best "$runs" "$reset_vol" ntfscp "$work/w.vol" "$work/blob.bin" /WINDOWS/blob.bin)
row "copy a 1 MiB file in" "imagecustom put" "ntfscp" "$a" "$b"

# 2. Read a 2.5 MiB file out.
a=$(best "$runs" "" "$ic" cat "$work/base.raw" '\WINDOWS\Driver Cache\i386\driver.cab')
b=$(best "$runs" "" ntfscat "$work/base.vol" '/WINDOWS/Driver Cache/i386/driver.cab')
row "read a 2.5 MiB file" "imagecustom cat" "ntfscat" "$a" "$b"

# 3. Export a whole hive as .reg text: the XP fixture's 2.5 MB SYSTEM.
hive=testdata/hives/winxp/SYSTEM
a=$(best "$runs" "" "$ic" reg export --encoding utf8 "$hive")
b=$(best "$runs" "" hivexregedit --export "$hive" '\')
row "export a 2.5 MB hive to .reg" "imagecustom reg export" "hivexregedit --export" "$a" "$b"

# 4. Convert the bundled streamOptimized VMDK to raw, and raw back to
# streamOptimized.
so=testdata/vmdk/winxp-streamOptimized.vmdk
a=$(best "$runs" "rm -f $work/c.raw" "$ic" vmdk convert --quiet --type raw "$so" "$work/c.raw")
b=$(best "$runs" "rm -f $work/c.raw" qemu-img convert -O raw "$so" "$work/c.raw")
row "streamOptimized VMDK to raw" "imagecustom vmdk convert" "qemu-img convert" "$a" "$b"
a=$(best "$runs" "rm -f $work/c.vmdk" "$ic" vmdk convert --quiet --type streamOptimized "$work/base.raw" "$work/c.vmdk")
b=$(best "$runs" "rm -f $work/c.vmdk" qemu-img convert -O vmdk -o subformat=streamOptimized "$work/base.raw" "$work/c.vmdk")
row "raw to streamOptimized VMDK" "imagecustom vmdk convert" "qemu-img convert" "$a" "$b"

# 5. The whole job: customize (static IP, domain join, boot hook) against
# virt-customize uploading the same rendered artifacts and the hook, and
# virt-win-reg merging the same registry changes. virt-win-reg cannot write
# CurrentControlSet paths, so they are rewritten to the control set the XP
# fixture boots (ControlSet001). The boot hook's rename of autochk.exe is
# virt-customize --move.
spec=testdata/demo/winxp.yaml
if "$ic" customize --help >/dev/null 2>&1 && [ -f "$spec" ] && command -v virt-customize >/dev/null; then
	"$ic" sysprep render --spec "$spec" --os winxp --out "$work/art" >/dev/null
	up=()
	while IFS= read -r -d '' f; do
		rel=${f#"$work/art/"}
		case "$rel" in registry.reg | plan.txt) continue ;; esac
		up+=(--mkdir "/$(dirname "$rel")" --upload "$f:/$rel")
	done < <(find "$work/art" -type f -print0)
	# virt-win-reg reads .reg text as UTF-8, not regedit's UTF-16.
	iconv -f UTF-16 -t UTF-8 "$work/art/registry.reg" | sed -e '1s/^\xEF\xBB\xBF//' -e 's/CurrentControlSet/ControlSet001/g' >"$work/art.reg"
	# The hook and its data file as customize installs them (the demo spec
	# runs our built-in hook with an action list), taken from a child disk.
	"$ic" customize --quiet "$work/base.raw" --spec "$spec" --out "$work/hooked.vmdk" >/dev/null
	"$ic" get "$work/hooked.vmdk" '\WINDOWS\system32\autochk.exe' "$work/hook.exe"
	"$ic" get "$work/hooked.vmdk" '\WINDOWS\system32\vmprep.dat' "$work/vmprep.dat"
	hook=$work/hook.exe
	guestfs_job() {
		virt-customize -q -a "$work/w.raw" "${up[@]}" \
			--move /WINDOWS/system32/autochk.exe:/WINDOWS/system32/vmprep.cfg \
			--upload "$hook:/WINDOWS/system32/autochk.exe" \
			--upload "$work/vmprep.dat:/WINDOWS/system32/vmprep.dat" &&
			virt-win-reg --merge "$work/w.raw" "$work/art.reg"
	}
	a=$(best "$runs" "$reset_raw" "$ic" customize "$work/w.raw" --spec "$spec")
	b=$(best "$gruns" "$reset_raw" guestfs_job)
	row "customize (static IP + domain + hook)" "imagecustom customize" "virt-customize + virt-win-reg" "$a" "$b"
else
	echo "(customize row skipped: needs imagecustom customize, $spec and virt-customize)" >&2
fi

echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(free -g | awk '/^Mem/ {print $2}') GiB, $(uname -sm); best of $runs runs ($gruns for libguestfs)."
echo
echo "| job | ours | peer | ratio (ours / peer) |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
