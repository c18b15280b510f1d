#!/bin/sh
# Load pidns_guard on this host (building it first if needed), verify that
# the replacement is active, and say where to look.
#
#   scripts/load.sh            build if needed, load, verify
#   scripts/load.sh --unload   unload (explains when a teardown holds it)
#   scripts/load.sh --status   loaded?  version, counters, teardowns now
#
# A thin wrapper of pidns-guard (beside it: scripts/pidns-guard), which the
# package installs as /usr/sbin/pidns-guard; from a source tree it builds
# the module there when none is installed for the running kernel.
set -u

dir=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$dir/.." && pwd)
[ -f "$top/Kbuild" ] && PG_SRC=${PG_SRC:-$top} && export PG_SRC
PG_ME=$dir/pidns-guard && export PG_ME

case ${1:-} in
"") exec sh "$dir/pidns-guard" load ;;
--unload) exec sh "$dir/pidns-guard" unload ;;
--status) exec sh "$dir/pidns-guard" status ;;
-h|--help) sed -n '2,11p' "$0" ;;
*) echo "pidns_guard: unknown option $1 (try --help)." >&2; exit 1 ;;
esac
