# The two targets a newcomer needs are run and test; the rest are for us.
# No Docker: PostgreSQL and Redis are local services (see README.md).

EVENTDESK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/eventdesk?sslmode=disable
export EVENTDESK_DATABASE_URL

# The console's browser test (cmd/eventdesk/console_test.go) drives
# Debian's Chromium with playwright-core, pinned by the npm project below.
BROWSER_TEST := cmd/eventdesk/testdata/browser

.PHONY: run test test-fresh bench lint build help browser-deps fuzz drill

run:            ## start the engine on its defaults (creates and migrates the database)
	go run ./cmd/eventdesk serve

test: browser-deps ## every test, against real Postgres and Redis; packages run in parallel
	go test -race -count=1 ./...

test-fresh: browser-deps ## every test again, against a brand-new PostgreSQL cluster (initdb in a temp dir, removed after)
	go run ./cmd/eventdesk testcluster -- go test -race -count=1 ./...

bench:          ## side-by-side benchmarks; prints a table and one JSON line per figure
	go run ./cmd/eventdesk bench

FUZZTIME ?= 10s
fuzz:           ## every fuzz target in turn, FUZZTIME (10s) each, one worker (scripts/fuzz.sh)
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

drill:          ## crash and outage drills (kill -9, PostgreSQL, Redis, disk) on private servers; DRILL_FLAGS=--short for CI
	go build -o ./eventdesk ./cmd/eventdesk && ./eventdesk drill $(DRILL_FLAGS)

lint:           ## go vet and the dependency arrows of STYLE.md rule 1
	go vet ./... && ./scripts/check-imports.sh

build:          ## the eventdesk binary, in ./eventdesk
	go build -o eventdesk ./cmd/eventdesk

browser-deps:   ## what the console's browser test needs: Debian's chromium (apt-get, as root) and playwright-core (npm ci), once
	@[ -x /usr/bin/chromium ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium </dev/null; } \
		|| { echo "make: the browser test needs Debian's chromium: sudo apt-get install -y chromium" >&2; exit 1; }
	@[ -d $(BROWSER_TEST)/node_modules/playwright-core ] || npm ci --prefix $(BROWSER_TEST) --no-audit --no-fund

help:           ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:[^#]*## /\t/'
