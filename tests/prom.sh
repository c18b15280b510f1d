#!/usr/bin/env bash
# The alert rules the package ships (prometheus/pidns-guard.rules.yml), by
# Debian's own promtool: `check rules`, and `test rules` on
# prometheus/pidns-guard.rules.test.yml (each alert shown firing, and not
# firing, on the series around it); and the same tests run against a
# deliberately broken copy of the rules (the stuck threshold and every
# "for" changed), which must fail: the tests can tell.
#
#   tests/prom.sh [ABI ...]     (the kernels are ignored: nothing here is
#                               per kernel)
#
# promtool comes from the prometheus package of Debian 12 (bookworm has no
# promtool package of its own), downloaded and unpacked into the cache,
# never installed.  Prints "PLAN name...", then one PASS/FAIL line per
# check; exits non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

pg_plan host/promtool-check-rules host/promtool-test-rules host/promtool-tests-catch-broken-rules
out="$PG_ROOT/out/prom"
rm -rf "$out" && mkdir -p "$out"
# shellcheck disable=SC2034 # read by pg_check (common.sh)
PG_CHECK_LOG="$out/prom.log"
rules=$PG_ROOT/prometheus

# promtool, unpacked from Debian's package once into the cache.
PROMTOOL="$PG_CACHE/promtool/usr/bin/promtool"
fetch_promtool() {
	local d="$PG_CACHE/promtool"
	[ -x "$PROMTOOL" ] && return 0
	rm -rf "$d" && mkdir -p "$d"
	(cd "$d" && pg_papt download prometheus/bookworm && dpkg-deb -x prometheus_*.deb . &&
		rm -f prometheus_*.deb) >>"$PG_CHECK_LOG" 2>&1 && [ -x "$PROMTOOL" ]
}

check_rules() { (cd "$rules" && "$PROMTOOL" check rules pidns-guard.rules.yml); }
test_rules() { (cd "$rules" && "$PROMTOOL" test rules pidns-guard.rules.test.yml); }

# A copy of the rules with the stuck threshold 300 -> 3000 and every
# "for" made 0m: the tests must reject it.
broken_rejected() {
	mkdir -p "$out/broken"
	sed 's/ > 300$/ > 3000/; s/^\( *for:\) .*/\1 0m/' "$rules/pidns-guard.rules.yml" \
		>"$out/broken/pidns-guard.rules.yml"
	cmp -s "$rules/pidns-guard.rules.yml" "$out/broken/pidns-guard.rules.yml" && return 1
	cp "$rules/pidns-guard.rules.test.yml" "$out/broken/"
	! (cd "$out/broken" && "$PROMTOOL" test rules pidns-guard.rules.test.yml)
}

fetch_promtool || echo "cannot unpack promtool from Debian's prometheus package (see $PG_CHECK_LOG)" >>"$PG_CHECK_LOG"
pg_check promtool-check-rules "promtool check rules: prometheus/pidns-guard.rules.yml" check_rules
pg_check promtool-test-rules "promtool test rules: every alert fires and resolves as its tests say" test_rules
pg_check promtool-tests-catch-broken-rules "the tests reject a copy with the stuck threshold and every 'for' changed" broken_rejected
exit "$PG_CHECK_RC"
