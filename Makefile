# PhaseFlow: `make run` builds and serves on 127.0.0.1:8090; `make check` is the validation gate.
SHELL := /bin/bash
export GOTOOLCHAIN := auto

GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
SDK_SRC     := node_modules/pocketbase/dist/pocketbase.es.mjs
SDK_DST     := pb_public/vendor/pocketbase.es.mjs
# The password blocklist, generated from the lists the zxcvbn module ships (never committed).
BLOCKLIST   := passwords/blocklist.bloom
GENERATED   := $(SDK_DST) $(BLOCKLIST)
FUZZTIME    ?= 10s
GO_FILES     = $(shell find . -name '*.go' -not -path './node_modules/*')
# Packages without PocketBase: fast, no SDK or app needed.
UNIT_PKGS   := ./config ./cycle ./oidc ./passwords ./posture

.PHONY: all build run check fmt-check vet lint test test-unit fuzz bench load bench-scale clean

all: build

## build: fetch the front-end SDK and Go modules, build ./app
build: $(GENERATED)
	$(GO) build -o app .

$(SDK_SRC): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(SDK_DST): $(SDK_SRC)
	mkdir -p $(dir $@)
	cp $(SDK_SRC) $@

$(BLOCKLIST): passwords/gen/main.go passwords/internal/key/key.go go.sum
	$(GO) mod download github.com/trustelem/zxcvbn
	$(GO) run ./passwords/gen -data "$$($(GO) list -m -f '{{.Dir}}' github.com/trustelem/zxcvbn)/data" -o $@

## run: build and serve on 127.0.0.1:8090 with data in ./pb_data
run: build
	./app serve --http 127.0.0.1:8090

## check: formatting, go vet, staticcheck, all tests (race detector, browser tests) and short fuzz runs
check: fmt-check vet lint test fuzz

fmt-check:
	@out="$$(gofmt -l $(GO_FILES))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: $(GENERATED)
	$(GO) vet ./...

lint: $(GENERATED)
	$(GO) run $(STATICCHECK) ./...

test: $(GENERATED)
	$(GO) test -race -count=1 -timeout 30m ./...

## test-unit: the domain packages only (no PocketBase, seconds)
test-unit: $(BLOCKLIST)
	$(GO) test -count=1 $(UNIT_PKGS)

fuzz: $(GENERATED)
	$(GO) test ./cycle -run '^$$' -fuzz '^FuzzParsePatch$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cycle -run '^$$' -fuzz '^FuzzParseDate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./routes -run '^$$' -fuzz '^FuzzParseFeedPath$$' -fuzztime $(FUZZTIME)
	$(GO) test ./passwords -run '^$$' -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME)

## bench: Go benchmarks of PhaseFlow's routes against PocketBase's own endpoints
bench: $(GENERATED)
	$(GO) test ./routes -run '^$$' -bench . -benchmem -count 5

## load: bounded wrk runs against the real binary, reported as ratios (LOAD_BASELINE=ref adds a baseline binary)
load: build
	bash bench/load.sh

## bench-scale: ./app on a throwaway data dir of ACCOUNTS accounts and EVENTS expired audit rows, one report
ACCOUNTS ?= 100000
EVENTS   ?= 1000000
bench-scale: build
	$(GO) run ./bench/scale -app ./app -accounts $(ACCOUNTS) -events $(EVENTS)

clean:
	rm -rf app pb_public/vendor node_modules test-artifacts $(BLOCKLIST)
