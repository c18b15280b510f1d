# shellcheck shell=bash
# The kernel generation of each Debian ABI: the one place the tests learn
# it from, independent of what is tested.  The module (src/generation.h)
# and pg_kernel_generation (common.sh) both decide from the headers
# (PF_NO_NOTIFY_SIGNAL defined or not); this table says what Debian
# shipped, so that a header test gone wrong (or a kernel Debian fixed or
# unfixed) is caught: tests/run and tests/matrix check the headers'
# generation against it when they build (host/generation), and give the
# in-guest suite the table's value (PG_GENERATION) to compare the module
# with.
#
# One row per range of ABIs: SERIES FIRST LAST GENERATION.  An ABI
# "6.1.0-N-flavour" (Debian 12's 6.1) is series 6.1.0, number N; any other
# "X.Y.N+debZ-flavour" (or "X.Y.N" alone, a local build) is series X.Y,
# number N.  LAST "-": no upper bound.  An ABI in no row has no known
# generation: that fails the build check (add the row).
#
#   old: without Debian's 2026 zap_pid_ns_processes() fixes (pidns_guard is
#        the live fix): 6.1.0-47..54; 6.12.x up to 113 (bookworm-backports'
#        6.12.95, Debian 12's and 13's 6.12.x+deb12/+deb13 to 113);
#        7.2.* (trixie-backports, forky).
#   new: with them: 6.1.0-55 and later, 6.12.115 and later, 7.3.*.
PG_GENERATIONS='
6.1.0	47	54	old
6.1.0	55	-	new
6.12	0	113	old
6.12	115	-	new
7.2	0	-	old
7.3	0	-	new
'

# pg_generation_of ABI: "old" or "new" from the table; prints nothing and
# fails when no row covers ABI.
pg_generation_of() {
	local abi=$1 s1='' n1='' s2='' n2='' series first last gen n
	if [[ $abi =~ ^([0-9]+\.[0-9]+\.0)-([0-9]+)(-|$) ]]; then
		s1=${BASH_REMATCH[1]} n1=${BASH_REMATCH[2]}
	fi
	if [[ $abi =~ ^([0-9]+\.[0-9]+)\.([0-9]+)([+-]|$) ]]; then
		s2=${BASH_REMATCH[1]} n2=${BASH_REMATCH[2]}
	fi
	while read -r series first last gen; do
		[ -n "$series" ] || continue
		if [ "$series" = "$s1" ]; then
			n=$n1
		elif [ "$series" = "$s2" ]; then
			n=$n2
		else
			continue
		fi
		[ "$n" -ge "$first" ] && { [ "$last" = - ] || [ "$n" -le "$last" ]; } &&
			{ echo "$gen"; return 0; }
	done <<<"$PG_GENERATIONS"
	return 1
}

# pg_generation_check ABI HEADERS_GENERATION: prints "PASS detail" or
# "FAIL detail": the headers' generation (the module's own #ifdef) against
# the table's.
pg_generation_check() {
	local abi=$1 hdr=$2 want
	if ! want=$(pg_generation_of "$abi"); then
		echo "FAIL $abi is in no row of tests/lib/generations.sh (its headers say $hdr): add its row"
	elif [ "$want" != "$hdr" ]; then
		echo "FAIL the headers say $hdr (PF_NO_NOTIFY_SIGNAL $([ "$hdr" = new ] || echo 'not ')defined), tests/lib/generations.sh says $want for $abi"
	else
		echo "PASS $hdr generation, from the headers and from tests/lib/generations.sh"
	fi
}
