#!/usr/bin/env bash
# Checks the hive fixtures with tools we did not write:
#   testdata/gen/verify-hives.sh [HIVEDIR]      (default: testdata/hives)
# Needs libhivex-bin, libwin-hivex-perl, libregf-utils, reglookup, python3-hivex and
# python3-libregf (Debian), and go (to build mkhive for the round trip).
#
#  1. hivexsh, hivexml, regfinfo, regfexport and reglookup open every hive without a
#     warning or error.
#  2. hivexregedit --export, merged into a fresh empty hive and exported again, gives
#     the same text (round trip).
#  3. hivexget (CLI) reads a few required values.
#  4. With python3-hivex and python3-libregf: every key and value of the .reg source is
#     in the hive with the same type and bytes, and nothing else is (both libraries);
#     the values the tests rely on are exact; header versions, root names and file-name
#     fields are as intended; every subkey list is in the order Windows needs (ascending
#     upper-cased names, read in on-disk order through libregf) and every lh hash is right.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../hives}
py=/usr/bin/python3 # Debian's python3-hivex/python3-libregf live there
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*" >&2
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$here/mkhive" && go build -o "$tmp/mkhive" .)

hives=(winxp/SYSTEM winxp/SOFTWARE winxp/SAM winxp/SECURITY winxp/default winxp/NTUSER.DAT
	win10/SYSTEM win10/SOFTWARE win10/SAM win10/SECURITY win10/DEFAULT win10/NTUSER.DAT)

prefix() {
	case $1 in
	*/NTUSER.DAT) echo 'HKEY_CURRENT_USER' ;;
	*/default | */DEFAULT) echo 'HKEY_USERS\.DEFAULT' ;;
	*) echo "HKEY_LOCAL_MACHINE\\${1#*/}" ;;
	esac
}

# 1. Every tool opens every hive, silently.
for h in "${hives[@]}"; do
	f=$dir/$h
	if out=$(printf 'ls\n' | hivexsh "$f" 2>&1 >/dev/null) && [ -z "$out" ]; then ok; else bad "hivexsh $h: $out"; fi
	if out=$(hivexml "$f" 2>&1 >/dev/null) && [ -z "$out" ]; then ok; else bad "hivexml $h: $out"; fi
	if out=$(regfinfo "$f" 2>&1 >/dev/null) && [ -z "$out" ]; then ok; else bad "regfinfo $h: $out"; fi
	if out=$(regfexport "$f" 2>&1 >/dev/null) && [ -z "$out" ]; then ok; else bad "regfexport $h: $out"; fi
	# reglookup warns "Data could not be interpreted" on SAM's Aliases\Members values (string
	# types holding RIDs); it does the same on real SAM hives, so only that warning is allowed.
	out=$(reglookup "$f" 2>&1 >/dev/null) || out="exit status $? $out"
	case $h in */SAM) out=$(grep -v "^WARN: While quoting value for '/SAM/Domains/Builtin/Aliases/Members/.*Data could not be interpreted, quoting raw buffer.$" <<<"$out" || true) ;; esac
	if [ -z "$out" ]; then ok; else bad "reglookup $h: $out"; fi
done

# 2. Export, re-import into an empty hive, export again: same text.
for h in "${hives[@]}"; do
	p=$(prefix "$h")
	hivexregedit --export --prefix "$p" "$dir/$h" '\' >"$tmp/a.reg"
	"$tmp/mkhive" -root ROOT -o "$tmp/rt.hive"
	if hivexregedit --merge --prefix "$p" "$tmp/rt.hive" "$tmp/a.reg" &&
		hivexregedit --export --prefix "$p" "$tmp/rt.hive" '\' >"$tmp/b.reg" && cmp -s "$tmp/a.reg" "$tmp/b.reg"; then
		ok
	else
		bad "hivexregedit round trip $h"
	fi
done

# 3. hivexget spot checks.
want() { # HIVE KEY VALUE EXPECTED
	local got
	got=$(hivexget "$dir/$1" "$2" "$3" 2>&1) || true
	if [ "$got" = "$4" ]; then ok; else bad "hivexget $1 '$2' $3: got '$got', want '$4'"; fi
}
want winxp/SYSTEM 'Select' Current 1
want winxp/SYSTEM 'Select' LastKnownGood 2
want winxp/SYSTEM 'ControlSet001\Control\Session Manager' BootExecute "autocheck autochk *"
want winxp/SYSTEM 'ControlSet002\Control\Session Manager' BootExecute "autocheck autochk *"
want winxp/SYSTEM 'ControlSet001\Control\ComputerName\ComputerName' ComputerName WINXP-GOLD
want winxp/SYSTEM 'ControlSet001\Services\Tcpip\Parameters\Interfaces\{5C3D7A1E-8B2F-4E61-9A0D-3F4B2C1E6D70}' EnableDHCP 1
want winxp/SOFTWARE 'Microsoft\Windows NT\CurrentVersion' CurrentBuildNumber 2600
want winxp/SOFTWARE 'Microsoft\Windows NT\CurrentVersion\Time Zones\Tokyo Standard Time' Index 235
want win10/SYSTEM 'Select' LastKnownGood 1
want win10/SYSTEM 'ControlSet001\Control\ComputerName\ComputerName' ComputerName DESKTOP-7K2M9QF
want win10/SOFTWARE 'Microsoft\Windows NT\CurrentVersion' UBR 3803
want win10/SOFTWARE 'Microsoft\Windows\CurrentVersion\Setup\State' ImageState IMAGE_STATE_COMPLETE

# 4. Content, exact values, order, hashes (python3-hivex and python3-libregf).
if out=$("$py" - "$dir" "$here/reg" <<'PYEOF'
import struct, sys, os, re
import hivex, pyregf

hdir, rdir = sys.argv[1], sys.argv[2]
fails = []
npass = 0
def check(cond, what):
    global npass
    if cond:
        npass += 1
    else:
        fails.append(what)

FILES = {'winxp': ['SYSTEM', 'SOFTWARE', 'SAM', 'SECURITY', 'default', 'NTUSER.DAT'],
         'win10': ['SYSTEM', 'SOFTWARE', 'SAM', 'SECURITY', 'DEFAULT', 'NTUSER.DAT']}

def parse_reg(path, prefix):
    """regedit-5 text -> {lower key path: (path, {lower value name: (name, type, bytes)})}"""
    keys = {}
    text = open(path, encoding='utf-8').read()
    text = re.sub(r'\\\n\s*', '', text)
    cur = None
    for line in text.split('\n'):
        if not line or line.startswith(';') or line.startswith('Windows Registry Editor'):
            continue
        if line.startswith('['):
            path = line[1:-1]
            assert path.startswith(prefix + '\\'), path
            path = path[len(prefix) + 1:]
            cur = keys.setdefault(path.lower(), (path, {}))[1]
            continue
        m = re.match(r'^(@|"((?:[^"\\]|\\.)*)")=(.*)$', line)
        name = '' if m.group(1) == '@' else re.sub(r'\\(.)', r'\1', m.group(2))
        v = m.group(3)
        if v.startswith('"'):
            t, d = 1, (re.sub(r'\\(.)', r'\1', v[1:-1]) + '\0').encode('utf-16le')
        elif v.startswith('dword:'):
            t, d = 4, struct.pack('<I', int(v[6:], 16))
        else:
            mm = re.match(r'hex(?:\(([0-9a-f]+)\))?:(.*)', v)
            t = int(mm.group(1), 16) if mm.group(1) else 3
            d = bytes.fromhex(mm.group(2).replace(',', ''))
        cur[name.lower()] = (name, t, d)
    return keys

def prefix(f):
    if f == 'NTUSER.DAT':
        return 'HKEY_CURRENT_USER'
    if f in ('default', 'DEFAULT'):
        return 'HKEY_USERS\\.DEFAULT'
    return 'HKEY_LOCAL_MACHINE\\' + f

def walk_hivex(path):
    h = hivex.Hivex(path)
    out = {}
    def rec(node, p):
        vals = {}
        for v in h.node_values(node):
            t, d = h.value_value(v)
            k = h.value_key(v)
            vals[k.lower()] = (k, t, d)
        out[p.lower()] = (p, vals)
        for c in h.node_children(node):
            rec(c, (p + '\\' if p else '') + h.node_name(c))
    rec(h.root(), '')
    return out

def walk_regf(path):
    f = pyregf.file(); f.open(path)
    out = {}; order = {}
    def rec(k, p):
        vals = {}
        for i in range(k.number_of_values):
            v = k.get_value(i)
            n = v.name or ''
            vals[n.lower()] = (n, v.type, v.data or b'')
        out[p.lower()] = (p, vals)
        subs = [k.get_sub_key(i) for i in range(k.number_of_sub_keys)]
        order[p] = [s.name for s in subs]
        for s in subs:
            rec(s, (p + '\\' if p else '') + s.name)
    rec(f.get_root_key(), '')
    return out, order

def utf16_upper_key(name):
    return [ord(c) for c in name.upper().encode('utf-16le').decode('utf-16le')]

def raw_checks(path, label):
    b = open(path, 'rb').read()
    le = lambda fmt, o: struct.unpack_from('<' + fmt, b, o)[0]
    c = 0
    for i in range(127):
        c ^= le('I', 4 * i)
    c = {0: 1, 0xffffffff: 0xfffffffe}.get(c, c)
    check(b[:4] == b'regf' and le('I', 4) == le('I', 8) and le('I', 508) == c, label + ': base block (sequence numbers, checksum)')
    size = le('I', 40)
    check(len(b) == 4096 + size, label + ': file size = 4096 + hive bins size')
    off, tiled = 4096, True
    while off < 4096 + size:
        if b[off:off + 4] != b'hbin' or le('I', off + 4) != off - 4096:
            tiled = False; break
        bsz = le('I', off + 8); p = off + 32
        while p < off + bsz:
            cs = abs(le('i', p))
            if cs < 8 or cs % 8:
                tiled = False; break
            p += cs
        tiled = tiled and p == off + bsz
        off += bsz
    check(tiled and off == 4096 + size, label + ': bins contiguous, cells tile each bin')
    # lh hashes: h = 37*h + c over the upper-cased name.
    bad = []
    def cell(o): return 4096 + o + 4
    def name(o):
        q = cell(o); fl = le('H', q + 2); n = le('H', q + 72)
        raw = b[q + 76:q + 76 + n]
        return raw.decode('latin-1') if fl & 0x20 else raw.decode('utf-16le')
    def walk(o):
        q = cell(o)
        if le('I', q + 20) == 0:
            return
        lo = cell(le('I', q + 28)); sig = b[lo:lo + 2]; n = le('H', lo + 2)
        for i in range(n):
            ko = le('I', lo + 4 + 8 * i)
            if sig == b'lh':
                hh = 0
                for ch in name(ko).upper():
                    hh = (hh * 37 + ord(ch)) & 0xffffffff
                if hh != le('I', lo + 8 + 8 * i):
                    bad.append(name(ko))
            walk(ko)
    walk(le('I', 36))
    check(not bad, label + ': lh hashes %s' % bad[:3])

# What each hive's header should say.
HEAD = {'winxp': {'SYSTEM': (5, '$$$PROTO.HIV', 'SYSTEM'),
                  'SOFTWARE': (5, '$$$PROTO.HIV', 'emRoot\\System32\\Config\\SOFTWARE'),
                  'SAM': (3, 'SAM', '\\SystemRoot\\System32\\Config\\SAM'),
                  'SECURITY': (3, 'SECURITY', 'emRoot\\System32\\Config\\SECURITY'),
                  'default': (3, '$$$PROTO.HIV', 'temRoot\\System32\\Config\\DEFAULT'),
                  'NTUSER.DAT': (3, '$$$PROTO.HIV', 'ttings\\Administrator\\ntuser.dat')},
        'win10': {'SYSTEM': (5, 'ROOT', 'SYSTEM'),
                  'SOFTWARE': (5, 'ROOT', 'emRoot\\System32\\Config\\SOFTWARE'),
                  'SAM': (3, 'ROOT', '\\SystemRoot\\System32\\Config\\SAM'),
                  'SECURITY': (5, 'ROOT', 'emRoot\\System32\\Config\\SECURITY'),
                  'DEFAULT': (3, 'ROOT', 'temRoot\\System32\\Config\\DEFAULT'),
                  'NTUSER.DAT': (3, 'ROOT', '\\??\\C:\\Users\\Admin\\ntuser.dat')}}

U = lambda s: (s + '\0').encode('utf-16le')
M = lambda *l: (''.join(x + '\0' for x in l) + '\0').encode('utf-16le')
D = lambda x: struct.pack('<I', x & 0xffffffff)
Q = lambda x: struct.pack('<Q', x)
XPNIC = '{5C3D7A1E-8B2F-4E61-9A0D-3F4B2C1E6D70}'
W10NIC = '{A7E3C1D2-6B4F-4F8A-9C21-0D3E5F7A8B9C}'
PACIFIC_TZI = bytes.fromhex('e001000000000000c4ffffff' '00000b00000001000200000000000000' '00000300000002000200000000000000')
CS1 = 'ControlSet001\\'
EXPECT = [  # os, hive, key, value, type, data
 ('winxp', 'SYSTEM', 'Select', 'Current', 4, D(1)), ('winxp', 'SYSTEM', 'Select', 'Default', 4, D(1)),
 ('winxp', 'SYSTEM', 'Select', 'Failed', 4, D(0)), ('winxp', 'SYSTEM', 'Select', 'LastKnownGood', 4, D(2)),
 ('winxp', 'SYSTEM', CS1 + 'Control\\Session Manager', 'BootExecute', 7, M('autocheck autochk *')),
 ('winxp', 'SYSTEM', 'ControlSet002\\Control\\Session Manager', 'BootExecute', 7, M('autocheck autochk *')),
 ('winxp', 'SYSTEM', CS1 + 'Control\\Session Manager\\Environment', 'PROCESSOR_ARCHITECTURE', 1, U('x86')),
 ('winxp', 'SYSTEM', CS1 + 'Control\\Session Manager\\Environment', 'OS', 1, U('Windows_NT')),
 ('winxp', 'SYSTEM', CS1 + 'Control\\Session Manager\\Environment', 'Path', 2, U('%SystemRoot%\\system32;%SystemRoot%;%SystemRoot%\\System32\\Wbem')),
 ('winxp', 'SYSTEM', CS1 + 'Control\\ComputerName\\ComputerName', 'ComputerName', 1, U('WINXP-GOLD')),
 ('winxp', 'SYSTEM', 'ControlSet002\\Control\\ComputerName\\ComputerName', 'ComputerName', 1, U('WINXP-GOLD')),
 ('winxp', 'SYSTEM', CS1 + 'Control\\ProductOptions', 'ProductType', 1, U('WinNT')),
 ('winxp', 'SYSTEM', CS1 + 'Control\\Windows', 'CSDVersion', 4, D(0x300)),
 ('winxp', 'SYSTEM', CS1 + 'Control\\Class\\{4D36E972-E325-11CE-BFC1-08002BE10318}', '', 1, U('Network adapters')),
 ('winxp', 'SYSTEM', CS1 + 'Control\\Class\\{4D36E972-E325-11CE-BFC1-08002BE10318}', 'Class', 1, U('Net')),
 ('winxp', 'SYSTEM', CS1 + 'Control\\Class\\{4D36E972-E325-11CE-BFC1-08002BE10318}\\0001', 'DriverDesc', 1, U('Intel(R) PRO/1000 MT Network Connection')),
 ('winxp', 'SYSTEM', CS1 + 'Control\\Class\\{4D36E972-E325-11CE-BFC1-08002BE10318}\\0001', 'MatchingDeviceId', 1, U('pci\\ven_8086&dev_100f')),
 ('winxp', 'SYSTEM', CS1 + 'Control\\Class\\{4D36E972-E325-11CE-BFC1-08002BE10318}\\0001', 'NetCfgInstanceId', 1, U(XPNIC)),
 ('winxp', 'SYSTEM', CS1 + 'Control\\Class\\{4D36E972-E325-11CE-BFC1-08002BE10318}\\0001', 'Characteristics', 4, D(0x84)),
 ('winxp', 'SYSTEM', CS1 + 'Control\\Class\\{4D36E972-E325-11CE-BFC1-08002BE10318}\\0001\\Linkage', 'Export', 7, M('\\Device\\' + XPNIC)),
 ('winxp', 'SYSTEM', CS1 + 'Enum\\PCI\\VEN_8086&DEV_100F&SUBSYS_075015AD&REV_01\\4&B70F118&0&0888', 'Driver', 1, U('{4D36E972-E325-11CE-BFC1-08002BE10318}\\0001')),
 ('winxp', 'SYSTEM', CS1 + 'Enum\\PCI\\VEN_8086&DEV_100F&SUBSYS_075015AD&REV_01\\4&B70F118&0&0888', 'LocationInformation', 1, U('PCI bus 2, device 1, function 0')),
 ('winxp', 'SYSTEM', CS1 + 'Enum\\PCI\\VEN_8086&DEV_100F&SUBSYS_075015AD&REV_01\\4&B70F118&0&0888', 'Service', 1, U('E1000')),
 ('winxp', 'SYSTEM', CS1 + 'Services\\Tcpip\\Parameters', 'Hostname', 1, U('WINXP-GOLD')),
 ('winxp', 'SYSTEM', CS1 + 'Services\\Tcpip\\Parameters', 'NV Hostname', 1, U('WINXP-GOLD')),
 ('winxp', 'SYSTEM', CS1 + 'Services\\Tcpip\\Parameters', 'Domain', 1, U('')),
 ('winxp', 'SYSTEM', CS1 + 'Services\\Tcpip\\Parameters\\Interfaces\\' + XPNIC, 'EnableDHCP', 4, D(1)),
 ('winxp', 'SYSTEM', CS1 + 'Services\\Tcpip\\Parameters\\Interfaces\\' + XPNIC, 'IPAddress', 7, M('0.0.0.0')),
 ('winxp', 'SYSTEM', CS1 + 'Services\\Tcpip\\Parameters\\Interfaces\\' + XPNIC, 'DefaultGateway', 7, M()),
 ('winxp', 'SYSTEM', CS1 + 'Services\\NetBT\\Parameters\\Interfaces\\Tcpip_' + XPNIC, 'NetbiosOptions', 4, D(0)),
 ('winxp', 'SYSTEM', CS1 + 'Services\\E1000', 'Type', 4, D(1)), ('winxp', 'SYSTEM', CS1 + 'Services\\E1000', 'Start', 4, D(3)),
 ('winxp', 'SYSTEM', CS1 + 'Services\\E1000', 'ImagePath', 2, U('system32\\DRIVERS\\e1000325.sys')),
 ('winxp', 'SYSTEM', CS1 + 'Services\\E1000', 'Group', 1, U('NDIS')),
 ('winxp', 'SYSTEM', CS1 + 'Control\\TimeZoneInformation', 'Bias', 4, D(480)),
 ('winxp', 'SYSTEM', 'MountedDevices', '\\DosDevices\\C:', 3, bytes.fromhex('125a3e7c0000100000000000')),
 ('winxp', 'SYSTEM', 'Setup', 'SystemSetupInProgress', 4, D(0)), ('winxp', 'SYSTEM', 'Setup', 'SetupType', 4, D(0)),
 ('winxp', 'SYSTEM', 'Setup', 'CmdLine', 1, U('setup -newsetup')),
 ('winxp', 'SYSTEM', 'Setup', 'SystemPartition', 1, U('\\Device\\HarddiskVolume1')),
 ('winxp', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion', 'ProductName', 1, U('Microsoft Windows XP')),
 ('winxp', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion', 'CurrentVersion', 1, U('5.1')),
 ('winxp', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion', 'CurrentBuild', 1, U('2600.xpsp.080413-2111')),
 ('winxp', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion', 'CSDVersion', 1, U('Service Pack 3')),
 ('winxp', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion', 'SystemRoot', 1, U('C:\\WINDOWS')),
 ('winxp', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion', 'ProductId', 1, U('76487-OEM-0011903-00102')),
 ('winxp', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion\\Winlogon', 'Shell', 1, U('Explorer.exe')),
 ('winxp', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion\\Winlogon', 'AutoAdminLogon', 1, U('0')),
 ('winxp', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion\\Time Zones\\Pacific Standard Time', 'TZI', 3, PACIFIC_TZI),
 ('winxp', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\S-1-5-21-2183741645-3219871934-1567301829-500',
  'ProfileImagePath', 2, U('%SystemDrive%\\Documents and Settings\\Administrator')),
 ('winxp', 'SOFTWARE', 'Microsoft\\Windows\\CurrentVersion', 'ProgramFilesDir', 1, U('C:\\Program Files')),
 ('winxp', 'SAM', 'SAM\\Domains\\Account\\Users\\Names\\Administrator', '', 0x1f4, b''),
 ('winxp', 'SAM', 'SAM\\Domains\\Account\\Users\\Names\\Guest', '', 0x1f5, b''),
 ('winxp', 'SECURITY', 'Policy\\PolAcDmS', '', 0, bytes.fromhex('010400000000000515000000cd402982be58ebbfc5206b5d')),
 ('winxp', 'NTUSER.DAT', 'Control Panel\\International', 'Locale', 1, U('00000409')),
 ('winxp', 'NTUSER.DAT', 'Keyboard Layout\\Preload', '1', 1, U('00000409')),
 ('win10', 'SYSTEM', 'Select', 'LastKnownGood', 4, D(1)),
 ('win10', 'SYSTEM', CS1 + 'Control\\Session Manager', 'BootExecute', 7, M('autocheck autochk *')),
 ('win10', 'SYSTEM', CS1 + 'Control\\ComputerName\\ComputerName', 'ComputerName', 1, U('DESKTOP-7K2M9QF')),
 ('win10', 'SYSTEM', CS1 + 'Control\\Session Manager\\Environment', 'PROCESSOR_ARCHITECTURE', 1, U('AMD64')),
 ('win10', 'SYSTEM', CS1 + 'Control\\Class\\{4d36e972-e325-11ce-bfc1-08002be10318}\\0001', 'DriverDesc', 1, U('Intel(R) 82574L Gigabit Network Connection')),
 ('win10', 'SYSTEM', CS1 + 'Control\\Class\\{4d36e972-e325-11ce-bfc1-08002be10318}\\0001', 'NetCfgInstanceId', 1, U(W10NIC)),
 ('win10', 'SYSTEM', CS1 + 'Control\\Class\\{4d36e972-e325-11ce-bfc1-08002be10318}\\0001', '*IfType', 4, D(6)),
 ('win10', 'SYSTEM', CS1 + 'Services\\Tcpip\\Parameters\\Interfaces\\' + W10NIC, 'EnableDHCP', 4, D(1)),
 ('win10', 'SYSTEM', 'MountedDevices', '\\DosDevices\\C:', 3, b'DMIO:ID:' + bytes.fromhex('6a0b1f5d4e2c7b4a8e391f6d2b3c4a50')),
 ('win10', 'SYSTEM', 'Setup', 'CmdLine', 1, U('')), ('win10', 'SYSTEM', 'Setup', 'OOBEInProgress', 4, D(0)),
 ('win10', 'SYSTEM', CS1 + 'Control\\TimeZoneInformation', 'TimeZoneKeyName', 1, U('Pacific Standard Time')),
 ('win10', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion', 'ProductName', 1, U('Windows 10 Pro')),
 ('win10', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion', 'CurrentMajorVersionNumber', 4, D(10)),
 ('win10', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion', 'UBR', 4, D(3803)),
 ('win10', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion', 'DisplayVersion', 1, U('22H2')),
 ('win10', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion\\Time Zones\\Pacific Standard Time', 'TZI', 3, PACIFIC_TZI),
 ('win10', 'SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\S-1-5-21-1847522761-2946178233-4058326117-1001',
  'ProfileImagePath', 2, U('C:\\Users\\Admin')),
 ('win10', 'SOFTWARE', 'Microsoft\\Windows\\CurrentVersion\\Setup\\State', 'ImageState', 1, U('IMAGE_STATE_COMPLETE')),
 ('win10', 'SAM', 'SAM\\Domains\\Account\\Users\\Names\\Admin', '', 0x3e9, b''),
]

for os_, files in FILES.items():
    for f in files:
        path = os.path.join(hdir, os_, f)
        label = '%s/%s' % (os_, f)
        raw_checks(path, label)
        b = open(path, 'rb').read()
        minor, root, fname = HEAD[os_][f]
        got_name = b[48:112].decode('utf-16le').split('\0')[0]
        hv = walk_hivex(path)
        rg, order = walk_regf(path)
        check(struct.unpack_from('<II', b, 20) == (1, minor), label + ': version 1.%d' % minor)
        check(got_name == fname, label + ': file name field %r' % got_name)
        hx = hivex.Hivex(path)
        check(hx.node_name(hx.root()) == root, label + ': root name')
        src = parse_reg(os.path.join(rdir, os_, f + '.reg'), prefix(f))
        check(set(src) == set(hv) - {''} and set(src) == set(rg) - {''}, label + ': same key set as the .reg source')
        for k, (p, vals) in src.items():
            want = {n: (t, d) for n, (_, t, d) in vals.items()}
            got = {n: (t, d) for n, (_, t, d) in hv.get(k, (p, {}))[1].items()}
            check(got == want, '%s: hivex: values of %s differ from the source' % (label, p))
            # libregf 20201007 returns the last N bytes of the 4-byte field for inline data of
            # 1..3 bytes (the spec and hivex: the first N), and cuts string types at the first
            # UTF-16 NUL: compare those by type and prefix only.
            got = {n: (t, d) for n, (_, t, d) in rg.get(k, (p, {}))[1].items()}
            same = set(got) == set(want)
            for n in set(want) & set(got) if same else ():
                (wt, wd), (gt, gd) = want[n], got[n]
                if 0 < len(wd) < 4:
                    same &= wt == gt
                elif wt in (1, 2, 7):
                    same &= wt == gt and wd.startswith(gd)
                else:
                    same &= (wt, wd) == (gt, gd)
            check(same, '%s: libregf: values of %s differ from the source' % (label, p))
        for k, subs in order.items():
            check(subs == sorted(subs, key=utf16_upper_key), '%s: subkeys of %r not in upper-case order' % (label, k))
for os_, f, k, v, t, d in EXPECT:
    hv = walk_hivex(os.path.join(hdir, os_, f))
    got = hv.get(k.lower(), ('', {}))[1].get(v.lower())
    check(got is not None and got[1:] == (t, d), '%s/%s %s\\%s: got %r' % (os_, f, k, v, got))

print('python checks: %d passed, %d failed' % (npass, len(fails)))
for x in fails:
    print('FAIL: ' + x)
sys.exit(1 if fails else 0)
PYEOF
); then
	echo "$out"
	ok
else
	echo "$out" >&2
	bad "python3-hivex/python3-libregf checks"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
