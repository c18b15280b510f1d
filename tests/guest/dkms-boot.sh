# shellcheck shell=sh
# In-guest half of tests/dkms.sh: the DKMS-built module on its kernel.
dbg=/sys/kernel/debug/pidns_guard
ok=PASS
insmod /payload/pidns_guard.ko || ok=FAIL
/payload/pgtest run tree_wide -n 1 || ok=FAIL
[ "$(sed -n 's/^teardowns_done //p' $dbg/stats)" = 1 ] || ok=FAIL
rmmod pidns_guard || ok=FAIL
echo "PGT RESULT dkms/boot $ok $(uname -r)" >&3
