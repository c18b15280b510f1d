# shellcheck shell=sh
# In-guest half of tests/bench: every case on stock and with the module,
# all in one boot.  A case runs in back-to-back pairs (stock then module,
# or module then stock, alternating), so that a slow spell of the host
# lands on both sides of a pair rather than on one mode's block.  Cases
# that take a second run 3 x BENCH_REPS pairs, slower ones fewer.
# Lines on fd 3: BENCH <stock|guard> <case> <ns>.
. /payload/bench.env

# bench_case CASE: one measurement, "<what> <ns>" on stdout
bench_case() {
	case $1 in
	fork) /payload/pgbench fork 2000 ;;
	nscycle) /payload/pgbench nscycle 1000 ;;
	teardown-10) /payload/pgbench teardown 10 0 101 ;;
	teardown-1000) /payload/pgbench teardown 1000 0 3 ;;
	teardown-1000-threads) /payload/pgbench teardown 100 9 5 ;;
	teardown-10000) /payload/pgbench teardown 10000 ;;
	release-to-reap) /payload/pgbench release 201 ;;
	esac
}

bench_pairs() {
	case $1 in
	teardown-1000|teardown-10000) echo "$BENCH_REPS" ;;
	teardown-1000-threads) echo $((2 * BENCH_REPS)) ;;
	*) echo $((3 * BENCH_REPS)) ;;
	esac
}

# bench_one MODE CASE: one measurement, reported on fd 3
bench_one() {
	_ns=$(bench_case "$2" | awk '{ print $2 }')
	[ -n "$_ns" ] || return 1
	echo "BENCH $1 $2 $_ns" >&3
}

# bench_pair FIRST CASE: one measurement in each mode, FIRST first
bench_pair() {
	if [ "$1" = stock ]; then
		bench_one stock "$2" || return 1
	fi
	insmod /payload/pidns_guard.ko || return 1
	bench_one guard "$2" || return 1
	rmmod pidns_guard || return 1
	if [ "$1" = guard ]; then
		bench_one stock "$2" || return 1
	fi
	return 0
}

echo 50000 >/proc/sys/kernel/pid_max
for _c in fork nscycle teardown-10 teardown-1000 teardown-1000-threads \
	  teardown-10000 release-to-reap; do
	bench_case "$_c" >/dev/null	# warm-up: caches, slabs, pid table
	_n=$(bench_pairs "$_c")
	_r=1
	while [ $_r -le "$_n" ]; do
		if [ $((_r % 2)) -eq 1 ]; then
			bench_pair stock "$_c" || echo "BENCH-FAILED $_c" >&3
		else
			bench_pair guard "$_c" || echo "BENCH-FAILED $_c" >&3
		fi
		_r=$((_r + 1))
	done
done
