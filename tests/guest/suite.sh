# shellcheck shell=sh
# The in-guest test suite, run by /init on every kernel (see tests/run).
. /payload/lib.sh

echo "pgt: kernel $(uname -r), generation $PG_GENERATION, version $PG_VERSION"

for part in /payload/suite.d/*.sh; do
	. "$part"
done

# Whatever ran, the module must be gone and leave nothing behind.
pgt_loaded && pgt_unload
pgt_check final/no-traces "nothing of pidns_guard remains" pgt_no_traces
