# pushflo — run `make` for the list of targets.
GO        ?= go
BIN       := bin/pushflo
DATA      ?= ./data
HTTP_ADDR ?= 127.0.0.1:8080
RAFT_ADDR ?= 127.0.0.1:7000
DURATION  ?= 30m
# make fuzz-smoke: how long each fuzz target runs; the targets that drive
# a real node (an HTTP request or a WebSocket session per input) get longer.
FUZZTIME      ?= 3s
FUZZTIME_NODE ?= 7s
# make cluster: NODES nodes, HTTP ports from CLUSTER_HTTP_PORT, Raft ports
# from CLUSTER_RAFT_PORT, data under CLUSTER_DATA.
NODES             ?= 3
CLUSTER_HTTP_PORT ?= 8081
CLUSTER_RAFT_PORT ?= 7001
CLUSTER_DATA      ?= ./data-cluster
# Stamped into the binary: pushflo version, /health.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
IMAGE   ?= pushflo:latest
# make bench-compare: the ref whose binary is the baseline, rounds per
# scenario and side, and further bench flags.
BASE       ?= main
ROUNDS     ?= 3
BENCH_ARGS ?=
export PUSHFLO_BIN := $(abspath $(BIN))
comma := ,

.PHONY: help build run cluster image docker-test test test-go test-sdk fuzz-smoke sdk-deps sdk-pack sdk-bundle chromium console-screenshots lint jepsen jepsen-soak bench bench-smoke bench-compare clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

build: ## build bin/pushflo
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/pushflo

run: build ## run one node on $(HTTP_ADDR), data in $(DATA) (keys printed on the first start, kept in $(DATA)/secrets.json)
	$(BIN) serve --data-dir $(DATA) --http-addr $(HTTP_ADDR) --raft-addr $(RAFT_ADDR)

cluster: build ## run a local cluster until Ctrl-C: make cluster NODES=3 CLUSTER_HTTP_PORT=8081 CLUSTER_RAFT_PORT=7001 CLUSTER_DATA=./data-cluster
	$(BIN) cluster --nodes $(NODES) --http-port $(CLUSTER_HTTP_PORT) --raft-port $(CLUSTER_RAFT_PORT) --data-dir $(CLUSTER_DATA)

image: ## build the container image $(IMAGE): FROM scratch, static binary, uid 10001, /data volume
	rm -rf bin/image && mkdir -p bin/image/data
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o bin/image/pushflo ./cmd/pushflo
	printf 'pushflo:x:10001:10001:pushflo:/data:/pushflo\n' > bin/image/passwd
	printf 'pushflo:x:10001:\n' > bin/image/group
	docker build -q -f deploy/Dockerfile -t $(IMAGE) bin/image

docker-test: ## the container tests: image, 3-node TLS cluster in containers, one container killed (needs docker; says SKIPPED without)
	GO=$(GO) IMAGE=$(IMAGE) deploy/docker/test.sh

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd client && $(GO) vet -tags integration ./...
	@# the client module is a library its users build on every OS: it must type-check on Windows and macOS too
	cd client && GOOS=windows $(GO) vet ./... && GOOS=darwin $(GO) vet ./...

test-go: build chromium ## Go tests with -race, integration tests included (the server module, then the client module in client/)
	$(GO) test -race -tags integration -timeout 15m ./...
	cd client && $(GO) test -race -tags integration -timeout 10m ./...

test-sdk: build chromium ## the TypeScript SDK's type, unit, integration, install and browser tests (installs chromium if missing)
	cd sdk/js && npm ci --no-audit --no-fund && cd test && npm ci --no-audit --no-fund
	cd sdk/js && PUSHFLO_BIN=$(CURDIR)/$(BIN) npm test
	PUSHFLO_BIN=$(CURDIR)/$(BIN) PUSHFLO_REQUIRE_CHROMIUM=$$([ -x /usr/bin/chromium ] && echo 1) $(GO) test -tags integration -count=1 -run 'TestTLS_NodeSDKAndChromium' -v ./cmd/pushflo/

chromium: # headless Chromium for the console's and the SDK's browser tests, installed once
	@[ -x /usr/bin/chromium ] || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || echo "chromium could not be installed: the browser tests will be skipped"

console-screenshots: build chromium ## regenerate docs/img/console-overview.png and console-channel.png from the console's browser tests
	@mkdir -p docs/img
	cd cmd/pushflo && $(GO) test -tags integration -count=1 -run 'TestConsole_' -console-screenshots $(CURDIR)/docs/img .

sdk-deps: # the SDK's build tools, installed once per lockfile change
	@[ sdk/js/node_modules/.package-lock.json -nt sdk/js/package-lock.json ] || (cd sdk/js && npm ci --no-audit --no-fund)

sdk-pack: sdk-deps ## build the TypeScript SDK's npm tarball into bin/ (npm, pnpm or yarn install it)
	@mkdir -p bin
	cd sdk/js && npm pack --pack-destination $(CURDIR)/bin

sdk-bundle: sdk-deps ## rebuild web/sdk/pushflo.js, the browser ES module the server serves at /sdk/pushflo.js (commit it)
	cd sdk/js && node scripts/bundle.mjs $(CURDIR)/web/sdk/pushflo.js

test: lint test-go test-sdk fuzz-smoke ## everything CI proves (the README's test command)

# Go runs one fuzz target per invocation; the api targets share one
# instrumented build. Seeds: testdata/fuzz/<target>/ plus f.Add in the code.
fuzz-smoke: ## every fuzz target of the server module, 3 s each (7 s for the two that drive a real node); part of make test
	$(GO) test -run '^$$' -fuzz '^FuzzParseToken$$' -fuzztime $(FUZZTIME) ./api/
	$(GO) test -run '^$$' -fuzz '^FuzzTokenRequest$$' -fuzztime $(FUZZTIME_NODE) ./api/
	$(GO) test -run '^$$' -fuzz '^FuzzWebSocket_PrivateChannel$$' -fuzztime $(FUZZTIME_NODE) ./api/
	$(GO) test -run '^$$' -fuzz '^FuzzParsePublish$$' -fuzztime $(FUZZTIME) ./api/
	$(GO) test -run '^$$' -fuzz '^FuzzPublish_FramesAreUTF8$$' -fuzztime $(FUZZTIME) ./api/
	$(GO) test -run '^$$' -fuzz '^FuzzParseID$$' -fuzztime $(FUZZTIME) ./log/

jepsen: build ## the short Jepsen-style runs, about three minutes (part of `make test`)
	$(GO) test -tags integration -run 'TestJepsen_Short|TestJepsen_PowerLossCaught' -count=1 -v ./jepsen/

jepsen-soak: build ## rounds of Jepsen-style runs with successive seeds: make jepsen-soak DURATION=30m
	PUSHFLO_JEPSEN_DURATION=$(DURATION) $(GO) test -tags integration -run 'TestJepsen_Soak|TestJepsen_ClockJump|TestJepsen_Retention|TestJepsen_LeaderReads|TestJepsen_DiskFaults' -count=1 -timeout 0 -v ./jepsen/

bench: build ## the full benchmark suite; writes bench/results/
	$(GO) run ./bench --binary $(BIN)

bench-smoke: build ## a few-second run of every benchmark scenario
	$(GO) run ./bench --binary $(BIN) --smoke

bench-compare: build ## $(BASE)'s binary against the working tree's, alternating, medians and ratios: make bench-compare BASE=main ROUNDS=3 BENCH_ARGS='--scenarios fanout-ws --duration 5s'
	rm -rf bin/base-src && mkdir -p bin/base-src
	git archive --format=tar $(BASE) | tar -x -C bin/base-src
	cd bin/base-src && $(GO) build -ldflags "-X main.version=$(BASE) -X main.commit=$$(git rev-parse $(BASE))" -o ../pushflo-base ./cmd/pushflo
	rm -rf bin/base-src
	$(GO) run ./bench --baseline bin/pushflo-base --binary $(BIN) --labels "$(subst $(comma),_,$(BASE)),tree" --rounds $(ROUNDS) $(BENCH_ARGS)

clean: ## remove build output and local data
	rm -rf bin data data-cluster
