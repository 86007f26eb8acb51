#!/bin/sh
# Side-by-side timing of the vmdk package and qemu-img on a 1 GiB disk
# holding ~300 MB of mixed data (random, text, written zeros; holes
# between), as issue 5 asks. Run from anywhere:
#
#	vmdk/testdata/bench/bench.sh [workdir]
#
# Each time is the best of RUNS runs (default 5), warm page cache, output
# file removed between runs; both tools are timed the same way (process
# start included). CPU time (user + system, from GNU time) is reported
# too: elapsed time on a shared machine is noisy. Targets: stream→raw ≤ 0.7 of qemu-img, raw→stream ≤ 0.6,
# random 4 KiB ReadAt on monolithicSparse ≤ 1.5 of a raw file.
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
w=${1:-$(mktemp -d)}
runs=${RUNS:-5}
mkdir -p "$w"
cd "$root"
go build -o "$w/bench" ./vmdk/testdata/bench
b=$w/bench

# best OUT CMD...: run CMD RUNS times, removing OUT before each; print the
# best elapsed time and the best CPU time (user + system), in seconds.
best() {
	out=$1; shift
	be= bc=
	i=0
	while [ $i -lt "$runs" ]; do
		rm -f "$out"
		/usr/bin/time -f "%e %U %S" -o "$w/time.txt" "$@" >/dev/null
		read -r e u s <"$w/time.txt"
		be=$(awk -v t="$e" -v b="$be" 'BEGIN { print (b == "" || t < b) ? t : b }')
		bc=$(awk -v t="$u" -v t2="$s" -v b="$bc" 'BEGIN { t += t2; print (b == "" || t < b) ? t : b }')
		i=$((i + 1))
	done
	echo "$be $bc"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# report WHAT OURS QEMU TARGET: both "elapsed cpu" pairs, with ratios.
report() {
	set -- "$1" $2 $3 "$4"
	echo "$1: elapsed ours $2 s, qemu-img $4 s: ratio $(ratio "$2" "$4") (target ≤ $6); CPU ours $3 s, qemu-img $5 s: ratio $(ratio "$3" "$5")"
}

[ -f "$w/disk.raw" ] || "$b" gen "$w/disk.raw"
echo "disk: $(du -h --apparent-size "$w/disk.raw" | cut -f1) virtual, $(du -h "$w/disk.raw" | cut -f1) allocated; $(nproc) CPUs; $(qemu-img --version | head -1)"

# raw → streamOptimized
q=$(best "$w/q.vmdk" qemu-img convert -O vmdk -o subformat=streamOptimized "$w/disk.raw" "$w/q.vmdk")
o=$(best "$w/o.vmdk" "$b" convert streamOptimized "$w/disk.raw" "$w/o.vmdk")
report "raw→stream (qemu-img $(du -h "$w/q.vmdk" | cut -f1), ours $(du -h "$w/o.vmdk" | cut -f1))" "$o" "$q" 0.60

# streamOptimized → raw, from qemu-img's stream and from ours
for s in q o; do
	q=$(best "$w/x.raw" qemu-img convert -O raw "$w/$s.vmdk" "$w/x.raw")
	o=$(best "$w/x.raw" "$b" convert raw "$w/$s.vmdk" "$w/x.raw")
	cmp "$w/x.raw" "$w/disk.raw"
	report "stream→raw ($s.vmdk)" "$o" "$q" 0.70
done

# random 4 KiB reads: monolithicSparse against the raw file
[ -f "$w/m.vmdk" ] || qemu-img convert -O vmdk -o subformat=monolithicSparse "$w/disk.raw" "$w/m.vmdk"
n=200000
# min2 A B: the smaller of two "elapsed cpu" pairs, field by field.
min2() { echo "$1 $2" | awk '{ print ($1 < $3 ? $1 : $3), ($2 < $4 ? $2 : $4) }'; }
for where in all data; do
	data=
	[ $where = data ] && data=$w/disk.raw
	r=$(BENCH_DATA=$data "$b" readat $n "$w/disk.raw")
	v=$(BENCH_DATA=$data "$b" readat $n "$w/m.vmdk")
	r=$(min2 "$r" "$(BENCH_DATA=$data "$b" readat $n "$w/disk.raw")")
	v=$(min2 "$v" "$(BENCH_DATA=$data "$b" readat $n "$w/m.vmdk")")
	set -- $v $r
	echo "ReadAt 4 KiB ($where offsets): elapsed monolithicSparse $1 ns, raw $3 ns: ratio $(ratio "$1" "$3") (target ≤ 1.50); CPU $2 ns, $4 ns: ratio $(ratio "$2" "$4")"
done
echo "workdir: $w"
