#!/usr/bin/env bash
# Builds the Windows XP and Windows 10 registry hive fixtures:
#   testdata/gen/hives.sh OUTDIR        (the checked-in copies live in testdata/hives)
# writes OUTDIR/winxp/{SYSTEM,SOFTWARE,SAM,SECURITY,default,NTUSER.DAT} and
# OUTDIR/win10/{SYSTEM,SOFTWARE,SAM,SECURITY,DEFAULT,NTUSER.DAT}.
#
# Each hive starts as an empty regf file from ./mkhive (our code: base block, one bin,
# root key, one security cell), then hivexregedit --merge (libwin-hivex-perl, a tool we
# did not write) adds every key and value from reg/<os>/<hive>.reg.
#
# Versions, root names and base-block file names follow what Windows writes (see
# mkhive/main.go): SYSTEM and SOFTWARE use the "latest" format 1.5 and SAM, SECURITY,
# DEFAULT and NTUSER.DAT the "standard" format 1.3 (Microsoft, "Registry Hives"), except
# that Windows 10's SECURITY is 1.5 as in a real Windows 10 hive. hivex stores values
# above 16344 bytes in one cell, which is right only below 1.4: the one such value
# (Explorer's ProgramsCache, about 23 KB) sits in the XP NTUSER.DAT, a 1.3 hive.
#
# Output is deterministic: mkhive writes fixed timestamps and hivex gives each new key
# its parent's timestamp and leaves the base-block time alone, so reruns are identical.
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
out=$1
command -v hivexregedit >/dev/null || {
	echo "$0: hivexregedit not found (apt-get install libwin-hivex-perl)" >&2
	exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$here/mkhive" && go build -o "$tmp/mkhive" .)

XP_TIME=2009-06-15T10:30:00Z
W10_TIME=2024-01-15T09:30:00Z
XP_ADMIN=S-1-5-21-2183741645-3219871934-1567301829-500
W10_ADMIN=S-1-5-21-1847522761-2946178233-4058326117-1001

# hive OS FILE ROOT MINOR BASE-BLOCK-PATH SD USER TIME PREFIX
hive() {
	local os=$1 file=$2 root=$3 minor=$4 path=$5 sd=$6 user=$7 time=$8 prefix=$9
	local dst="$out/$os/$file"
	mkdir -p "$out/$os"
	"$tmp/mkhive" -root "$root" -minor "$minor" -file "$path" -sd "$sd" -user "$user" -time "$time" -o "$dst.tmp"
	hivexregedit --merge --prefix "$prefix" "$dst.tmp" "$here/reg/$os/$file.reg"
	mv "$dst.tmp" "$dst"
}

# Windows XP SP3: setup-built hives have the root "$$$PROTO.HIV"; SAM and SECURITY,
# created by the kernel at first boot, are rooted at their own names.
hive winxp SYSTEM '$$$PROTO.HIV' 5 'SYSTEM' xp '' "$XP_TIME" 'HKEY_LOCAL_MACHINE\SYSTEM'
hive winxp SOFTWARE '$$$PROTO.HIV' 5 '\SystemRoot\System32\Config\SOFTWARE' xp '' "$XP_TIME" 'HKEY_LOCAL_MACHINE\SOFTWARE'
hive winxp SAM SAM 3 '\SystemRoot\System32\Config\SAM' xp '' "$XP_TIME" 'HKEY_LOCAL_MACHINE\SAM'
hive winxp SECURITY SECURITY 3 '\SystemRoot\System32\Config\SECURITY' security '' "$XP_TIME" 'HKEY_LOCAL_MACHINE\SECURITY'
hive winxp default '$$$PROTO.HIV' 3 '\SystemRoot\System32\Config\DEFAULT' xp '' "$XP_TIME" 'HKEY_USERS\.DEFAULT'
hive winxp NTUSER.DAT '$$$PROTO.HIV' 3 '\??\C:\Documents and Settings\Administrator\ntuser.dat' user-xp "$XP_ADMIN" "$XP_TIME" 'HKEY_CURRENT_USER'

# Windows 10 22H2: every root is "ROOT"; the boot loader's SYSTEM hive is named "SYSTEM".
hive win10 SYSTEM ROOT 5 'SYSTEM' win10 '' "$W10_TIME" 'HKEY_LOCAL_MACHINE\SYSTEM'
hive win10 SOFTWARE ROOT 5 '\SystemRoot\System32\Config\SOFTWARE' win10 '' "$W10_TIME" 'HKEY_LOCAL_MACHINE\SOFTWARE'
hive win10 SAM ROOT 3 '\SystemRoot\System32\Config\SAM' win10 '' "$W10_TIME" 'HKEY_LOCAL_MACHINE\SAM'
hive win10 SECURITY ROOT 5 '\SystemRoot\System32\Config\SECURITY' security '' "$W10_TIME" 'HKEY_LOCAL_MACHINE\SECURITY'
hive win10 DEFAULT ROOT 3 '\SystemRoot\System32\Config\DEFAULT' win10 '' "$W10_TIME" 'HKEY_USERS\.DEFAULT'
hive win10 NTUSER.DAT ROOT 3 '\??\C:\Users\Admin\ntuser.dat' user-win10 "$W10_ADMIN" "$W10_TIME" 'HKEY_CURRENT_USER'
