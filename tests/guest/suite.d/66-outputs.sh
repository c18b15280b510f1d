# shellcheck shell=sh
# Issue 21: what scripts and Prometheus read from the command, checked by
# real validators on the host.  The guest has neither a JSON Schema
# validator nor promtool, so this part makes the outputs in states worth
# checking and hands each to tests/run as an attachment:
#   PGT ATTACH <result name> <kind> <base64 of the output>
# kind: a definition of doc/pidns-guard.schema.json (status, stuck,
# container_output), validated with python3-jsonschema; or prom, checked
# with Debian's `promtool check metrics`.  tests/run reports each planned
# name from its validator; one never attached fails as missing.
# plan: out/status-not-loaded out/status-loaded out/stuck-none out/stuck-held
# plan: out/container out/metrics-not-loaded out/metrics-held

PGO="sh /payload/pidns-guard"

pgo_attach() {	# name kind file
	printf 'PGT ATTACH %s %s %s\n' "$1" "$2" "$(base64 <"$3" | tr -d '\n')" >&3
	echo "pgt: $1: attached $(wc -c <"$3") bytes ($2): $(head -c 300 "$3")"
}

pgo_outputs() {
	$PGO status --json >/tmp/o-status-nl.json
	pgo_attach out/status-not-loaded status /tmp/o-status-nl.json
	$PGO metrics >/tmp/o-metrics-nl.prom
	pgo_attach out/metrics-not-loaded prom /tmp/o-metrics-nl.prom
	pgt_load || { echo "insmod failed"; return 1; }
	$PGO status --json >/tmp/o-status.json
	pgo_attach out/status-loaded status /tmp/o-status.json
	$PGO stuck --json >/tmp/o-stuck-none.json
	pgo_attach out/stuck-none stuck /tmp/o-stuck-none.json
	$PGO container --json $$ >/tmp/o-container.json
	pgo_attach out/container container_output /tmp/o-container.json
	# a held teardown, 31 s old: stuck lists it with its holder, and the
	# metrics carry its stuck-teardown series
	pgt_hold_start foreign || { echo "no held namespace"; return 1; }
	sleep 31
	$PGO stuck --json >/tmp/o-stuck-held.json
	pgo_attach out/stuck-held stuck /tmp/o-stuck-held.json
	$PGO metrics >/tmp/o-metrics-held.prom
	pgo_attach out/metrics-held prom /tmp/o-metrics-held.prom
	grep -q '^pidns_guard_stuck_teardown_age_seconds{' /tmp/o-metrics-held.prom ||
		{ echo "no stuck-teardown series for a teardown held 31 s"; return 1; }
	pgt_hold_release >/dev/null || { echo "held teardown broke"; return 1; }
	pgt_unload
}

# The attachments are the results; a failure here shows as missing ones.
pgo_outputs 2>&1 | sed 's/^/pgt: out: /'
