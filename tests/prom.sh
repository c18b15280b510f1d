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
# never installed (tests/lib/validate.sh).  And the two validators tests/run
# applies to the command's outputs (suite.d/66-outputs.sh) are shown to
# reject a broken input.  Prints "PLAN name...", then one PASS/FAIL line per
# check; exits non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

. "$PG_ROOT/tests/lib/validate.sh"

pg_plan host/promtool-check-rules host/promtool-test-rules host/promtool-tests-catch-broken-rules \
	host/json-schema-rejects-broken host/promtool-rejects-broken-metrics
out="$PG_ROOT/out/prom"
rm -rf "$out" && mkdir -p "$out"
# shellcheck disable=SC2034 # read by pg_check (common.sh)
PG_CHECK_LOG="$out/prom.log"
rules=$PG_ROOT/prometheus

PROMTOOL=$PG_PROMTOOL

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

# The validators tests/run applies to the command's outputs must be able
# to say no: a status whose state is no state, metrics with a sample
# before its family's TYPE line.
json_rejects_broken() {
	printf '%s\n' '{"loaded":false,"state":"bogus","why":"x","fix":"y","version":null,"installed_version":null,"kernel":"k","generation":null,"lockdown":"none","warn_after_secs":null,"teardowns_in_progress":null,"counters":null,"installed_kernels":[]}' >"$out/broken.json"
	sed 's/"bogus"/"not-built"/' "$out/broken.json" >"$out/fixed.json"
	pg_check_json "$out/fixed.json" status && ! pg_check_json "$out/broken.json" status
}

promtool_rejects_broken() {
	printf 'pidns_guard_loaded 0\n# HELP pidns_guard_loaded x\n# TYPE pidns_guard_loaded gauge\n' >"$out/broken.prom"
	printf '# HELP pidns_guard_loaded x\n# TYPE pidns_guard_loaded gauge\npidns_guard_loaded 0\n' >"$out/fixed.prom"
	pg_check_metrics "$out/fixed.prom" && ! pg_check_metrics "$out/broken.prom"
}

pg_promtool_fetch || echo "cannot unpack promtool from Debian's prometheus package" >>"$PG_CHECK_LOG"
pg_check promtool-check-rules "promtool check rules: prometheus/pidns-guard.rules.yml" check_rules
pg_check promtool-test-rules "promtool test rules: every alert fires and resolves as its tests say" test_rules
pg_check promtool-tests-catch-broken-rules "the tests reject a copy with the stuck threshold and every 'for' changed" broken_rejected
pg_check json-schema-rejects-broken "the JSON Schema check passes a good status and rejects one in no state" json_rejects_broken
pg_check promtool-rejects-broken-metrics "promtool check metrics passes good metrics and rejects a sample before its TYPE" promtool_rejects_broken
exit "$PG_CHECK_RC"
