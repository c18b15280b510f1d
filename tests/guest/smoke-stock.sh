# shellcheck shell=sh
# tests/boot-loop's stock boot: smoke.sh's workload without the module (an
# init with zombie children, a teardown held by an outside parent and
# released), so that a kernel fault seen in smoke.sh's boots can be looked
# for on the stock kernel too, in boots of the same shape.
# plan: stock/zombies stock/held
. /payload/lib.sh

echo "pgt: smoke-stock on $(uname -r)"
if pgt_loaded; then
	pgt_result stock/zombies FAIL "pidns_guard is loaded: not a stock boot"
	pgt_result stock/held FAIL "pidns_guard is loaded: not a stock boot"
	exit 0
fi
pgt_check stock/zombies "an init with 3 zombie children it never waited for, torn down" \
	unshare -p -f sh -c 'sleep 0.3 & sleep 0.3 & sleep 0.3 & exec sleep 2'
if pgt_hold_start foreign; then
	pgt_check stock/held "a teardown held by an outside parent's zombie, released" \
		pgt_hold_release
else
	pgt_result stock/held FAIL "no held namespace"
fi
