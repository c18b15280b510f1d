# shellcheck shell=sh
# In-guest half of tests/bench: every case on stock and with the module,
# alternating which goes first each repetition, all in one boot.
# Lines on fd 3: BENCH <stock|guard> <case> <ns>.
. /payload/bench.env

bench_cases() {
	/payload/pgbench fork 2000
	/payload/pgbench nscycle 1000
	/payload/pgbench teardown 10 0 51 | sed 's/^teardown/teardown-10/'
	/payload/pgbench teardown 1000 0 5 | sed 's/^teardown/teardown-1000/'
	/payload/pgbench teardown 100 9 5 | sed 's/^teardown/teardown-1000-threads/'
	/payload/pgbench teardown 10000 | sed 's/^teardown/teardown-10000/'
	/payload/pgbench release 51 | sed 's/^release/release-to-reap/'
}

bench_mode() {
	[ "$1" = guard ] && { insmod /payload/pidns_guard.ko || return 1; }
	bench_cases | while read -r _case _ns; do
		echo "BENCH $1 $_case $_ns" >&3
	done
	[ "$1" = guard ] && rmmod pidns_guard
	return 0
}

echo 50000 >/proc/sys/kernel/pid_max
_r=1
while [ $_r -le "$BENCH_REPS" ]; do
	if [ $((_r % 2)) -eq 1 ]; then
		bench_mode stock && bench_mode guard
	else
		bench_mode guard && bench_mode stock
	fi
	_r=$((_r + 1))
done
