# shellcheck shell=bash
# shellcheck disable=SC2154 # log: guest-checks.sh's
# The container engines' phase of the end-to-end run (tests/run --e2e
# --engines; issue 22; docs/e2e.md), sourced by guest-checks.sh (its
# res/ok/note/show helpers) in the boot whose phase is "engines".
#
# Every engine a Debian host runs, as its own package runs it: each starts
# a real container (busybox-static's root file system, image.sh) whose init
# has a child; a zombie of a stopped outside parent (nsenter into the
# container's pid namespace, then SIGSTOP) holds its teardown; the engine's
# own stop command is then blocked (or gives up) while the init is exiting;
# `pidns-guard stuck` must name the container as the engine names it, the
# holder and the remedy; the remedy (kill -CONT) lets the stop finish.
# Before that: the boot order of every engine unit that started at boot
# (pidns-guard.service active before each began to start).

# The units whose start must follow pidns-guard.service's, when this image
# has them and they ran in this boot.
PFX=''
ENGINE_UNITS="containerd.service docker.service lxc.service
	systemd-nspawn@e2e-machine.service user@1000.service"
[ "$RELEASE" = trixie ] && ENGINE_UNITS="$ENGINE_UNITS incus-startup.service"
E2E_USER=e2e
E2E_UID=1000

# Boot order: each engine unit that was started in this boot is ordered
# after pidns-guard.service in systemd's own graph (its After= names it:
# the unit's Before= or the package's drop-in; timing alone could be luck)
# and began activating (InactiveExitTimestampMonotonic) after
# pidns-guard.service was active (ActiveEnterTimestampMonotonic).
engines_boot_order() {
	local g u t a name seen=''
	g=$(systemctl show -P ActiveEnterTimestampMonotonic pidns-guard.service)
	for u in $ENGINE_UNITS; do
		t=$(systemctl show -P InactiveExitTimestampMonotonic "$u" 2>/dev/null)
		name=order/${u%%[@.]*}
		[ "${t:-0}" -gt 0 ] || { res FAIL "$name" "$u did not start in this boot"; continue; }
		seen="$seen $u"
		a=no
		systemctl show -P After "$u" | tr ' ' '\n' | grep -qx pidns-guard.service && a=yes
		ok "$name" "$u: After=pidns-guard.service $a; pidns-guard.service active at ${g:-?} us, $u began starting at $t us (monotonic)" \
			"$( [ $a = yes ] && [ "${g:-0}" -gt 0 ] && [ "$t" -gt "$g" ]; echo $?)"
	done
	note "engine units started in this boot:$seen"
}

# engine_stop_blocked PREFIX INIT CMD...: the engine's stop command in the
# background; blocked when 20 s later it is still waiting, or has given up
# while INIT is still there.  Sets STOP_PID ('' once it returned).
engine_stop_blocked() {
	local p=$1 init=$2 rc detail
	shift 2
	STOP_T0=$(cut -d. -f1 /proc/uptime)
	"$@" >"/tmp/stop-${p//\//-}.log" 2>&1 </dev/null &
	STOP_PID=$!
	sleep 20
	if kill -0 "$STOP_PID" 2>/dev/null; then
		ok "$p/stop-blocked" "'$*' has not returned after 20 s; init $init: state $(state_letter "$init")" \
			"$( [ -d /proc/"$init" ]; echo $?)"
		return
	fi
	wait "$STOP_PID"
	rc=$?
	STOP_PID=''
	detail="'$*' returned $rc within 20 s: $(tr '\n' ' ' <"/tmp/stop-${p//\//-}.log" | cut -c1-300); init $init: state $(state_letter "$init")"
	ok "$p/stop-blocked" "$detail" "$( [ -d /proc/"$init" ] && [ "$(state_letter "$init")" != Z ]; echo $?)"
}

state_letter() { awk '{ sub(/.*\) /, ""); print substr($0, 1, 1) }' /proc/"$1"/stat 2>/dev/null; }

# engine_stuck PREFIX INIT CONTAINER-TEXT [OR-TEXT]: stuck names the
# container (its line begins with CONTAINER-TEXT and names INIT; or holds
# OR-TEXT and names INIT), the holder, its stopped
# parent and the remedy; exit 1 while a teardown is stuck (for 30 s: the
# teardown began with the stop, so 35 s after it).
engine_stuck() {
	local p=$1 init=$2 want=$3 alt=${4:-} out rc=0 now named
	now=$(cut -d. -f1 /proc/uptime)
	[ $((now - STOP_T0)) -ge 35 ] || sleep $((35 - (now - STOP_T0)))
	out=$(pidns-guard stuck 2>&1) || rc=$?
	show "pidns-guard stuck ($p, exit $rc)" printf '%s\n' "$out"
	named=$(grep -F -- "$want: its init $init (" <<<"$out")
	[ -z "$named" ] && [ -n "$alt" ] && named=$(grep -F -- "$alt" <<<"$out" | grep -F -- ": its init $init (")
	[ -n "$alt" ] && alt=" or one with '$alt'"
	ok "$p/stuck-container" "exit $rc; wants a line: '$want: its init $init (...) is exiting, for ...'$alt" \
		"$( [ $rc = 1 ] && grep -q ') is exiting, for ' <<<"$named"; echo $?)"
	ok "$p/stuck-holder" "wants: holder zombie $HOLD_PID (sleep), its parent $HOLD_NSENTER (nsenter) stopped, 'kill -CONT $HOLD_NSENTER'" \
		"$(has_line "$out" "  holder zombie $HOLD_PID (sleep): its parent $HOLD_NSENTER (nsenter), outside the container, has not reaped it: the container stops once $HOLD_NSENTER reaps it or exits; $HOLD_NSENTER is stopped: 'kill -CONT $HOLD_NSENTER' lets it run"; echo $?)"
}

# wait_stop SECONDS: the exit status of the stop command STOP_PID, or 124
# (and it is killed) when it still runs after SECONDS.
wait_stop() {
	if wait_gone "$STOP_PID" "$1"; then
		wait "$STOP_PID"
		return
	fi
	kill "$STOP_PID"
	return 124
}

# engine_release PREFIX INIT CMD...: the remedy; the waiting stop returns
# 0, or (when the engine gave up with an error, before the remedy or
# after) CMD asked again does; INIT gone within 120 s.
engine_release() {
	local p=$1 init=$2 rc=0 how=''
	shift 2
	kill -CONT "$HOLD_NSENTER"
	if [ -n "$STOP_PID" ]; then
		wait_stop 120 || rc=$?
		how="the waiting '$*' returned $rc; "
	fi
	if [ -z "$STOP_PID" ] || { [ $rc != 0 ] && [ $rc != 124 ]; }; then
		"$@" >>"$log" 2>&1 </dev/null &
		STOP_PID=$!
		rc=0
		wait_stop 120 || rc=$?
		how="$how'$*' again returned $rc; "
	fi
	wait_gone "$init" 30
	ok "$p/stop-finishes" "after kill -CONT $HOLD_NSENTER: ${how}init $init $( [ -d /proc/"$init" ] && echo 'still there' || echo gone)" \
		"$( [ $rc = 0 ] && [ ! -d /proc/"$init" ]; echo $?)"
	wait "$HOLD_NSENTER" 2>/dev/null
}

# engine_case PREFIX INIT CONTAINER-TEXT STOP-CMD...: hold, stop, stuck,
# release (ALT_NAME: engine_stuck's OR-TEXT).
engine_case() {
	local p=$1 init=$2 want=$3
	shift 3
	hold_teardown "$p" "$init"
	engine_stop_blocked "$p" "$init" "$@"
	engine_stuck "$p" "$init" "$want" "${ALT_NAME:-}"
	engine_release "$p" "$init" "$@"
}

# started PREFIX DETAIL INIT: the container runs, INIT its init (with a
# child); else its other checks fail as not reported (1).
started() {
	local c=''
	[ "${3:-0}" -gt 0 ] 2>/dev/null && c=$(wait_first_child "$3")
	ok "$1/started" "$2: init ${3:-none}, child ${c:-none}" "$( [ -n "$c" ]; echo $?)"
	[ -n "$c" ]
}

# ---------------------------------------------------------------- podman
# as root, and as user e2e (rootless, its user@1000.service running by
# linger: the systemd cgroup manager in its user session)
as_root() { "$@"; }
as_user() {
	(cd /home/$E2E_USER && runuser -u $E2E_USER -- env XDG_RUNTIME_DIR=/run/user/$E2E_UID \
		DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$E2E_UID/bus "$@")
}

podman_case() {	# prefix runner name user-text
	local p=$1 run=$2 name=$3 utext=$4 init id
	"$run" podman import /var/cache/pidns-guard-e2e/busybox.tar e2e-busybox >>"$log" 2>&1
	"$run" podman run -d --network none --name "$name" localhost/e2e-busybox sh -c 'sleep 1000 & exec sleep 100000' >>"$log" 2>&1
	init=$("$run" podman inspect -f '{{.State.Pid}}' "$name" 2>/dev/null)
	id=$("$run" podman inspect -f '{{.Id}}' "$name" 2>/dev/null)
	started "$p" "$("$run" podman --version) run $name (id ${id:0:12})" "$init" || return
	engine_case "$p" "$init" "podman container $name (id $id)$utext" "$run" podman stop -t 1 "$name"
}

kube_case() {	# a pod from podman kube play
	local init id pod
	cat >/tmp/e2e-pod.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: e2e-pod
spec:
  containers:
  - name: sleeper
    image: localhost/e2e-busybox:latest
    imagePullPolicy: Never
    command: ["/bin/sh", "-c", "sleep 1000 & exec sleep 100000"]
YAML
	show "podman kube play" podman kube play --network none /tmp/e2e-pod.yaml
	init=$(podman inspect -f '{{.State.Pid}}' e2e-pod-sleeper 2>/dev/null)
	id=$(podman inspect -f '{{.Id}}' e2e-pod-sleeper 2>/dev/null)
	started kube "podman kube play: pod e2e-pod, container e2e-pod-sleeper (id ${id:0:12})" "$init" || return
	pod=$(podman pod inspect --format '{{.Id}}' e2e-pod 2>/dev/null)
	# the pod's name, or (podman pod stop holds the pod while it waits:
	# 'podman pod inspect' does not answer then) its id, said so
	ALT_NAME="podman container e2e-pod-sleeper (id $id), pod ${pod:0:12} [pod ${pod:0:12} by its id: " \
		engine_case kube "$init" "podman container e2e-pod-sleeper (id $id), pod e2e-pod" podman pod stop -t 1 e2e-pod
}

# ---------------------------------------------------------------- LXC
# e2e-lxc: image.sh's config, lxc.start.auto = 1 (lxc.service started it)
lxc_case() {
	local init
	init=$(lxc-info -n e2e-lxc -p -H 2>/dev/null)
	started "${PFX}lxc" "lxc-start at boot by lxc.service ($(lxc-info -n e2e-lxc -s -H 2>&1))" "$init" || return
	engine_case "${PFX}lxc" "$init" "lxc container e2e-lxc" lxc-stop -n e2e-lxc -t 10
}

# Sets init to e2e-lxc's init, once it has one.
lxc_init() { init=$(lxc-info -n e2e-lxc -p -H 2>/dev/null) && [ -n "$init" ]; }

# the same container started again by hand, the command's way
lxc_start_case() {
	local init
	show "lxc-start -n e2e-lxc" lxc-start -n e2e-lxc
	wait_until 30 lxc_init || true
	started lxc-start "lxc-start -n e2e-lxc ($(lxc-info -n e2e-lxc -s -H 2>&1))" "$init" || return
	engine_case lxc-start "$init" "lxc container e2e-lxc" lxc-stop -n e2e-lxc -t 10
}

# ---------------------------------------------------------------- nspawn
# /var/lib/machines/e2e-machine, enabled (machines.target): started at boot
# by systemd-nspawn@e2e-machine.service
machine_case() {
	local init
	init=$(machinectl show --property=Leader --value e2e-machine 2>/dev/null)
	started machine "machinectl: $(machinectl list --no-legend 2>&1 | tr -s ' ' | tr '\n' ';')" "$init" || return
	# the unit's stop waits (machinectl poweroff only signals)
	engine_case machine "$init" "systemd machine e2e-machine (machinectl status e2e-machine)" \
		systemctl stop systemd-nspawn@e2e-machine.service
}

# Sets init to e2e-machine's leader, once it has one.
machine_init() {
	init=$(machinectl show --property=Leader --value e2e-machine 2>/dev/null) && [ -n "$init" ]
}

# the same machine started again by hand: machinectl start (the same unit)
machinectl_case() {
	local init
	show "machinectl start e2e-machine" machinectl start e2e-machine
	wait_until 60 machine_init || true
	started machinectl "machinectl start e2e-machine: $(machinectl list --no-legend 2>&1 | tr -s ' ' | tr '\n' ';')" "$init" || return
	engine_case machinectl "$init" "systemd machine e2e-machine (machinectl status e2e-machine)" \
		systemctl stop systemd-nspawn@e2e-machine.service
}

# ---------------------------------------------------------------- containerd
# Sets init to e2e-ctr's, once its task runs.
ctr_init() {
	init=$(ctr task ls 2>/dev/null | awk '$1 == "e2e-ctr" && $3 == "RUNNING" { print $2 }') &&
		[ -n "$init" ]
}

# ctr run of a root file system (no image, no snapshotter) in the
# foreground: it returns once the task has exited.
ctr_case() {
	local run init
	ctr run --rootfs /var/lib/pidns-guard-e2e/rootfs e2e-ctr /bin/sh -c 'sleep 1000 & exec sleep 100000' \
		</dev/null >>"$log" 2>&1 &
	run=$!
	wait_until 60 ctr_init || true
	started ctr "$(ctr --version) run e2e-ctr (namespace default)" "$init" || return
	hold_teardown ctr "$init"
	# the stop: SIGKILL to the task, then the `ctr run` that waits for it
	ctr task kill -s SIGKILL e2e-ctr >>"$log" 2>&1
	engine_stop_blocked ctr "$init" wait_pid "$run"
	engine_stuck ctr "$init" "containerd container e2e-ctr (id e2e-ctr)"
	engine_release ctr "$init" wait_pid "$run"
	ctr container rm e2e-ctr >>"$log" 2>&1
}
wait_pid() { while kill -0 "$1" 2>/dev/null; do sleep 1; done; }

# ---------------------------------------------------------------- docker
# with its data root moved (daemon.json data-root /srv/docker, image.sh)
dataroot_case() {
	local init id
	docker import /var/cache/pidns-guard-e2e/busybox.tar e2e-busybox >>"$log" 2>&1
	docker run -d --network none --name e2e-dataroot e2e-busybox sh -c 'sleep 1000 & exec sleep 100000' >>"$log" 2>&1
	init=$(docker inspect -f '{{.State.Pid}}' e2e-dataroot 2>/dev/null)
	id=$(docker inspect -f '{{.Id}}' e2e-dataroot 2>/dev/null)
	started "${PFX}dataroot" "docker run e2e-dataroot, DockerRootDir $(docker info -f '{{.DockerRootDir}}' 2>&1) (id ${id:0:12})" "$init" || return
	engine_case "${PFX}dataroot" "$init" "docker container e2e-dataroot (id $id)" docker stop -t 1 e2e-dataroot
}

# ---------------------------------------------------------------- Incus
# (Debian 13) initialised minimal, its bridge removed (no network here), a
# busybox image imported offline (image.sh's split image)
incus_case() {
	local init
	show "incus admin init --minimal" incus admin init --minimal
	incus profile device remove default eth0 >>"$log" 2>&1
	show "incus image import" incus image import /var/cache/pidns-guard-e2e/incus-meta.tar \
		/var/cache/pidns-guard-e2e/incus-rootfs.tar --alias e2e-busybox
	show "incus launch" incus launch e2e-busybox e2e-incus
	init=$(incus query /1.0/instances/e2e-incus/state 2>/dev/null | jq -r '.pid // empty')
	[ "$init" = 0 ] && init=''
	started incus "$(incus --version 2>&1) launch e2e-incus" "$init" || return
	engine_case incus "$init" "incus container e2e-incus (incus info e2e-incus)" incus stop -f e2e-incus
}

# Boot 2 of Debian 12's engines run: cgroup v1
# (systemd.unified_cgroup_hierarchy=0): docker, podman and LXC again.
engines_v1() {
	local fs
	PFX=cgroupv1/
	booted cgroupv1/systemd "$KERNEL" "running " "with systemd.unified_cgroup_hierarchy=0"
	fs=$(stat -f -c %T /sys/fs/cgroup)
	ok cgroupv1/hierarchy "/sys/fs/cgroup is $fs, $(ls /sys/fs/cgroup | tr '\n' ' ')" \
		"$( [ "$fs" = tmpfs ] && [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/pids ]; echo $?)"
	module_active "$KERNEL" cgroupv1/module
	podman rm -f e2e-podman >>"$log" 2>&1
	podman_case cgroupv1/podman as_root e2e-podman ""
	lxc_case
	docker rm -f e2e-dataroot >>"$log" 2>&1
	dataroot_case
	show "pidns-guard stuck at the end" pidns-guard stuck
}

engines() {
	booted engines/systemd "$KERNEL" "running "
	module_active "$KERNEL" engines/module
	engines_boot_order
	podman_case podman as_root e2e-podman ""
	podman_case rootless as_user e2e-rootless ", rootless (user $E2E_UID)"
	kube_case
	lxc_case
	lxc_start_case
	machine_case
	machinectl_case
	ctr_case
	dataroot_case
	[ "$RELEASE" = trixie ] && incus_case
	show "pidns-guard stuck at the end" pidns-guard stuck
}
