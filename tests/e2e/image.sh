#!/usr/bin/env bash
# The disk image of one Debian release for the end-to-end run (docs/e2e.md).
#
#   tests/e2e/image.sh RELEASE DEB [engines]
#   tests/e2e/image.sh RELEASE REPO fleet
#   tests/e2e/image.sh RELEASE --kernels
#
# PG_E2E_NODE_IMAGE (fleet): the DaemonSet's image (k8s/build-image), put
# in the node with k8s/pidns-guard-daemonset.yaml.
#
# engines: the image of the engines run (tests/run --e2e --engines;
# engines.sh): the base has podman, LXC, systemd-nspawn (systemd-container)
# and, from trixie, Incus as well; the disk their containers (see below).
# fleet: the node of the fleet run (tests/run --e2e --fleet; fleet.sh):
# no compiler, no DKMS, no headers, no pidns-guard; REPO (scripts/build-repo's
# repository) in /srv/pidns-guard-repo with its key for apt's signed-by,
# and for the kernel upgrade, a local copy of what the archive's
# linux-image-amd64 installs (/var/cache/pidns-guard-e2e/archive, the
# guest's stand-in for Debian's mirror): apt's only sources.
#
# 1. base: mmdebstrap (a directory) of RELEASE from the archive with systemd, udev,
#    docker.io, strace, promtool, dkms, initramfs-tools, one kernel ABI that
#    is not the release's newest and its headers, prometheus and
#    prometheus-node-exporter (not started: the guest starts Prometheus
#    in the phases that need it), curl and jq (its HTTP API); the newer
#    ABI's image and headers .debs are downloaded into it (the upgrade the
#    guest installs offline), and the image alone of a third ABI (the
#    cloud flavour of the newer one: a kernel installed without its
#    headers).  Cached by its inputs.
# 2. disk: a copy of the base, release 0.1.0's pidns-guard-dkms (deb.sh's
#    previous/) installed with apt and upgraded to DEB and pidns-guard
#    beside it (the conffile edited in between: kept), DKMS builds
#    the module for the base kernel there, and signs it with its own key,
#    /var/lib/dkms/mok.{key,pub}, made by that install), the in-guest checks and their
#    unit added, pgtracer.c (built static on the host), made into a raw
#    ext4 file with mkfs.ext4 -d.  Cached by the base, the .deb's contents
#    and the guest files: a new .deb only redoes this step.
#
# Prints the shell assignments DISK= KERNEL= UPGRADE= on stdout; logs in
# $PG_CACHE/e2e/RELEASE/.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

rel=$1 deb=$2 variant=${3:-}
here=$PG_ROOT/tests/e2e
dir=$PG_CACHE/e2e/$rel
mkdir -p "$dir"

# The kernel the image boots first (older generation) and the one the
# guest upgrades to: same release, same flavour; nohdr: a kernel the
# guest installs without its headers (never booted).  extra: promtool
# (bookworm: in prometheus) and, from trixie, the docker CLI (docker-cli:
# docker.io only recommends it there).
case $rel in
bookworm) kernel=6.1.0-47-amd64 upgrade=6.1.0-57-amd64 nohdr=6.1.0-57-cloud-amd64 extra=prometheus ;;
trixie) kernel=6.12.113+deb13-amd64 upgrade=6.12.118+deb13-amd64 nohdr=6.12.118+deb13-cloud-amd64
	extra="promtool prometheus docker-cli" ;;
*) pg_die "image.sh: no configuration for release $rel" ;;
esac
# --kernels: the kernels only (what the fleet run builds its repository for)
if [ "$deb" = --kernels ]; then
	printf '%s\n' "KERNEL=$kernel" "UPGRADE=$upgrade" "NOHDR=$nohdr"
	exit 0
fi
packages="systemd systemd-sysv udev dbus apparmor docker.io strace util-linux procps kmod dkms
	openssl mokutil initramfs-tools busybox-static xz-utils zstd $extra
	prometheus-node-exporter curl jq
	linux-image-$kernel linux-headers-$kernel"
# The engines run's: podman (and what rootless podman needs: newuidmap,
# a user D-Bus for its systemd cgroup manager; catatonit: the pause
# process of a kube play pod), LXC, systemd-nspawn/machinectl, Incus.
if [ "$variant" = engines ]; then
	packages="$packages podman uidmap dbus-user-session catatonit lxc systemd-container"
	[ "$rel" = trixie ] && packages="$packages incus"
fi
# The fleet's node: what a minimal Debian server has, its kernel without
# headers; nothing that builds.  From trixie, podman (and catatonit, its
# pods' pause process) for the DaemonSet (podman kube play).
if [ "$variant" = fleet ]; then
	packages="systemd systemd-sysv udev dbus kmod procps util-linux initramfs-tools busybox-static
		xz-utils zstd linux-image-$kernel"
	[ "$rel" = trixie ] && packages="$packages podman catatonit"
fi

sources=()
while read -r line; do sources+=("$line"); done < <(pg_release_sources "$rel")


# Every image's settings: timers that would take the CPU masked, the root
# file system entry, the host name, root without a password.
# shellcheck disable=SC2016 # expanded by mmdebstrap's hook shell
system_hook='
	for u in apt-daily.timer apt-daily-upgrade.timer man-db.timer \
		e2scrub_all.timer fstrim.timer systemd-timesyncd.service; do
		ln -sf /dev/null "$1/etc/systemd/system/$u"
	done
	printf "LABEL=e2e-root / ext4 defaults 0 1\n" >"$1/etc/fstab"
	echo "pg-e2e-'"$rel"'" >"$1/etc/hostname"
	passwd --root "$1" -d root'

# Inside the base, before mmdebstrap's cleanup: the upgrade's .debs, a
# busybox root file system for `docker import`, services the test does not
# want started (prometheus would take the CPU: disabled, started by the
# guest only where needed), a root file system entry.
# shellcheck disable=SC2016 # expanded by mmdebstrap's hook shell
base_hook='set -e
	mkdir -p "$1/var/cache/pidns-guard-e2e/upgrade/partial" "$1/var/cache/pidns-guard-e2e/bb/bin"
	chroot "$1" apt-get install -y -qq --download-only \
		-o Dir::Cache::archives=/var/cache/pidns-guard-e2e/upgrade/ '"linux-image-$upgrade linux-headers-$upgrade"'
	rmdir "$1/var/cache/pidns-guard-e2e/upgrade/partial"
	rm -f "$1/var/cache/pidns-guard-e2e/upgrade/lock"
	mkdir -p "$1/var/cache/pidns-guard-e2e/nohdr/partial"
	chroot "$1" apt-get install -y -qq --download-only --no-install-recommends \
		-o Dir::Cache::archives=/var/cache/pidns-guard-e2e/nohdr/ '"linux-image-$nohdr"'
	rmdir "$1/var/cache/pidns-guard-e2e/nohdr/partial"
	rm -f "$1/var/cache/pidns-guard-e2e/nohdr/lock"
	bb="$1/var/cache/pidns-guard-e2e/bb"
	cp "$1/bin/busybox" "$bb/bin/busybox"
	for a in sh sleep cat ls ps true; do ln -s busybox "$bb/bin/$a"; done
	tar -C "$bb" -cf "$1/var/cache/pidns-guard-e2e/busybox.tar" .
	rm -rf "$bb"
	rm -f "$1/etc/systemd/system/multi-user.target.wants/prometheus.service"'"$system_hook"
# The fleet node's: what the archive's linux-image-amd64 installs (the
# upgrade) and the cloud kernel, downloaded into what becomes the guest's
# local archive; the same settings.
# shellcheck disable=SC2016
fleet_hook='set -e
	a="$1/var/cache/pidns-guard-e2e/archive"
	mkdir -p "$a/partial"
	chroot "$1" apt-get install -y -qq --download-only \
		-o Dir::Cache::archives=/var/cache/pidns-guard-e2e/archive/ linux-image-amd64 '"linux-image-$nohdr"'
	rmdir "$a/partial"
	rm -f "$a/lock"'"$system_hook"
hook=$base_hook
[ "$variant" = fleet ] && hook=$fleet_hook

key() { sha256sum | cut -c1-16; }

# A container's root file system: busybox-static, an init that keeps a
# child and ends on a stop signal (the engines that boot an OS tree run /sbin/init), os-release
# (systemd-nspawn refuses a tree without one).
mkroot() {	# stage dir
	local r=$2 a
	mkdir -p "$r/bin" "$r/sbin" "$r/etc" "$r/usr/lib" "$r/dev" "$r/proc" "$r/sys" "$r/tmp" "$r/run" "$r/root"
	cp "$1/bin/busybox" "$r/bin/busybox"
	for a in sh sleep cat ls ps true; do ln -sf busybox "$r/bin/$a"; done
	# an init ignores the signals it does not handle: the engines' stop
	# signals (SIGTERM, lxc's SIGPWR, nspawn's SIGRTMIN+3 and +4, glibc's
	# 37 and 38) end this one
	cat >"$r/sbin/init" <<'INIT'
#!/bin/sh
trap 'exit 0' TERM INT HUP USR1 USR2 PWR 37 38
sleep 1000 &
while :; do
	sleep 100000 &
	wait $!
done
INIT
	chmod 0755 "$r/sbin/init"
	printf 'ID=busybox\nNAME=busybox\nPRETTY_NAME="busybox (pidns-guard e2e)"\n' >"$r/usr/lib/os-release"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
}

# The engines run's containers and settings, in the disk's stage: docker's
# data root moved; ctr's root file system; LXC's e2e-lxc (autostart) and
# nspawn's e2e-machine (enabled: machines.target) started at boot; user
# e2e (uid 1000, subordinate ids, lingering: its user@1000.service runs
# from boot) for rootless podman; Incus's image (trixie).
engines_stage() {	# stage
	local s=$1
	printf '{ "iptables": false, "ip6tables": false, "bridge": "none", "data-root": "/srv/docker" }\n' \
		>"$s/etc/docker/daemon.json"
	mkroot "$s" "$s/var/lib/pidns-guard-e2e/rootfs"
	mkroot "$s" "$s/var/lib/lxc/e2e-lxc/rootfs"
	cat >"$s/var/lib/lxc/e2e-lxc/config" <<'LXC'
lxc.uts.name = e2e-lxc
lxc.rootfs.path = dir:/var/lib/lxc/e2e-lxc/rootfs
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.mount.auto = proc:mixed sys:ro
lxc.init.cmd = /sbin/init
lxc.start.auto = 1
LXC
	# no bridge, no dnsmasq: lxc-net has nothing to do here
	ln -sf /dev/null "$s/etc/systemd/system/lxc-net.service"
	mkroot "$s" "$s/var/lib/machines/e2e-machine"
	mkdir -p "$s/etc/systemd/system/machines.target.wants"
	ln -sf /lib/systemd/system/systemd-nspawn@.service \
		"$s/etc/systemd/system/machines.target.wants/systemd-nspawn@e2e-machine.service"
	ln -sf /lib/systemd/system/machines.target "$s/etc/systemd/system/multi-user.target.wants/machines.target"
	chroot "$s" useradd -m -u 1000 -s /bin/sh e2e
	# useradd gives subordinate ids where /etc/subuid exists; else here
	grep -q '^e2e:' "$s/etc/subuid" 2>/dev/null || echo 'e2e:100000:65536' >>"$s/etc/subuid"
	grep -q '^e2e:' "$s/etc/subgid" 2>/dev/null || echo 'e2e:100000:65536' >>"$s/etc/subgid"
	mkdir -p "$s/var/lib/systemd/linger"
	touch "$s/var/lib/systemd/linger/e2e"
	if [ "$rel" = trixie ]; then
		local m
		m=$(mktemp -d)
		printf 'architecture: x86_64\ncreation_date: %s\nproperties:\n  os: busybox\n  description: pidns-guard e2e\n' \
			"$(date +%s)" >"$m/metadata.yaml"
		tar -C "$m" -cf "$s/var/cache/pidns-guard-e2e/incus-meta.tar" metadata.yaml
		tar -C "$s/var/lib/pidns-guard-e2e/rootfs" -cf "$s/var/cache/pidns-guard-e2e/incus-rootfs.tar" .
		rm -rf "$m"
	fi
}
base_key=$( { echo "$rel $kernel $upgrade $nohdr $packages"; printf '%s\n' "${sources[@]}" "$hook"; } | key)
base=$dir/base${variant:+-$variant}-$base_key
if [ ! -f "$base/.ready" ]; then
	pg_log "e2e: making the $rel base image (mmdebstrap, a few minutes): $base"
	t0=$(date +%s)
	# shellcheck disable=SC2086 # the list is split on purpose
	mmdebstrap --variant=minbase --include="$(printf '%s\n' $packages | paste -sd,)" \
		--aptopt='APT::Install-Recommends "false"' \
		--customize-hook="$hook" \
		"$rel" "$base" "${sources[@]}" >"$dir/base${variant:+-$variant}.log" 2>&1 ||
		{ tail -n 30 "$dir/base${variant:+-$variant}.log" >&2; rm -rf "$base"; pg_die "mmdebstrap $rel failed (see $dir/base${variant:+-$variant}.log)"; }
	touch "$base/.ready"
	find "$dir" -maxdepth 1 -name "base${variant:+-$variant}-*" ! -name "$(basename "$base")" -exec rm -rf {} +
	pg_log "e2e: $rel base made in $(($(date +%s) - t0)) s"
fi

# The packages installed with apt in the stage, as a host upgrades: the
# release before the split first (pidns-guard-dkms 0.1.0, DKMS builds
# it), its conffile edited as an operator would, then today's two
# (DKMS builds today's module).
deb_stage() {	# stage
	local stage=$1 signer d
	d=$(dirname "$deb")
	cp "$deb" "$d/pidns-guard_$(pg_version)_all.deb" "$d"/previous/pidns-guard-dkms_0.1.0_all.deb "$stage/tmp/"
	# apt in the image's root, with /proc, /sys and /dev, in a private
	# mount namespace (the mounts go with it).
	# shellcheck disable=SC2016
	unshare --mount --propagation private -- sh -c '
		r=$1
		mount -t proc proc "$r/proc" && mount --rbind /sys "$r/sys" && mount --rbind /dev "$r/dev" &&
		chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
			sh -c "apt-get install -y /tmp/pidns-guard-dkms_0.1.0_all.deb && dkms status &&
				echo \"# e2e: a line the operator added\" >>/etc/default/pidns-guard &&
				apt-get install -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
					/tmp/$(basename "$2") /tmp/pidns-guard_$3_all.deb && dkms status"
	' sh "$stage" "$deb" "$(pg_version)" >"$dir/install.log" 2>&1 ||
		{ tail -n 30 "$dir/install.log" >&2; pg_die "apt-get install of the packages failed in the $rel image (see $dir/install.log)"; }
	rm -f "$stage"/tmp/pidns-guard*.deb
	ls "$stage/lib/modules/$kernel/updates/dkms/"pidns_guard.ko* >/dev/null ||
		pg_die "DKMS built no module for $kernel in the $rel image (see $dir/install.log)"
	# DKMS signs (the package depends on openssl): its key made by this
	# install, the module signed with it (what the Secure Boot run enrolls).
	if [ ! -s "$stage/var/lib/dkms/mok.key" ] || [ ! -s "$stage/var/lib/dkms/mok.pub" ]; then
		pg_die "the install made no DKMS key /var/lib/dkms/mok.{key,pub} in the $rel image (see $dir/install.log)"
	fi
	signer=$(modinfo -F signer "$stage/lib/modules/$kernel/updates/dkms/"pidns_guard.ko*)
	[ -n "$signer" ] || pg_die "DKMS did not sign the module in the $rel image (see $dir/install.log)"
	echo "module signed by: $signer" >>"$dir/install.log"
	# the guest's Prometheus: node_exporter on localhost every 5 s, the
	# package's rules file as shipped
	install -m 0644 "$here/prometheus.yml" "$stage/etc/prometheus/prometheus.yml"
	mkdir -p "$stage/etc/docker"
	# No network in the guest: no iptables rules, no bridge.
	printf '{ "iptables": false, "ip6tables": false, "bridge": "none" }\n' >"$stage/etc/docker/daemon.json"
}

# The fleet node: the repository and the local archive its only apt
# sources (no network in the guest), pidns-guard not installed.
fleet_stage() {	# stage
	local stage=$1 a=/var/cache/pidns-guard-e2e/archive
	cp -a "$deb" "$stage/srv/pidns-guard-repo"
	# the DaemonSet's image (k8s/build-image) and manifest, when given
	if [ -n "${PG_E2E_NODE_IMAGE:-}" ]; then
		cp "$PG_E2E_NODE_IMAGE" "$stage/var/cache/pidns-guard-e2e/pidns-guard-node.oci.tar"
		install -D -m 0644 "$PG_ROOT/k8s/pidns-guard-daemonset.yaml" \
			"$stage/usr/local/lib/pidns-guard-e2e/pidns-guard-daemonset.yaml"
	fi
	install -D -m 0644 "$deb/pidns-guard-archive-keyring.gpg" \
		"$stage/usr/share/keyrings/pidns-guard-archive-keyring.gpg"
	(cd "$stage$a" && apt-ftparchive packages . >Packages) ||
		pg_die "apt-ftparchive failed on the $rel local archive"
	rm -f "$stage/etc/apt/sources.list" "$stage"/etc/apt/sources.list.d/*
	printf '%s\n' "deb [signed-by=/usr/share/keyrings/pidns-guard-archive-keyring.gpg] file:/srv/pidns-guard-repo $rel main" \
		>"$stage/etc/apt/sources.list.d/pidns-guard.list"
	# the stand-in for Debian's mirror (whose Release apt would check)
	printf '%s\n' "deb [trusted=yes] file:$a ./" >"$stage/etc/apt/sources.list.d/archive.list"
	rm -rf "$stage"/var/lib/apt/lists/*
	echo "fleet node: $(ls "$stage$a"/*.deb | wc -l) archive .debs, repository $(ls "$deb"/dists | paste -sd' ')" >"$dir/install.log"
}

# The disk: keyed by the base, the package's contents (not its mtimes) or
# the repository's indexes, and the guest's files.
if [ "$variant" = fleet ]; then
	deb=$(cd "$deb" && pwd)
	deb_key=$(cat "$deb"/dists/*/Release "$deb/pidns-guard-archive-keyring.gpg" ${PG_E2E_NODE_IMAGE:+"$PG_E2E_NODE_IMAGE"} \
		"$PG_ROOT/k8s/pidns-guard-daemonset.yaml" | key)
else
	deb_key=$(for f in "$deb" "$(dirname "$deb")/pidns-guard_$(pg_version)_all.deb" \
		"$(dirname "$deb")"/previous/pidns-guard-dkms_0.1.0_all.deb; do
		dpkg-deb --fsys-tarfile "$f" | tar -xO; done | key)
fi
disk_key=$( { echo "$base_key $deb_key"; cat "$here/guest-checks.sh" "$here/pidns-guard-e2e.service" "$here/pgtracer.c" \
		"$here/pidns-guard-e2e-crash.service" "$here/prometheus.yml" "$here/engines.sh" "$here/fleet.sh"
	      cat "$here/image.sh"; } | key)
disk=$dir/disk${variant:+-$variant}-$disk_key.raw
if [ ! -f "$disk" ]; then
	pg_log "e2e: making the $rel ${variant:-normal} disk"
	stage=$dir/stage
	rm -rf "$stage"
	cp -a "$base" "$stage"
	rm -f "$stage/.ready"
	if [ "$variant" = fleet ]; then
		fleet_stage "$stage"
	else
		deb_stage "$stage"
	fi
	install -m 0755 "$here/guest-checks.sh" "$stage/usr/local/sbin/pidns-guard-e2e"
	install -D -m 0644 "$here/engines.sh" "$stage/usr/local/lib/pidns-guard-e2e/engines.sh"
	install -D -m 0644 "$here/fleet.sh" "$stage/usr/local/lib/pidns-guard-e2e/fleet.sh"
	# static: the images carry no libc6-dev
	gcc -static -O2 -Wall -o "$stage/usr/local/sbin/pgtracer" "$here/pgtracer.c" ||
		pg_die "cannot build pgtracer (gcc, libc6-dev on the host)"
	install -m 0644 "$here/pidns-guard-e2e.service" "$stage/etc/systemd/system/"
	# the crash phase's unit: enabled, runs only while its flag file is there
	install -m 0644 "$here/pidns-guard-e2e-crash.service" "$stage/etc/systemd/system/"
	for u in pidns-guard-e2e.service pidns-guard-e2e-crash.service; do
		ln -sf /etc/systemd/system/$u "$stage/etc/systemd/system/multi-user.target.wants/$u"
	done
	mkdir -p "$stage/var/lib/pidns-guard-e2e"
	[ "$variant" = engines ] && engines_stage "$stage"
	[ "$variant" = fleet ] && echo fleet1 >"$stage/var/lib/pidns-guard-e2e/phase"
	printf '%s\n' "KERNEL=$kernel" "UPGRADE=$upgrade" "NOHDR=$nohdr" "RELEASE=$rel" >"$stage/etc/pidns-guard-e2e.conf"
	# The guest's kernel upgrade under TCG: an initramfs of the modules
	# this machine needs (the chroot could not tell: its own is "most"),
	# and no fsync per unpacked file (the disk is a scratch copy).
	echo MODULES=dep >"$stage/etc/initramfs-tools/conf.d/pidns-guard-e2e"
	echo force-unsafe-io >"$stage/etc/dpkg/dpkg.cfg.d/pidns-guard-e2e"
	size=$(( $(du -sm "$stage" | cut -f1) + 3072 ))
	rm -f "$disk.new"
	mkfs.ext4 -q -F -L e2e-root -d "$stage" "$disk.new" "${size}M" >>"$dir/install.log" 2>&1 ||
		pg_die "mkfs.ext4 -d failed (see $dir/install.log)"
	rm -rf "$stage"
	mv "$disk.new" "$disk"
	# older disks of this release go
	find "$dir" -maxdepth 1 -name "disk${variant:+-$variant}-*.raw" ! -name "$(basename "$disk")" -delete
fi
printf '%s\n' "DISK=$disk" "KERNEL=$kernel" "UPGRADE=$upgrade" "NOHDR=$nohdr"
