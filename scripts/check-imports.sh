#!/usr/bin/env bash
# check-imports.sh checks the dependency arrows of STYLE.md rule 1 on the
# non-test imports of every package in the module:
#
#   cmd → api, realtime, projections, eventstore/postgres, domain
#   api → domain, eventstore, projections      realtime → eventstore, domain
#   (inside api: the root assembles the surfaces; each surface — native,
#   fynd, leadsquared, support — imports api/app and api/web, never another
#   surface; api/app imports only domain and eventstore)
#   projections → eventstore, domain           eventstore/postgres → eventstore
#
# domain/... and the eventstore root import only the standard library;
# nothing imports api, realtime or cmd; nothing but cmd imports the concrete
# store (eventstore/postgres); a package not listed here is refused until
# it is given its arrows; pgtest and api/apitest (test harnesses that
# run the real thing) are for test files only. Test files are not checked:
# they may import postgres, pgtest and apitest.
#
# It prints one line per violation and exits 1 if there is any.
set -euo pipefail
cd "$(dirname "$0")/.."

mod=$(go list -m)
violations=0

violation() {
	echo "check-imports: $1 imports $2: $3" >&2
	violations=$((violations + 1))
}

# under PKG AREA: whether PKG (relative to the module) is AREA or below it.
under() { [[ $1 == "$2" || $1 == "$2"/* ]]; }

# stdlib IMPORT: the standard library's paths have no dot in their first
# element (and are not in this module).
stdlib() { [[ $1 != "$mod" && $1 != "$mod"/* && ${1%%/*} != *.* ]]; }

# The allowed internal imports of each area, most specific area first.
# An area not listed may import anything the global rules allow.
allowed_for() {
	case $1 in
	cmd | cmd/*) echo "*" ;;
	eventstore/postgres/pgtest) echo "eventstore eventstore/postgres migrations" ;;
	api/apitest) echo "*" ;;
	eventstore/postgres | eventstore/postgres/*) echo "eventstore eventstore/postgres" ;;
	eventstore) echo "" ;;
	eventstore/feed) echo "eventstore domain" ;;
	eventstore/*) echo "eventstore" ;;
	domain | domain/*) echo "domain" ;;
	# The api root assembles the surfaces; a surface imports the shared
	# kit (api/web) and the application layer, never another surface.
	api) echo "api domain eventstore projections" ;;
	api/app) echo "domain eventstore" ;;
	# The outbox's transports (SMTP, SMS, files) implement api/app's interfaces.
	api/notify | api/notify/*) echo "api/app api/notify domain eventstore" ;;
	api/web) echo "api/app domain eventstore" ;;
	api/native | api/fynd | api/leadsquared | api/support | api/listener)
		echo "api/app api/web domain eventstore eventstore/feed projections" ;;
	realtime | realtime/*) echo "realtime eventstore eventstore/feed domain" ;;
	projections | projections/*) echo "projections eventstore domain" ;;
	migrations | migrations/*) echo "migrations" ;;
	# A package this script does not know has no arrows yet: add it above.
	*) echo "UNKNOWN" ;;
	esac
}

listing=$(go list -f '{{.ImportPath}} {{join .Imports " "}}' ./...)
while read -r pkg imports; do
	rel=${pkg#"$mod"}
	rel=${rel#/}
	allowed=$(allowed_for "$rel")
	if [[ $allowed == UNKNOWN ]]; then
		violation "$rel" "-" "a package the dependency rule does not know; give it its arrows in scripts/check-imports.sh"
		continue
	fi
	for imp in $imports; do
		if [[ $imp != "$mod" && $imp != "$mod"/* ]]; then
			# Outside the module: domain and the eventstore root stay
			# free of infrastructure.
			if { under "$rel" domain || [[ $rel == eventstore ]]; } && ! stdlib "$imp"; then
				violation "$rel" "$imp" "domain and the eventstore root import only the standard library"
			fi
			continue
		fi
		to=${imp#"$mod"}
		to=${to#/}
		if under "$to" cmd || under "$to" api || under "$to" realtime; then
			# cmd wires everything; a package tree may use its own parts.
			if ! under "$rel" cmd && ! under "$rel" "${to%%/*}"; then
				violation "$rel" "$to" "nothing imports api, realtime or cmd (only cmd wires)"
				continue
			fi
		fi
		if under "$to" api/apitest; then
			violation "$rel" "$to" "apitest is for test files only"
			continue
		fi
		if under "$to" eventstore/postgres/pgtest && [[ $rel != api/apitest ]]; then
			violation "$rel" "$to" "pgtest is for test files only"
			continue
		fi
		if under "$to" eventstore/postgres && ! under "$rel" cmd && ! under "$rel" eventstore/postgres && [[ $rel != api/apitest ]]; then
			violation "$rel" "$to" "only cmd imports a concrete store"
			continue
		fi
		[[ $allowed == "*" ]] && continue
		ok=false
		for a in $allowed; do
			# eventstore means the root package; its subpackages are
			# implementations and suites, named explicitly.
			if [[ $to == "$a" ]] || { [[ $a != eventstore ]] && under "$to" "$a"; }; then
				ok=true
				break
			fi
		done
		$ok || violation "$rel" "$to" "${rel%%/*} may import only: ${allowed:-the standard library}"
	done
done <<<"$listing"

if ((violations > 0)); then
	echo "check-imports: $violations violation(s) of the dependency rule (STYLE.md rule 1)" >&2
	exit 1
fi
echo "check-imports: ok"
