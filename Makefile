# akconn: authentik's OAuth user-connection API served from openapi.yaml.
GO      ?= go
ADDR    ?= 127.0.0.1:9000
# sqlite_fts5 builds SQLite with FTS5, whose trigram index serves substring
# search on connections; a build without it still searches correctly, by
# scanning (and says so at start).
TAGS    ?= sqlite_fts5
GOFLAGS += -tags=$(TAGS)
export GOFLAGS

SPECTRAL := tools/spectral/node_modules/.bin/spectral
# authentik's TypeScript client (@goauthentik/api), pinned, for the e2e test
# TestAuthentikTypeScriptClient; npm's hidden lockfile marks the install.
TSCLIENT := tools/tsclient/node_modules/.package-lock.json

.PHONY: all build run generate check-generated fmt-check vet test check-compat check-upstream release-snapshot lint-spec crash-test fuzz-smoke bench bench-go update-api-browser check-api-browser api-browser-screenshot

all: build

build:
	$(GO) build -o bin/akconn .

run:
	$(GO) run . serve --addr $(ADDR)

## generate: regenerate gen/ from openapi.yaml
generate:
	$(GO) generate ./...

## check-generated: fail when gen/ does not match openapi.yaml
check-generated:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	sed "s#^output:.*#output: $$tmp/api.gen.go#" gen/oapi-codegen.yaml > $$tmp/config.yaml; \
	$(GO) tool oapi-codegen -config $$tmp/config.yaml openapi.yaml || exit 1; \
	if ! diff -u gen/api.gen.go $$tmp/api.gen.go; then \
		echo "gen/ is stale: run 'make generate' and commit the result"; exit 1; fi; \
	echo "gen/ is up to date"

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi

vet:
	$(GO) vet ./...

## test: what CI runs: generated code in sync, gofmt, vet, authentik's TypeScript client
## installed (tools/tsclient), and every test with the race detector, on SQLite and then
## on PostgreSQL (started if installed and down; skipped with a message when there is
## none, unless AKCONN_REQUIRE_POSTGRES=1, as in CI, when it fails at once;
## AKCONN_TEST_POSTGRES_URL points elsewhere)
test: check-generated fmt-check vet $(TSCLIENT)
	@pg=$$(scripts/postgres-url.sh) || { echo "== FAILED: no PostgreSQL for the tests (see above)"; exit 1; }; \
	echo "== tests on SQLite"; \
	AKCONN_TEST_POSTGRES_URL="$$pg" $(GO) test -race -count=1 ./... || exit 1; \
	if [ -z "$$pg" ]; then \
		echo "== SKIPPED: the PostgreSQL run (no PostgreSQL on 127.0.0.1:5432; how to provide one: see the note before the SQLite run)"; \
	else \
		echo "== tests on PostgreSQL"; \
		AKCONN_TEST_BACKEND=postgres AKCONN_TEST_POSTGRES_URL="$$pg" $(GO) test -race -count=1 ./... || exit 1; \
	fi

## check-compat: fail when a served contract breaks clients of its release snapshot: openapi.yaml (the current
## contract, at /api/v3/) against api/released.yaml, and api/2024.8.yaml (at /compat/2024.8/api/v3/) against
## api/released-2024.8.yaml, the 2024.8 contract as this server released it, frozen
check-compat:
	$(GO) tool oasdiff breaking api/released.yaml openapi.yaml --fail-on ERR --err-ignore api/acknowledged-breaking.txt
	@echo "openapi.yaml is compatible with api/released.yaml"
	$(GO) tool oasdiff breaking api/released-2024.8.yaml api/2024.8.yaml --fail-on ERR --err-ignore api/acknowledged-breaking-2024.8.txt
	@echo "api/2024.8.yaml is compatible with api/released-2024.8.yaml"

## release-snapshot: record openapi.yaml as the released contract (only when cutting a release)
release-snapshot:
	cp openapi.yaml api/released.yaml

$(SPECTRAL): tools/spectral/package.json tools/spectral/package-lock.json
	npm ci --prefix tools/spectral --no-audit --no-fund --loglevel=error
	@touch $@

$(TSCLIENT): tools/tsclient/package.json tools/tsclient/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		echo "npm ci --prefix tools/tsclient --no-audit --no-fund"; \
		npm ci --prefix tools/tsclient --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "== npm not found: TestAuthentikTypeScriptClient will be SKIPPED (install Node.js 18+ and npm)"; \
	fi

## lint-spec: lint openapi.yaml with the pinned Spectral CLI and the local ruleset .spectral.yaml
lint-spec: $(SPECTRAL)
	$(SPECTRAL) lint openapi.yaml --ruleset .spectral.yaml --fail-severity warn

## crash-test: SIGKILL the server mid-load several times; acknowledged writes must survive (also part of make test)
crash-test:
	@pg=$$(scripts/postgres-url.sh); AKCONN_TEST_POSTGRES_URL="$$pg" $(GO) test -count=1 -v -run 'TestCrashSafety' ./e2e

FUZZTIME ?= 10s
## fuzz-smoke: run each fuzz target briefly (CI); a crash is saved under <package>/testdata/fuzz/ and becomes a regression case
fuzz-smoke:
	@GO="$(GO)" FUZZTIME=$(FUZZTIME) scripts/fuzz-smoke.sh server:FuzzRequestBody server:FuzzQueryParams server:FuzzPathParams \
		server:FuzzDecodeBody server/schema:FuzzAgreesWithKin

## bench: the goals of bench/plan.go (lists at 1M connections, retrieve vs raw SQL, durable creates, peak RSS, errors)
## on SQLite and PostgreSQL, real server processes against baselines (~5 min on 2 cores; never run in CI); writes
## docs/BENCHMARKS.md. BENCHFLAGS=-quick for a development run (100k rows, shorter, report on stdout only);
## BENCHFLAGS="-variant NAME='--flag value'" adds a server variant to every scenario.
bench:
	@pg=$${AKCONN_BENCH_POSTGRES_URL:-$$(scripts/postgres-url.sh)}; AKCONN_BENCH_POSTGRES_URL="$$pg" $(GO) run ./bench $(BENCHFLAGS)

## bench-go: Go micro-benchmarks (validator middleware, serialization, store queries), for benchstat
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./server ./store

## update-api-browser: vendor the RapiDoc pinned in tools/apibrowser/package-lock.json into server/apibrowser/assets/
## (npm ci, copy the dist files, record their SHA-256); commit the result
update-api-browser:
	tools/apibrowser/update.sh

## check-api-browser: fail when server/apibrowser/assets/ is not exactly what update-api-browser produces (CI)
check-api-browser:
	tools/apibrowser/update.sh --check

## api-browser-screenshot: run the headless-Chromium test of the API browser and save docs/api-browser.png
api-browser-screenshot:
	AKCONN_SCREENSHOT=$(CURDIR)/docs/api-browser.png.tmp $(GO) test -count=1 -v -run '^TestAPIBrowserInChromium$$' ./server/apibrowser
	mv docs/api-browser.png.tmp docs/api-browser.png
