#!/usr/bin/env bash
# Boot the e2e disk image once, with its own systemd as init.
#
#   tests/e2e/boot.sh DISK ABI OUTDIR TIMEOUT
#   tests/e2e/boot.sh --secureboot VARS DISK ABI OUTDIR TIMEOUT
#
# The kernel and initramfs are the image's own /boot/vmlinuz-ABI and
# /boot/initrd.img-ABI, read out of the ext4 file with debugfs (the guest
# may have just installed them).  QEMU TCG, -cpu max, 2 vCPUs, 3 GB, no
# network; ttyS0 (console) -> OUTDIR/console.log, ttyS1 (the in-guest
# checks' result lines) -> OUTDIR/results.log.  Exit 0 when the guest
# reported the end of its checks (E2E-END) or that it crashes on purpose
# (E2E-CRASH: the crash phase; panic=-1 and -no-reboot end the boot
# there), 1 otherwise.
#
# --secureboot: DISK is sb.sh's GPT disk and the firmware boots it: OVMF
# with Secure Boot (OVMF_CODE_4M.secboot.fd, SMM, the secure pflash) and
# VARS, a copy of OVMF_VARS_4M.ms.fd, as its varstore; shim, grub and the
# kernel from the ESP and the root partition (ABI only names the boot).
#
# PG_E2E_APPEND: more kernel command line (the engines run's cgroup v1
# boot), without --secureboot.
#
# One big guest at a time on the machine: the boot itself holds
# /tmp/pg-qemu.lock (the time waiting for it is not in the timeout, nor
# in OUTDIR/seconds).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

vars=
if [ "${1:-}" = --secureboot ]; then
	vars=$2
	shift 2
fi
disk=$1 abi=$2 out=$3 timeout=$4
mkdir -p "$out"
if [ -n "$vars" ]; then
	# shellcheck disable=SC2054 # QEMU's options hold commas
	machine=(-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on
		-global ICH9-LPC.disable_s3=1
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
		-drive "if=pflash,format=raw,unit=1,file=$vars"
		# bootindex: OVMF boots this disk first (fw_cfg's bootorder), not
		# the varstore's entries (a SATA disk, the EFI shell)
		-drive "file=$disk,format=raw,if=none,id=root,cache=unsafe"
		-device virtio-blk-pci,drive=root,bootindex=0)
else
	for f in "vmlinuz-$abi" "initrd.img-$abi"; do
		rm -f "$out/$f"
		debugfs -R "dump /boot/$f $out/$f" "$disk" >/dev/null 2>&1
		[ -s "$out/$f" ] || pg_die "no /boot/$f in $disk"
	done
	machine=(-kernel "$out/vmlinuz-$abi" -initrd "$out/initrd.img-$abi"
		-append "root=/dev/vda rw console=ttyS0,115200 panic=-1 systemd.show_status=1${PG_E2E_APPEND:+ $PG_E2E_APPEND}"
		-drive "file=$disk,format=raw,if=virtio,cache=unsafe")
fi

: >"$out/console.log"
: >"$out/results.log"
rc=0
exec {lock}>/tmp/pg-qemu.lock
flock "$lock"
t0=$(date +%s)
timeout -k 10 "$timeout" qemu-system-x86_64 \
	-accel tcg -cpu max -smp 2 -m 3072 \
	-nodefaults -display none -no-reboot \
	"${machine[@]}" \
	-serial "file:$out/console.log" -serial "file:$out/results.log" \
	</dev/null >"$out/qemu.log" 2>&1 {lock}>&- || rc=$?
echo "$(($(date +%s) - t0))" >"$out/seconds"
flock -u "$lock"
rm -f "$out/vmlinuz-$abi" "$out/initrd.img-$abi"
if ! grep -aEq '^E2E-(END|CRASH)' "$out/results.log"; then
	pg_log "e2e: the guest on $abi never reported the end (qemu exit $rc, ${timeout}s timeout); console tail:"
	tail -n 30 "$out/console.log" >&2
	exit 1
fi
