# shellcheck shell=bash
# The fleet run's boots (tests/run --e2e --fleet; docs/e2e.md), sourced
# by guest-checks.sh (res, ok, show, note, booted, module_active; $state,
# $KERNEL, $UPGRADE, $NOHDR, $RELEASE).
#
# The node has no compiler, DKMS or headers, and no pidns-guard; apt's
# sources are the fleet's repository (scripts/build-repo, signed with the
# fleet's GPG key, in /srv/pidns-guard-repo) and a local copy of what
# Debian's linux-image-amd64 installs today.
# fleet1 (KERNEL): apt refuses the repository once its InRelease is
# tampered with; `apt-get install pidns-guard pidns-guard-modules-KERNEL`
# pulls no compiler and guards the node at once (the module package's
# postinst starts pidns-guard.service); the module is the package's,
# signed with the fleet's key; the kernel upgrade, `apt-get install
# linux-image-amd64 pidns-guard-modules-amd64`, brings UPGRADE and its
# module package.  fleet2 (UPGRADE): guarded from boot by the upgraded
# kernel's module package; a kernel installed without a module package
# (the cloud flavour, NOHDR) is named as the next boot unguarded, with the
# package to install; on Debian 13, then, the packages purged.  fleet3
# (Debian 13, UPGRADE): the DaemonSet (below).

REPO=/srv/pidns-guard-repo

# No gcc, cc, make or dkms, no linux-headers package.
no_compiler() {	# name
	local tools hdrs
	tools=$(for t in gcc cc make dkms; do command -v "$t"; done | paste -sd' ')
	hdrs=$(dpkg-query -W -f='${Package} ${Status}\n' 'linux-headers-*' 2>/dev/null | awk '/ installed$/ { print $1 }' | paste -sd' ')
	ok "$1" "compilers and DKMS: ${tools:-none}; headers packages: ${hdrs:-none}" \
		"$( [ -z "$tools" ] && [ -z "$hdrs" ]; echo $?)"
}

# apt refuses a copy of the repository whose InRelease was changed by one
# character, and takes the real one.
apt_signature() {	# name
	local bad=/tmp/tampered-repo out rc=0 good=1
	rm -rf $bad /tmp/bad-lists && cp -a $REPO $bad && mkdir -p /tmp/bad-sources.d /tmp/bad-lists/partial
	sed -i "0,/^Description: /s/^Description: /Description: x/" $bad/dists/"$RELEASE"/InRelease
	echo "deb [signed-by=/usr/share/keyrings/pidns-guard-archive-keyring.gpg] file:$bad $RELEASE main" \
		>/tmp/bad-sources.d/bad.list
	out=$(apt-get update -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/tmp/bad-sources.d \
		-o Dir::State::Lists=/tmp/bad-lists 2>&1) || rc=$?
	show "apt-get update of the tampered copy (exit $rc)" printf '%s\n' "$out"
	rm -rf /tmp/bad-lists /tmp/bad-sources.d $bad
	show "apt-get update" apt-get update && good=0
	ok "$1" "tampered InRelease: apt-get update exit $rc: $(grep -m1 -E 'BADSIG|NOSPLIT|not signed|signature|OpenPGP' <<<"$out"); the real one: $( [ $good = 0 ] && echo accepted || echo refused)" \
		"$( [ $rc != 0 ] && grep -qE 'BADSIG|NOSPLIT|not signed|signature|OpenPGP' <<<"$out" && [ $good = 0 ]; echo $?)"
}

# The loaded module is KERNEL's package's, signed with the fleet's key.
module_from_package() {	# name abi
	local f pkg signer
	f=$(modinfo -n pidns_guard 2>/dev/null)
	# Debian 13 ships it in /usr/lib/modules, Debian 12 in /lib/modules;
	# modinfo says /lib (on both, /lib is a link to /usr/lib)
	pkg=$( { dpkg -S "$f" || dpkg -S "$(readlink -f "$f")"; } 2>/dev/null | cut -d: -f1)
	signer=$(modinfo -F signer pidns_guard 2>/dev/null)
	ok "$1" "modinfo -n: ${f:-none}, from package ${pkg:-none}; signer: ${signer:-none}; version $(cat /sys/module/pidns_guard/version 2>/dev/null)" \
		"$( [ "$pkg" = "pidns-guard-modules-$2" ] && grep -q '^pidns_guard fleet module signing key' <<<"$signer" &&
			[ "$(cat /sys/module/pidns_guard/version)" = "$(dpkg-query -W -f='${Version}' "pidns-guard-modules-$2")" ]; echo $?)"
}

fleet_install() {
	local rc=0
	show "apt-get install pidns-guard pidns-guard-modules-$KERNEL" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y pidns-guard "pidns-guard-modules-$KERNEL" || rc=$?
	ok fleet1/install "apt-get install pidns-guard pidns-guard-modules-$KERNEL from file:$REPO: exit $rc; $(dpkg-query -W -f='${Package} ${Version}, ' pidns-guard "pidns-guard-modules-$KERNEL" 2>&1)" $rc
}

fleet_upgrade() {
	local rc=0 m
	show "apt-get install linux-image-amd64 pidns-guard-modules-amd64" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y linux-image-amd64 pidns-guard-modules-amd64 || rc=$?
	m=$(find /lib/modules/"$UPGRADE" -name 'pidns_guard.ko*' 2>/dev/null | head -n 1)
	ok fleet1/upgrade "apt-get install linux-image-amd64 pidns-guard-modules-amd64: exit $rc; $(dpkg-query -W -f='${Package} ${Version}, ' linux-image-amd64 pidns-guard-modules-amd64 "pidns-guard-modules-$UPGRADE" 2>&1) module ${m:-none}" \
		"$( [ $rc = 0 ] && [ -f /boot/vmlinuz-"$UPGRADE" ] && [ -n "$m" ] &&
			dpkg-query -W -f='${Status}' "pidns-guard-modules-$UPGRADE" | grep -q 'ok installed'; echo $?)"
}

# pidns-guard status names no kernel unguarded at the next boot.
next_boot_guarded() {	# name
	local out
	out=$(pidns-guard status 2>&1)
	ok "$1" "pidns-guard status: $(grep '^next boot' <<<"$out" || echo 'no next-boot line'); installed kernels: $(ls /boot | sed -n 's/^vmlinuz-//p' | paste -sd' ')" \
		"$( ! grep -q '^next boot: unguarded' <<<"$out"; echo $?)"
}

# A kernel without its module package: the next boot into it is named
# unguarded, with the package that guards it.
nohdr_named() {
	local rc=0 out
	show "apt-get install linux-image-$NOHDR" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y "linux-image-$NOHDR" || rc=$?
	out=$(pidns-guard status 2>&1)
	show "pidns-guard status" printf '%s\n' "$out"
	ok fleet2/nohdr-named "apt-get install linux-image-$NOHDR exit $rc; $(grep "^next boot: unguarded on $NOHDR" <<<"$out")" \
		"$( [ $rc = 0 ] && grep "^next boot: unguarded on $NOHDR" <<<"$out" | grep -q "pidns-guard-modules-$NOHDR"; echo $?)"
}

# Under Secure Boot (tests/run --e2e --fleet --secureboot; nothing on a
# boot without UEFI): the firmware's SecureBoot on, the kernel locked
# down, the fleet's certificate among the kernel's keys (shim's MokList),
# and the module loaded all the same.
fleet_sb() {	# name
	local sb lock certs
	[ -d /sys/firmware/efi ] || return 0
	sb=$(od -An -t u1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c 2>/dev/null | awk '{ print $NF }')
	lock=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/security/lockdown 2>/dev/null)
	certs=$(grep -c 'pidns_guard fleet module signing key' /proc/keys)
	ok "$1" "SecureBoot ${sb:-?}, lockdown ${lock:-?}, the fleet's certificate in /proc/keys: $certs; $(dmesg | grep -m1 -o "Loaded X.509 cert 'pidns_guard fleet[^']*'"); pidns_guard $( [ -e /sys/module/pidns_guard ] && echo loaded || echo 'not loaded')" \
		"$( [ "$sb" = 1 ] && [ "$lock" = integrity ] && [ "$certs" -ge 1 ] && [ -e /sys/module/pidns_guard ]; echo $?)"
}

fleet1() {
	booted fleet1/systemd "$KERNEL" ""
	no_compiler fleet1/no-compiler
	apt_signature fleet1/apt-signature
	fleet_install
	module_active "$KERNEL" fleet1/module
	module_from_package fleet1/package "$KERNEL"
	no_compiler fleet1/still-no-compiler
	fleet_upgrade
	next_boot_guarded fleet1/next-boot
	fleet_sb fleet1/secureboot
	echo fleet2 >"$state/phase"
}

fleet2() {
	booted fleet2/systemd "$UPGRADE" "running "
	module_active "$UPGRADE" fleet2/module
	module_from_package fleet2/package "$UPGRADE"
	no_compiler fleet2/no-compiler
	nohdr_named
	fleet_sb fleet2/secureboot
	# Debian 13: the DaemonSet's boot next, on a node without the packages
	if [ -f /var/cache/pidns-guard-e2e/pidns-guard-node.oci.tar ]; then
		fleet_purge
		echo fleet3 >"$state/phase"
	fi
}

# ---------------------------------------------------------------- DaemonSet
# fleet3 (trixie, UPGRADE): the packages purged at the end of fleet2, the
# node boots unguarded; the DaemonSet's image (k8s/build-image) loaded
# offline and its manifest played by podman: the pod loads its module for
# the host kernel, `pidns-guard status` in the pod says so, the metrics
# reach node_exporter's directory on the host; `podman kube down` leaves
# the module loaded.
DS=/usr/local/lib/pidns-guard-e2e/pidns-guard-daemonset.yaml

fleet_purge() {
	local rc=0 pkgs
	pkgs=$(dpkg-query -W -f='${Package}\n' 'pidns-guard*' 2>/dev/null | paste -sd' ')
	# shellcheck disable=SC2086 # the package names
	show "apt-get purge $pkgs" env DEBIAN_FRONTEND=noninteractive apt-get purge -y $pkgs || rc=$?
	ok fleet2/purge "apt-get purge $pkgs: exit $rc; left: $(dpkg-query -W -f='${Package} ' 'pidns-guard*' 2>/dev/null)" \
		"$( [ $rc = 0 ] && ! command -v pidns-guard >/dev/null; echo $?)"
}

# The DaemonSet's container (podman names it POD-CONTAINER).
ds_container() {
	podman ps --format '{{.Names}}' | grep -m1 -- '-pidns-guard$'
}

wait_loaded() { wait_until "$1" test -e /sys/module/pidns_guard; }	# seconds

fleet3() {
	local rc=0 out c prom
	booted fleet3/systemd "$UPGRADE" ""
	ok fleet3/unguarded "before the DaemonSet: lsmod: $(lsmod | grep -c '^pidns_guard ') pidns_guard; pidns-guard command: $(command -v pidns-guard || echo none)" \
		"$( [ ! -e /sys/module/pidns_guard ] && ! command -v pidns-guard >/dev/null; echo $?)"
	out=$(podman load -i /var/cache/pidns-guard-e2e/pidns-guard-node.oci.tar 2>&1) || rc=$?
	show "podman load (exit $rc)" printf '%s\n' "$out"
	ok fleet3/image "podman load -i pidns-guard-node.oci.tar: exit $rc: $(tail -n 1 <<<"$out")" \
		"$( [ $rc = 0 ] && podman image exists localhost/pidns-guard-node:"$(sed -n 's/^ *image: localhost\/pidns-guard-node://p' $DS)"; echo $?)"
	rc=0
	out=$(podman kube play $DS 2>&1) || rc=$?
	show "podman kube play (exit $rc)" printf '%s\n' "$out"
	wait_loaded 90
	c=$(ds_container)
	show "podman ps" podman ps -a
	show "the pod's log" podman logs "$c"
	ok fleet3/kube-play "podman kube play pidns-guard-daemonset.yaml: exit $rc; container ${c:-none}; lsmod: $(lsmod | awk '$1 == "pidns_guard"' | tr -s ' ')" \
		"$( [ $rc = 0 ] && [ -n "$c" ] && [ -e /sys/module/pidns_guard ]; echo $?)"
	ok fleet3/pod-log "the pod's log: $(podman logs "$c" 2>&1 | grep -m1 pidns_guard)" \
		"$(podman logs "$c" 2>&1 | grep -q "is active on $UPGRADE\."; echo $?)"
	rc=0
	out=$(podman exec "$c" pidns-guard status 2>&1) || rc=$?
	show "podman exec $c pidns-guard status (exit $rc)" printf '%s\n' "$out"
	ok fleet3/status-in-pod "podman exec pidns-guard status: exit $rc: $(head -n 1 <<<"$out")" \
		"$( [ $rc = 0 ] && grep -q "^pidns_guard [^ ]* loaded on $UPGRADE, " <<<"$out"; echo $?)"
	prom=/var/lib/prometheus/node-exporter/pidns_guard.prom
	ok fleet3/metrics-file "$prom on the host: $(grep -E '^pidns_guard_(loaded|info)' "$prom" 2>&1 | tr '\n' ' ')" \
		"$(grep -qx 'pidns_guard_loaded 1' "$prom"; echo $?)"
	rc=0
	show "podman kube down" podman kube down $DS || rc=$?
	ok fleet3/down-stays "podman kube down exit $rc; container left: $(ds_container || echo none); lsmod: $(lsmod | awk '$1 == "pidns_guard"' | tr -s ' ')" \
		"$( [ $rc = 0 ] && [ -z "$(ds_container)" ] && [ -e /sys/module/pidns_guard ]; echo $?)"
}
