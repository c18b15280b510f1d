#!/bin/sh
# shellcheck shell=sh
# The command's cost on a big host (tests/bench-cli, issue 21): what
# `pidns-guard stuck` and `pidns-guard metrics` (the metrics timer's run)
# take with COST_CONTAINERS containers on the host and COST_TEARDOWNS of
# them stuck in their init's exit.
#
# Containers: docker's systemd-driver cgroup (system.slice/docker-ID.scope)
# and its state file (/var/lib/docker/containers/ID/config.v2.json, padded
# to the size of a real one), one process in each.  Teardowns: `pgtest hold
# --kind zombie` started in the cgroup of a container (its init's child a
# zombie of an outside tracer), held past the 30 s after which metrics
# lists them.  Each command runs COST_REPS times: wall time and CPU time
# (user + system, the command and everything it forked), from busybox's
# time.  The yardstick is `ps` over the same processes, measured the same
# way in the same boot: what a host already pays to list its processes.
# First with no teardown in progress (the everyday host: quiet/NAME), then
# with the held ones.  Then again with Debian's own dash and mawk (what a
# Debian host runs the command with: /bin/sh and awk there), copied from
# the build host with their libraries into /payload/debian (debian/NAME).
#
# Results (fd 3): "COST name wall_s cpu_s exit" per run; "COST-INFO key value";
# "COST-FAILED why" when the setup did not hold.
. /payload/env
N=${COST_CONTAINERS:-1000} M=${COST_TEARDOWNS:-100} R=${COST_REPS:-5}
CG=/sys/fs/cgroup PGC="sh /payload/pidns-guard"

fail() { echo "COST-FAILED $*" >&3; exit 1; }

# Debian's dash and mawk (as awk), their libraries and loader where
# Debian keeps them: PGD runs the command with them.
DEB=/payload/debian
PGD="env PATH=$DEB/bin:$PATH $DEB/bin/dash /payload/pidns-guard"
debian_tools() {
	mkdir -p /lib64 /lib/x86_64-linux-gnu
	for _l in "$DEB"/lib/*; do ln -sf "$_l" /lib/x86_64-linux-gnu/; done
	ln -sf "$DEB/lib/ld-linux-x86-64.so.2" /lib64/ld-linux-x86-64.so.2
	ln -sf mawk "$DEB/bin/awk"
	[ "$(echo ok | "$DEB/bin/awk" '{ print $1 }')" = ok ] || fail "Debian's mawk does not run here"
	[ "$($PGD --version 2>&1 | head -n 1)" = "$($PGC --version 2>&1 | head -n 1)" ] ||
		fail "Debian's dash does not run the command here"
}

# A container's id: 64 hex digits from its number.
cid() { printf '%064x' "$1"; }

# A state file the size of a real docker one (about 6 KB: the image's
# environment, labels, mounts).
state_file() {	# id number
	printf '{"StreamConfig":{},"State":{"Running":true,"Paused":false,"Restarting":false,"Pid":%s,"ExitCode":0,"StartedAt":"2026-12-05T10:00:00.000000000Z"},"ID":"%s","Created":"2026-12-05T09:59:59.000000000Z","Path":"/docker-entrypoint.sh","Args":["nginx","-g","daemon off;"],"Config":{"Hostname":"%.12s","Env":[' \
		"$3" "$1" "$1"
	_i=0
	while [ $_i -lt 60 ]; do
		printf '"VARIABLE_%d=some-value-of-a-realistic-length-%d",' $_i $_i
		_i=$((_i + 1))
	done
	printf '"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Labels":{'
	_i=0
	while [ $_i -lt 30 ]; do
		printf '"com.example.label-%d":"a label value, %d",' $_i $_i
		_i=$((_i + 1))
	done
	printf '"maintainer":"someone"}},"Image":"sha256:%s","Name":"/app-%d","Driver":"overlay2","MountPoints":{},"HostConfig":{"RestartPolicy":{"Name":"no"}}}\n' \
		"$1" "$2"
}

setup_containers() {
	mkdir -p $CG
	grep -qs " $CG cgroup2 " /proc/mounts || mount -t cgroup2 none $CG || fail "cannot mount cgroup2"
	mkdir -p $CG/system.slice
	_n=1
	while [ $_n -le "$N" ]; do
		_id=$(cid $_n)
		mkdir -p "$CG/system.slice/docker-$_id.scope" "/var/lib/docker/containers/$_id"
		sh -c 'echo $$ >"$1/cgroup.procs" && exec sleep 100000' sh \
			"$CG/system.slice/docker-$_id.scope" &
		state_file "$_id" $_n $! >"/var/lib/docker/containers/$_id/config.v2.json"
		_n=$((_n + 1))
	done
}

# COST_TEARDOWNS held teardowns, each in the cgroup of a container, one
# after the other: pgtest gives an init a bounded time to park in its
# teardown, which a hundred starting at once under emulation overrun.
hold_teardowns() {
	_n=1
	while [ $_n -le "$M" ]; do
		_id=$(cid $_n)
		mkfifo /tmp/hold-$_n.fifo
		sh -c 'echo $$ >"$1/cgroup.procs" && exec /payload/pgtest hold --kind zombie --release-fifo "$2"' \
			sh "$CG/system.slice/docker-$_id.scope" /tmp/hold-$_n.fifo >/tmp/hold-$_n.out 2>/dev/console &
		_t=0
		until grep -qs '^held ' /tmp/hold-$_n.out; do
			[ $_t -lt 600 ] || fail "teardown $_n not held after 60 s: $(cat /tmp/hold-$_n.out)"
			kill -0 $! 2>/dev/null || fail "teardown $_n: pgtest hold ended: $(cat /tmp/hold-$_n.out)"
			sleep 0.1
			_t=$((_t + 1))
		done
		_n=$((_n + 1))
	done
}

release_teardowns() {
	_n=1
	while [ $_n -le "$M" ]; do
		timeout 10 sh -c "echo release >/tmp/hold-$_n.fifo"
		_n=$((_n + 1))
	done
	wait_active 0 120 || fail "teardowns still active after their release: $(cat /sys/kernel/debug/pidns_guard/stats)"
}

active() { sed -n 's/^active[[:space:]]*//p' /sys/kernel/debug/pidns_guard/stats; }
wait_active() {	# value seconds
	_t=0
	while [ "$(active)" != "$1" ]; do
		[ $_t -lt "$2" ] || return 1
		sleep 1
		_t=$((_t + 1))
	done
}

# timed NAME COMMAND...: R runs, each a "COST NAME wall cpu" line.
timed() {
	_name=$1
	shift
	_r=0
	while [ $_r -lt "$R" ]; do
		busybox time -f '%e %U %S' -o /tmp/cost.time "$@" >/tmp/cost.out 2>&1
		_rc=$?
		# the last line (busybox puts "Command exited with..." first)
		awk -v n="$_name" -v rc=$_rc '$1 ~ /^[0-9.]+$/ { l = sprintf("COST %s %s %.2f %s", n, $1, $2 + $3, rc) } END { print l }' \
			/tmp/cost.time >&3
		_r=$((_r + 1))
	done
}

# The outputs the runs produced, checked once: the size of the work is
# what the run says it is.
check_outputs() {
	_s=$($PGC stuck --older-than 30)
	_c=$(echo "$_s" | grep -c '^docker container app-')
	echo "COST-INFO stuck-lines $_c" >&3
	[ "$_c" = "$M" ] || fail "stuck named $_c docker containers, not $M"
	_m=$($PGC metrics)
	_c=$(echo "$_m" | grep -c '^pidns_guard_stuck_teardown_age_seconds{.*engine="docker",container="app-')
	echo "COST-INFO metrics-series $_c" >&3
	[ "$_c" = "$M" ] || fail "metrics had $_c stuck series with a docker container name, not $M"
	echo "COST-INFO metrics-bytes $((${#_m} + 1))" >&3
	echo "COST-INFO processes $(ls -d /proc/[0-9]* | wc -l)" >&3
	_c=$($PGD stuck --older-than 30 | grep -c '^docker container app-')
	[ "$_c" = "$M" ] || fail "with Debian's dash and mawk, stuck named $_c docker containers, not $M"
	_c=$($PGD metrics | grep -c '^pidns_guard_stuck_teardown_age_seconds{.*engine="docker",container="app-')
	[ "$_c" = "$M" ] || fail "with Debian's dash and mawk, metrics had $_c stuck series, not $M"
}

insmod "/payload/pidns_guard.ko" || fail "insmod failed"
debian_tools
t0=$(cut -d' ' -f1 /proc/uptime)
setup_containers
# the everyday host first: the containers, no teardown in progress
# (stuck exits 0 then)
timed quiet/ps busybox ps -o pid,comm
timed quiet/stuck $PGC stuck
timed quiet/metrics $PGC metrics --output /tmp/pidns_guard.prom
hold_teardowns
echo "COST-INFO state-bytes $(wc -c <"/var/lib/docker/containers/$(cid 1)/config.v2.json")" >&3
echo "COST-INFO setup-seconds $(awk -v t0="$t0" '{ print int($1 - t0) }' /proc/uptime)" >&3
wait_active "$M" 10 || fail "active is $(active), not $M"
# past the 30 s after which a teardown counts as stuck
sleep 31
check_outputs
echo "COST-INFO containers $N" >&3
echo "COST-INFO teardowns $M" >&3
timed ps busybox ps -o pid,comm
timed stuck $PGC stuck
timed stuck-json $PGC stuck --json
timed metrics $PGC metrics --output /tmp/pidns_guard.prom
timed debian/stuck $PGD stuck
timed debian/stuck-json $PGD stuck --json
timed debian/metrics $PGD metrics --output /tmp/pidns_guard.prom
release_teardowns
echo "COST-END" >&3
