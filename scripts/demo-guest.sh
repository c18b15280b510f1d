# shellcheck shell=sh
# Runs inside the demo guest (see scripts/demo.sh); talks on fd 3.
exec 1>&3 2>&1
dbg=/sys/kernel/debug/pidns_guard
say() { printf '\n=== %s\n' "$*"; }

say "kernel $(uname -r): loading pidns_guard with scripts/load.sh"
PG_KO=/payload/pidns_guard.ko sh /payload/load.sh || exit 1

say "stats before"
cat $dbg/stats

say "a container whose init is killed while one of its tasks is traced from outside"
mkfifo /tmp/release
/payload/pgtest hold --kind zombie --release-fifo /tmp/release >/tmp/hold.out 2>/dev/null &
while ! grep -q '^held' /tmp/hold.out 2>/dev/null; do sleep 0.2; done
set -- $(cat /tmp/hold.out)
echo "init pid $2 of pid namespace $3 is tearing down; tracer pid $4 holds task $5"

say "active: who holds the namespace open, and why"
cat $dbg/active

say "unloading now is refused, with the reason"
sh /payload/load.sh --unload

say "the tracer lets go of its zombie"
echo release >/tmp/release
wait
cat /tmp/hold.out | tail -n 1

say "active after"
cat $dbg/active
say "stats after"
cat $dbg/stats
say "teardown latency"
cat $dbg/histogram

say "status at a glance, then unload"
sh /payload/load.sh --status | head -n 1
sh /payload/load.sh --unload
