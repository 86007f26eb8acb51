#!/usr/bin/env bash
# Rebuilds the Windows-like disk fixtures from the tools: no loop devices and
# no mkfs on a device; wimlib applies the tree onto an mkntfs'd file, then one
# ntfs-3g FUSE mount per volume adds what wimlib cannot write from a Linux
# folder: 8.3 aliases, security descriptors shared through $Secure, attribute
# bits, junctions and Windows symbolic links.
#
#   bash testdata/gen/mkdisks.sh            # from anywhere in the repository
#
# Needs: go, mkntfs ntfs-3g (ntfs-3g), wimcapture wimapply (wimtools),
# setfattr (attr), sfdisk (fdisk), mkfs.fat (dosfstools), mcopy (mtools),
# qemu-img (qemu-utils), xz (xz-utils), and the hives and PE stand-ins
# already built (testdata/gen/hives.sh, testdata/gen/mkpe/gen.sh).
#
# Writes testdata/winxp.raw.xz, testdata/win10.raw.xz, their manifests
# testdata/winxp.manifest and testdata/win10.manifest, and the small VMDK
# conversions under testdata/vmdk/. mkntfs stamps a random volume serial
# number and the current time, so a rebuild is equivalent, not identical.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

work=$(mktemp -d)
mnt=$work/mnt
mkdir -p "$mnt" "$work/pe"
cleanup() {
	fusermount -u "$mnt" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/mktree" ./testdata/gen/mktree
go build -o "$work/mkpe" ./testdata/gen/mkpe
cp testdata/pe/autochk-i386.exe testdata/pe/autochk-amd64.exe "$work/pe/"
# cmd.exe stand-ins: console-subsystem programs of each machine, so that
# architecture detection by PE header has something true to read.
"$work/mkpe" -machine i386 -subsystem console -variant hook -o "$work/pe/cmd-i386.exe"
"$work/mkpe" -machine amd64 -subsystem console -variant hook -o "$work/pe/cmd-amd64.exe"

# build_volume OS SECTORS HIDDEN: an NTFS volume of SECTORS 512-byte sectors
# whose partition starts at sector HIDDEN, holding the OS's tree.
build_volume() {
	local os=$1 sectors=$2 hidden=$3
	local vol=$work/$os.vol
	"$work/mktree" -os "$os" -hives "${FIXTURE_HIVES:-testdata/hives}/$os" -pe "$work/pe" \
		-out "$work/$os.tree" -manifest "testdata/$os.manifest" -fixups "$work/$os.fixups"
	truncate -s $((sectors * 512)) "$vol"
	mkntfs -F -Q -q -s 512 -p "$hidden" -H 255 -S 63 -c 4096 "$vol"
	# An empty capture configuration: by default wimlib leaves out
	# pagefile.sys, System Volume Information, RECYCLER and the like.
	: >"$work/wimcapture.ini"
	wimcapture "$work/$os.tree" "$work/$os.wim" --no-acls --compress=none --config="$work/wimcapture.ini" >/dev/null
	wimapply "$work/$os.wim" 1 "$vol" >/dev/null
	# Fixups through an ntfs-3g mount, then wait for ntfs-3g to exit so
	# that everything is on disk.
	ntfs-3g "$vol" "$mnt"
	local op path val
	while IFS=$'\t' read -r op path val; do
		case $op in
		dosname) setfattr -h -n system.ntfs_dos_name -v "$val" "$mnt/$path" ;;
		reparse) setfattr -h -n system.ntfs_reparse_data -v "0s$val" "$mnt/$path" ;;
		acl) setfattr -h -n system.ntfs_acl -v "0s$val" "$mnt/$path" ;;
		attrib) setfattr -h -n system.ntfs_attrib_be -v "$val" "$mnt/$path" ;;
		*) echo "unknown fixup $op" >&2; exit 1 ;;
		esac
	done <"$work/$os.fixups"
	fusermount -u "$mnt"
	while pgrep -f "ntfs-3g $vol" >/dev/null; do sleep 0.1; done
	# The volume must be clean for every reader.
	ntfsfix -n "$vol" >/dev/null
}

# --- winxp: 256 MiB MBR disk, one NTFS partition at 1 MiB -------------------
xp_sectors=$((256 * 2048))
xp_start=2048
xp_size=$((xp_sectors - xp_start))
build_volume winxp "$xp_size" "$xp_start"
rm -f "$work/winxp.raw"
truncate -s $((xp_sectors * 512)) "$work/winxp.raw"
sfdisk -q "$work/winxp.raw" <<SFDISK
label: dos
label-id: 0x7c3e5a12
unit: sectors

start=$xp_start, size=$xp_size, type=7, bootable
SFDISK
dd if="$work/winxp.vol" of="$work/winxp.raw" bs=1M seek=1 conv=notrunc,sparse status=none

# --- win10: 512 MiB GPT disk: EFI system partition, MSR, NTFS ---------------
w10_sectors=$((512 * 2048))
esp_start=2048 esp_size=$((100 * 2048))
msr_start=$((esp_start + esp_size)) msr_size=$((16 * 2048))
ntfs_start=$((msr_start + msr_size))
ntfs_size=$((w10_sectors - 2048 - ntfs_start))
build_volume win10 "$ntfs_size" "$ntfs_start"
truncate -s $((esp_size * 512)) "$work/esp.vol"
mkfs.fat -F 32 -s 1 -S 512 -n SYSTEM -i 5A1B2C3D --invariant -h "$esp_start" "$work/esp.vol" >/dev/null
xz -dc testdata/real/hives/BCD.xz >"$work/BCD"
MTOOLS_SKIP_CHECK=1 mmd -i "$work/esp.vol" ::/EFI ::/EFI/Microsoft ::/EFI/Microsoft/Boot ::/EFI/Boot
MTOOLS_SKIP_CHECK=1 mcopy -i "$work/esp.vol" "$work/BCD" ::/EFI/Microsoft/Boot/BCD
rm -f "$work/win10.raw"
truncate -s $((w10_sectors * 512)) "$work/win10.raw"
sfdisk -q "$work/win10.raw" <<SFDISK
label: gpt
label-id: 8C5A9D1E-3B27-4F60-9E14-7A2B6C0D5E31
unit: sectors
first-lba: 34

start=$esp_start, size=$esp_size, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=0A1B2C3D-4E5F-4061-8273-94A5B6C7D8E9, name="EFI system partition"
start=$msr_start, size=$msr_size, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE, uuid=1B2C3D4E-5F60-4172-8394-A5B6C7D8E9F0, name="Microsoft reserved partition"
start=$ntfs_start, size=$ntfs_size, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=5D1F0B6A-2C4E-4A7B-8E39-1F6D2B3C4A50, name="Basic data partition"
SFDISK
dd if="$work/esp.vol" of="$work/win10.raw" bs=512 seek="$esp_start" conv=notrunc,sparse status=none
dd if="$work/win10.vol" of="$work/win10.raw" bs=512 seek="$ntfs_start" conv=notrunc,sparse status=none

# --- compress and convert ---------------------------------------------------
mkdir -p testdata/vmdk
# streamOptimized only for winxp: about 5 MB each, and deflated grains do
# not compress further; tests convert win10 themselves (testimg.VMDK).
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$work/winxp.raw" testdata/vmdk/winxp-streamOptimized.vmdk
for os in winxp win10; do
	xz -9 -T0 -c "$work/$os.raw" >"testdata/$os.raw.xz"
	qemu-img convert -f raw -O vmdk -o subformat=monolithicSparse "$work/$os.raw" "$work/$os-monolithicSparse.vmdk"
	xz -9 -T0 -c "$work/$os-monolithicSparse.vmdk" >"testdata/vmdk/$os-monolithicSparse.vmdk.xz"
done
ls -l testdata/*.xz testdata/vmdk/
