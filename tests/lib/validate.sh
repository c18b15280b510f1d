# shellcheck shell=bash
# Real validators for what the command prints: Debian's promtool (from its
# prometheus package, unpacked into the cache, never installed) and a JSON
# Schema validator (python3-jsonschema) against doc/pidns-guard.schema.json.
# Used by tests/run (the attachments of suite.d/66-outputs.sh) and
# tests/prom.sh.

PG_PROMTOOL="$PG_CACHE/promtool/usr/bin/promtool"

# Unpack promtool once; 0 when it is there.
pg_promtool_fetch() {
	local d="$PG_CACHE/promtool"
	[ -x "$PG_PROMTOOL" ] && return 0
	rm -rf "$d" && mkdir -p "$d"
	(cd "$d" && pg_papt download prometheus/bookworm && dpkg-deb -x prometheus_*.deb . &&
		rm -f prometheus_*.deb) >"$d/.fetch.log" 2>&1 && [ -x "$PG_PROMTOOL" ]
}

# pg_check_metrics FILE: promtool's lint of a metrics file (exit status;
# what it says on stdout).
pg_check_metrics() {
	pg_promtool_fetch || { echo "no promtool (see $PG_CACHE/promtool/.fetch.log)"; return 1; }
	"$PG_PROMTOOL" check metrics <"$1" 2>&1
}

# pg_check_json FILE DEF: FILE against #/$defs/DEF of the schema.
pg_check_json() {
	pg_apt_install python3-jsonschema >/dev/null
	/usr/bin/python3 - "$PG_ROOT/doc/pidns-guard.schema.json" "$2" "$1" <<'PY'
import json, sys
import jsonschema
schema_file, definition, doc_file = sys.argv[1:4]
schema = json.load(open(schema_file))
if definition not in schema["$defs"]:
    print("no definition %s in the schema" % definition)
    sys.exit(1)
sub = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/" + definition}
try:
    doc = json.load(open(doc_file))
except ValueError as e:
    print("not JSON: %s" % e)
    sys.exit(1)
errors = sorted(jsonschema.Draft202012Validator(sub).iter_errors(doc), key=lambda e: list(e.path))
for e in errors[:3]:
    print("%s: %s" % ("/".join(str(p) for p in e.path) or "(top)", e.message))
sys.exit(1 if errors else 0)
PY
}
