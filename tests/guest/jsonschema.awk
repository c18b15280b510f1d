# A JSON parser and the part of JSON Schema (draft 2020-12) that
# doc/pidns-guard.schema.json uses: $ref to #/$defs/NAME, type, enum,
# const, required, properties, additionalProperties, items, minimum,
# minLength, pattern, allOf, oneOf, not, if/then/else.  Any other keyword
# is not checked.  In awk (busybox's too), for the guests that check
# pidns-guard's --json outputs (tests/guest/suite.d/65-cli.sh):
#   awk -v schema=FILE -v def=NAME -f jsonschema.awk <DOCUMENT
# exits 0 when DOCUMENT is one JSON value valid against #/$defs/NAME;
# else prints what is wrong, one line each, and exits 1 (2: the schema
# cannot be read).
function perr(m) { if (perr_ == "") perr_ = m " at byte " pos }
function ws() { while (pos <= len && index(" \t\r\n", substr(txt, pos, 1))) pos++ }
function pstr(    s, c, e) {
	pos++
	s = ""
	for (;;) {
		c = substr(txt, pos, 1)
		if (c == "") { perr("unterminated string"); return s }
		if (c == "\"") { pos++; return s }
		if (index(ctl, c)) { perr("control byte in a string"); return s }
		if (c == "\\") {
			e = substr(txt, pos + 1, 1)
			if (e != "" && index("\"\\/bfnrt", e)) { s = s c e; pos += 2; continue }
			if (e == "u" && substr(txt, pos + 2, 4) ~ /^[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]$/) {
				s = s substr(txt, pos, 6); pos += 6; continue
			}
			perr("bad escape"); return s
		}
		s = s c
		pos++
	}
}
function parse(p,    c, k, n) {
	ws()
	c = substr(txt, pos, 1)
	if (c == "{") {
		pos++
		T[p] = "object"; K[p] = ""
		ws()
		if (substr(txt, pos, 1) == "}") { pos++; return }
		for (;;) {
			ws()
			if (substr(txt, pos, 1) != "\"") { perr("a key expected"); return }
			k = pstr()
			ws()
			if (substr(txt, pos, 1) != ":") { perr("':' expected"); return }
			pos++
			if ((p "." k) in T) { perr("key " k " twice"); return }
			K[p] = K[p] SUBSEP k
			parse(p "." k)
			if (perr_ != "") return
			ws()
			c = substr(txt, pos++, 1)
			if (c == "}") return
			if (c != ",") { perr("',' or '}' expected"); return }
		}
	}
	if (c == "[") {
		pos++
		T[p] = "array"; N[p] = 0
		ws()
		if (substr(txt, pos, 1) == "]") { pos++; return }
		for (;;) {
			parse(p "[" N[p]++ "]")
			if (perr_ != "") return
			ws()
			c = substr(txt, pos++, 1)
			if (c == "]") return
			if (c != ",") { perr("',' or ']' expected"); return }
		}
	}
	if (c == "\"") { T[p] = "string"; V[p] = pstr(); return }
	if (match(substr(txt, pos), /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/)) {
		V[p] = substr(txt, pos, RLENGTH)
		T[p] = V[p] ~ /[.eE]/ ? "number" : "integer"
		pos += RLENGTH
		return
	}
	for (n = 1; n <= 3; n++) {
		k = n == 1 ? "true" : n == 2 ? "false" : "null"
		if (substr(txt, pos, length(k)) == k) {
			T[p] = n == 3 ? "null" : "boolean"; V[p] = k
			pos += length(k)
			return
		}
	}
	perr("a value expected")
}
function load(file, p,    line) {
	txt = ""
	while ((getline line < file) > 0) txt = txt line "\n"
	close(file)
	len = length(txt); pos = 1; perr_ = ""
	parse(p)
	ws()
	if (perr_ == "" && pos <= len) perr("trailing data")
	return perr_
}
function where(d) { return d == "D" ? "(top)" : substr(d, 3) }
function bad(d, m) {
	if (!quiet) errs = errs "\n" where(d) ": " m
	return 1
}
function typeok(t, want) { return t == want || (want == "number" && t == "integer") }
function same(a, b) {
	return (T[a] == T[b] || (T[a] ~ /^(integer|number)$/ && T[b] ~ /^(integer|number)$/)) && V[a] == V[b]
}
# errors of document value d against schema s (quiet: counted only)
function check(d, s,    n, i, k, rest, e, ok, ref, best, least) {
	n = 0
	if ((s ".$ref") in T) {
		ref = V[s ".$ref"]
		if (ref !~ /^#\/\$defs\//) return bad(d, "schema: unknown $ref " ref)
		n += check(d, "S.$defs." substr(ref, 9))
	}
	if ((s ".type") in T) {
		ok = 0
		if (T[s ".type"] == "string") ok = typeok(T[d], V[s ".type"])
		else for (i = 0; i < N[s ".type"]; i++) if (typeok(T[d], V[s ".type[" i "]"])) ok = 1
		if (!ok) n += bad(d, T[d] " where the schema wants another type")
	}
	if ((s ".enum") in T) {
		ok = 0
		for (i = 0; i < N[s ".enum"]; i++) if (same(d, s ".enum[" i "]")) ok = 1
		if (!ok) n += bad(d, T[d] " " V[d] " not one of the schema's values")
	}
	if ((s ".const") in T && !same(d, s ".const")) n += bad(d, T[d] " " V[d] ", not the schema's constant")
	if ((s ".minimum") in T && T[d] ~ /^(integer|number)$/ && V[d] + 0 < V[s ".minimum"] + 0)
		n += bad(d, V[d] " below the minimum")
	if ((s ".minLength") in T && T[d] == "string" && length(V[d]) < V[s ".minLength"] + 0)
		n += bad(d, "shorter than " V[s ".minLength"])
	if ((s ".pattern") in T && T[d] == "string" && V[d] !~ V[s ".pattern"])
		n += bad(d, "'" V[d] "' does not match " V[s ".pattern"])
	if (T[d] == "object") {
		if ((s ".required") in T)
			for (i = 0; i < N[s ".required"]; i++) {
				k = V[s ".required[" i "]"]
				if (!((d "." k) in T)) n += bad(d, "no " k)
			}
		rest = K[d]
		while (rest != "") {
			rest = substr(rest, 2)
			i = index(rest, SUBSEP)
			k = i ? substr(rest, 1, i - 1) : rest
			rest = i ? substr(rest, i) : ""
			if ((s ".properties." k) in T) n += check(d "." k, s ".properties." k)
			else if (T[s ".additionalProperties"] == "boolean") {
				if (V[s ".additionalProperties"] == "false") n += bad(d, "unknown field " k)
			} else if ((s ".additionalProperties") in T) n += check(d "." k, s ".additionalProperties")
		}
	}
	if (T[d] == "array" && (s ".items") in T)
		for (i = 0; i < N[d]; i++) n += check(d "[" i "]", s ".items")
	if ((s ".allOf") in T)
		for (i = 0; i < N[s ".allOf"]; i++) n += check(d, s ".allOf[" i "]")
	if ((s ".oneOf") in T) {
		ok = 0
		best = -1
		quiet++
		for (i = 0; i < N[s ".oneOf"]; i++) {
			e = check(d, s ".oneOf[" i "]")
			if (!e) ok++
			if (best < 0 || e < least) { best = i; least = e }
		}
		quiet--
		if (ok != 1) n += bad(d, "matches " ok " of the schema's oneOf alternatives, not one")
		if (!ok) check(d, s ".oneOf[" best "]")	# the nearest one says why
	}
	if ((s ".not") in T) {
		quiet++
		e = check(d, s ".not")
		quiet--
		if (!e) n += bad(d, "matches what the schema rules out")
	}
	if ((s ".if") in T) {
		quiet++
		e = check(d, s ".if")
		quiet--
		if (!e && (s ".then") in T) n += check(d, s ".then")
		if (e && (s ".else") in T) n += check(d, s ".else")
	}
	return n
}
BEGIN {
	for (i = 1; i < 32; i++) ctl = ctl sprintf("%c", i)
	if ((e = load(schema, "S")) != "") { print "schema " schema ": " e; exit 2 }
	if (!(("S.$defs." def) in T)) { print "schema " schema " has no $defs/" def; exit 2 }
	if ((e = load("/dev/stdin", "D")) != "") { print "not JSON: " e; exit 1 }
	if (check("D", "S.$defs." def)) { print "not a valid " def ":" errs; exit 1 }
	exit 0
}
