#!/usr/bin/env bash
# fuzz.sh runs every native Go fuzz target of the module (func FuzzXxx in a
# _test.go file) for FUZZTIME each, one at a time: go test accepts one
# -fuzz target per package per run, so it lists them and loops. Each run
# uses FUZZPARALLEL workers (default 1: the machine is shared) and prints
# go's own figures; new crashers land in the package's
# testdata/fuzz/FuzzXxx/, where ordinary go test runs them as seeds.
#
#   scripts/fuzz.sh                 every target, FUZZTIME (10s) each
#   scripts/fuzz.sh -list           the targets, one "pkg FuzzName" a line
#   scripts/fuzz.sh ./domain/...    only the targets of these packages
#
# Every target runs even when one fails (a crasher found); the script
# then names the failures and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-10s}
FUZZPARALLEL=${FUZZPARALLEL:-1}

list=false
if [[ ${1:-} == -list ]]; then
	list=true
	shift
fi
pkgs=("$@")
[[ ${#pkgs[@]} -eq 0 ]] && pkgs=(./...)

# targets prints "dir FuzzName" for every fuzz target under the packages.
targets() {
	go list -f '{{.Dir}}' "${pkgs[@]}" | while read -r dir; do
		for f in "$dir"/*_test.go; do
			[[ -e $f ]] || continue
			sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(f \*testing\.F\).*/\1/p' "$f" | while read -r name; do
				echo "./${dir#"$PWD"/} $name"
			done
		done
	done | sort -u
}

if $list; then
	targets
	exit 0
fi

n=0
failed=()
while read -r pkg name; do
	n=$((n + 1))
	echo "fuzz: $pkg $name ($FUZZTIME)"
	if ! GOMAXPROCS=${GOMAXPROCS:-$FUZZPARALLEL} go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" \
		-parallel "$FUZZPARALLEL" "$pkg" </dev/null; then
		failed+=("$pkg $name")
	fi
done < <(targets)
if [[ ${#failed[@]} -gt 0 ]]; then
	printf 'fuzz: FAILED %s\n' "${failed[@]}"
	exit 1
fi
echo "fuzz: $n targets, no crasher"
