#!/usr/bin/env bash
# gen.sh rebuilds the LZNT1 seed files in this directory from compressed
# files written by ntfs-3g, an NTFS implementation no one here wrote.
#
# For each case it writes
#   <case>.unit   the stored clusters of one compression unit (16 clusters of
#                 4 KiB), exactly as on disk, including the slack after the
#                 last chunk up to the end of the last stored cluster;
#   <case>.plain  the bytes of the file that unit holds, as read back by
#                 ntfscat (shorter than 64 KiB for the file's last unit).
#
# Needs root (FUSE), ntfs-3g, mkntfs/ntfsinfo/ntfscat (ntfs-3g tools),
# setfattr (attr), openssl and perl. Usage: ./gen.sh (from any directory).
set -euo pipefail

out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pid=
cleanup() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		fusermount -u "$work/m" || true
		wait "$pid" || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# text N: N bytes of English-like text, deterministic (a fixed LCG picks words).
text() {
	perl -e '
		my @w = qw(the of and to in is that for it as with was on be by this
			are or from at which but not have an they their one all were
			volume cluster record attribute index file data stream unit
			compressed chunk block header offset length window back
			reference literal token flag byte word sector boot mirror
			journal bitmap allocation security descriptor parent child);
		my ($n, $s, $out, $line) = ($ARGV[0], 12345, "", "");
		while (length($out) < $n) {
			$s = ($s * 1103515245 + 12345) % 2147483648;
			$line .= $w[($s >> 8) % @w];
			if (length($line) > 64) { $out .= "$line.\n"; $line = "" }
			else { $line .= " " }
		}
		print substr($out, 0, $n);' "$1"
}

# random N SEED: N incompressible bytes, deterministic (AES-CTR keystream).
random() {
	head -c "$1" /dev/zero |
		openssl enc -aes-128-ctr -nosalt -K "$(printf '%032x' "$2")" -iv 0 2>/dev/null
}

# pattern N: N bytes of short repeating patterns (periods 1..12, runs of up
# to 700 bytes) between literal bursts: exercises overlapping back-references.
pattern() {
	perl -e '
		my ($n, $s, $out) = ($ARGV[0], 777, "");
		sub r { $s = ($s * 1103515245 + 12345) % 2147483648; return $s >> 8 }
		while (length($out) < $n) {
			my $p = join "", map { chr(r() % 256) } 1 .. (1 + r() % 12);
			my $len = 3 + r() % 700;
			$out .= substr($p x (1 + int($len / length $p)), 0, $len);
			$out .= join "", map { chr(r() % 256) } 1 .. (r() % 20);
		}
		print substr($out, 0, $n);' "$1"
}

cd "$work"
truncate -s 32M v.raw
mkntfs -F -Q -q -c 4096 v.raw >/dev/null 2>&1
mkdir m
ntfs-3g -o no_detach v.raw m >ntfs-3g.log 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q m && break; sleep 0.1; done
mountpoint -q m
mkdir m/dir
# FILE_ATTRIBUTE_DIRECTORY|FILE_ATTRIBUTE_COMPRESSED: new files inherit compression.
setfattr -h -n system.ntfs_attrib_be -v 0x00000810 m/dir

text 150000 >m/dir/text                                              # 3 units, last one partial
{ text 4000; head -c 28000 /dev/zero; text 1000; } >m/dir/zeros      # zero chunks
{ random 8192 1; text 6000; random 4096 2; text 2096; } >m/dir/mixed # raw + compressed chunks
{ text 8192; random 3900 3; } >m/dir/rawtail                         # short last chunk stored raw
pattern 24000 >m/dir/pattern                                         # overlapping references
sync
fusermount -u m
wait "$pid"
pid=

# unit FILE U CASE: write CASE.unit and CASE.plain for compression unit U of /dir/FILE.
unit() {
	local file=$1 u=$2 name=$3 lo hi vcn lcn len c n=0
	lo=$((u * 16))
	hi=$((lo + 16))
	: >"$out/$name.unit"
	# Runlist rows of the $DATA attribute: VCN LCN|<HOLE> length, in hex.
	while read -r vcn lcn len; do
		for ((c = $((vcn)); c < $((vcn)) + $((len)); c++)); do
			((c >= lo && c < hi)) || continue
			[[ $lcn == "<HOLE>" ]] && continue
			dd if=v.raw bs=4096 skip=$(($((lcn)) + c - $((vcn)))) count=1 status=none >>"$out/$name.unit"
			n=$((n + 1))
		done
	done < <(ntfsinfo -v -F "/dir/$file" v.raw |
		awk '/Dumping attribute \$DATA/ {d = 1} d && /Runlist:/ {r = 1; next}
			r && NF == 3 && $1 ~ /^0x/ {print} r && NF != 3 {r = 0}')
	if ((n == 0 || n == 16)); then
		echo "gen.sh: /dir/$file unit $u is not compressed ($n of 16 clusters stored)" >&2
		exit 1
	fi
	ntfscat v.raw "/dir/$file" >"$file.cat"
	dd if="$file.cat" of="$out/$name.plain" bs=65536 skip="$u" count=1 status=none
	echo "$name: /dir/$file unit $u, $n clusters stored, $(stat -c %s "$out/$name.plain") bytes plain"
}

unit text 1 text
unit text 2 text-tail
unit zeros 0 zeros
unit mixed 0 mixed
unit rawtail 0 rawtail
unit pattern 0 pattern
