#!/usr/bin/env bash
# Boot the e2e disk image once, with its own systemd as init.
#
#   tests/e2e/boot.sh DISK ABI OUTDIR TIMEOUT
#
# The kernel and initramfs are the image's own /boot/vmlinuz-ABI and
# /boot/initrd.img-ABI, read out of the ext4 file with debugfs (the guest
# may have just installed them).  QEMU TCG, -cpu max, 2 vCPUs, 3 GB, no
# network; ttyS0 (console) -> OUTDIR/console.log, ttyS1 (the in-guest
# checks' result lines) -> OUTDIR/results.log.  Exit 0 when the guest
# reported the end of its checks (E2E-END), 1 otherwise.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

disk=$1 abi=$2 out=$3 timeout=$4
mkdir -p "$out"
for f in "vmlinuz-$abi" "initrd.img-$abi"; do
	rm -f "$out/$f"
	debugfs -R "dump /boot/$f $out/$f" "$disk" >/dev/null 2>&1
	[ -s "$out/$f" ] || pg_die "no /boot/$f in $disk"
done

: >"$out/console.log"
: >"$out/results.log"
rc=0
t0=$(date +%s)
timeout -k 10 "$timeout" qemu-system-x86_64 \
	-accel tcg -cpu max -smp 2 -m 3072 \
	-nodefaults -display none -no-reboot \
	-kernel "$out/vmlinuz-$abi" -initrd "$out/initrd.img-$abi" \
	-append "root=/dev/vda rw console=ttyS0,115200 panic=-1 systemd.show_status=1" \
	-drive "file=$disk,format=raw,if=virtio,cache=unsafe" \
	-serial "file:$out/console.log" -serial "file:$out/results.log" \
	</dev/null >"$out/qemu.log" 2>&1 || rc=$?
rm -f "$out/vmlinuz-$abi" "$out/initrd.img-$abi"
echo "$(($(date +%s) - t0))" >"$out/seconds"
if ! grep -aq '^E2E-END' "$out/results.log"; then
	pg_log "e2e: the guest on $abi never reported the end (qemu exit $rc, ${timeout}s timeout); console tail:"
	tail -n 30 "$out/console.log" >&2
	exit 1
fi
