#!/usr/bin/env bash
# The DaemonSet's manifest (k8s/pidns-guard-daemonset.yaml) against the
# Kubernetes API's types, offline (tests/k8s/validate.mjs: the validators
# kubernetes-models generates from the Kubernetes OpenAPI schema, and
# unknown fields refused as kubectl --validate=strict does, from
# @kubernetes/client-node's models); four broken copies (a misspelt
# field at two depths, a string for a boolean, a required field missing)
# must each be refused: the check can tell.  The manifest's image is this
# version's; the node's process is POSIX sh.
#
#   tests/k8s.sh [ABI ...]      (the kernels are ignored)
#
# Node.js and npm: the host's, else Debian's (apt); the npm packages
# (pinned in tests/k8s/package.json) installed from the npm registry into
# $PG_CACHE/k8s-validate.  Prints "PLAN name...", then one PASS/FAIL line
# per check; exits non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

pg_plan host/k8s-schema host/k8s-schema-catches-broken host/k8s-image-version host/k8s-node-sh
out="$PG_ROOT/out/k8s"
rm -rf "$out" && mkdir -p "$out"
# shellcheck disable=SC2034 # read by pg_check (common.sh)
PG_CHECK_LOG="$out/k8s.log"
manifest=$PG_ROOT/k8s/pidns-guard-daemonset.yaml
v=$PG_CACHE/k8s-validate

validator() {
	command -v node >/dev/null && command -v npm >/dev/null || pg_apt_install nodejs npm
	mkdir -p "$v"
	if ! cmp -s "$PG_ROOT/tests/k8s/package.json" "$v/package.json" || [ ! -d "$v/node_modules" ]; then
		cp "$PG_ROOT/tests/k8s/package.json" "$v/"
		(cd "$v" && npm install --no-audit --no-fund --loglevel=error) || return 1
	fi
	cp "$PG_ROOT/tests/k8s/validate.mjs" "$v/"
}
validate() { node "$v/validate.mjs" "$@"; }

# Each broken copy refused, with its own reason.
catches_broken() {
	local n=0 f want
	while IFS='|' read -r name sed_expr want; do
		f=$out/$name.yaml
		sed "$sed_expr" "$manifest" >"$f"
		cmp -s "$manifest" "$f" && { echo "$name: the edit changed nothing"; return 1; }
		if validate "$f" >"$f.out"; then
			echo "$name: accepted"
			return 1
		fi
		cat "$f.out"
		grep -q -- "$want" "$f.out" || { echo "$name: refused for another reason"; return 1; }
		n=$((n + 1))
	done <<'CASES'
hostpid|s/hostPID: true/hostPid: true/|hostPid: not a field of V1PodSpec
matchlabelz|s/^    matchLabels:/    matchLabelz:/|matchLabelz: not a field of V1LabelSelector
privileged|s/privileged: true/privileged: "yes"/|privileged must be boolean
no-selector|/^  selector:/,/^  updateStrategy:/{/^  updateStrategy:/!d}|must have required property selector
CASES
	[ $n = 4 ]
}

image_version() {
	grep -qx "          image: localhost/pidns-guard-node:$(pg_version)" "$manifest"
}

validator >>"$PG_CHECK_LOG" 2>&1 || echo "cannot install the validator (npm)" >>"$PG_CHECK_LOG"
pg_check k8s-schema "k8s/pidns-guard-daemonset.yaml valid against the Kubernetes API's types, no unknown field" \
	validate "$manifest"
pg_check k8s-schema-catches-broken "four broken copies refused: misspelt fields (pod spec, selector), a string for a boolean, no selector" \
	catches_broken
pg_check k8s-image-version "the manifest runs pidns-guard-node:$(pg_version)" image_version
pg_check k8s-node-sh "k8s/pidns-guard-node parses as POSIX sh (dash -n)" dash -n "$PG_ROOT/k8s/pidns-guard-node"
exit "$PG_CHECK_RC"
