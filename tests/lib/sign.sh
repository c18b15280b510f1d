# shellcheck shell=bash
# A module signed with a key no kernel trusts: what a Secure Boot host
# refuses as "module with unavailable key" until that key is enrolled.
# The tests use it to see the refusal named (tests/guest/suite.d/90-lockdown.sh).

# The throwaway signing key and certificate (made once, cached).
pg_test_key() {
	local d="$PG_CACHE/testkey"
	if [ ! -s "$d/key.pem" ] || [ ! -s "$d/cert.der" ]; then
		command -v openssl >/dev/null || pg_apt_install openssl
		mkdir -p "$d"
		openssl req -new -x509 -newkey rsa:2048 -sha256 -days 36500 -nodes \
			-subj "/CN=pidns_guard test key (not enrolled anywhere)/" \
			-keyout "$d/key.pem" -outform DER -out "$d/cert.der" >/dev/null 2>&1 ||
			return 1
	fi
	echo "$d"
}

# pg_sign_module ABI KO OUT: OUT is KO signed with the test key by that
# kernel's own scripts/sign-file (in its release's root when the host
# does not build for it).
pg_sign_module() {
	local abi=$1 ko=$2 out=$3 key r dir
	key=$(pg_test_key) || return 1
	dir=$(cd "$(dirname "$out")" && pwd)
	cp "$ko" "$out"
	r=$(pg_abi_root "$abi")
	if [ -n "$r" ]; then
		pg_root_run "$r" --bind "$dir" --bind "$key" \
			"/usr/src/linux-headers-$abi/scripts/sign-file" sha256 "$key/key.pem" \
			"$key/cert.der" "$dir/$(basename "$out")"
	else
		"$(pg_kernel_headers "$abi")/scripts/sign-file" sha256 "$key/key.pem" \
			"$key/cert.der" "$out"
	fi
}
