# shellcheck shell=sh
# The in-guest test suite, run by /init on every kernel (see tests/run).
# Each part of suite.d runs in a subshell between "PGT PART-BEGIN name" and
# "PGT PART-END name" (name: the file's, without .sh), so that a part that
# dies (exit, a crash) is named and the parts after it still run.
# plan: final/no-traces
. /payload/lib.sh

echo "pgt: kernel $(uname -r), generation $PG_GENERATION, version $PG_VERSION"

for part in /payload/suite.d/*.sh; do
	[ -f "$part" ] || continue
	_p=$(basename "$part" .sh)
	echo "PGT PART-BEGIN $_p" >&3
	# shellcheck disable=SC2034 # read by pgt_declared (lib.sh)
	PGT_PART=$part
	# shellcheck source=/dev/null
	( . "$part"; echo "PGT PART-END $_p" >&3 )
	pgt_reset
done

# Whatever ran, the module must be gone and leave nothing behind.
pgt_loaded && pgt_unload
pgt_check final/no-traces "nothing of pidns_guard remains" pgt_no_traces
