# The two targets a newcomer needs are run and test; the rest are for us.
# No Docker: PostgreSQL and Redis are local services (see README.md).

EVENTDESK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/eventdesk?sslmode=disable
export EVENTDESK_DATABASE_URL

.PHONY: run test test-fresh bench drill lint build help

run:            ## start the engine on its defaults (creates and migrates the database)
	go run ./cmd/eventdesk serve

test:           ## every test, against real Postgres and Redis; packages run in parallel
	go test -race -count=1 ./...

test-fresh:     ## every test again, against a brand-new PostgreSQL cluster (initdb in a temp dir, removed after)
	go run ./cmd/eventdesk testcluster -- go test -race -count=1 ./...

bench:          ## side-by-side benchmarks; prints a table and one JSON line per figure
	go run ./cmd/eventdesk bench

drill:          ## crash and outage drills (kill -9, PostgreSQL, Redis, disk) on private servers; DRILL_FLAGS=--short for CI
	go build -o ./eventdesk ./cmd/eventdesk && ./eventdesk drill $(DRILL_FLAGS)

lint:           ## go vet and the dependency arrows of STYLE.md rule 1
	go vet ./... && ./scripts/check-imports.sh

build:          ## the eventdesk binary, in ./eventdesk
	go build -o eventdesk ./cmd/eventdesk

help:           ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:[^#]*## /\t/'
