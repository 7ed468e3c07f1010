# shipshape: run `make help` for the targets.
SHELL     := /bin/bash
GO        ?= go
BIN       ?= bin/shipshape
FUZZTIME  ?= 15s
EXAMPLE_NOW := 2026-06-01T12:00:00Z

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

LDFLAGS := -X github.com/shipshape-dev/shipshape/internal/cli.buildDate=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)

.PHONY: build
build: ## build bin/shipshape
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/shipshape

.PHONY: install
install: ## install shipshape into $(go env GOBIN), or $(go env GOPATH)/bin
	$(GO) install -ldflags '$(LDFLAGS)' ./cmd/shipshape
	@bin=$$($(GO) env GOBIN); echo "installed $${bin:-$$($(GO) env GOPATH)/bin}/shipshape"

.PHONY: example
example: build ## plan the bundled example policy over the bundled example repository
	./$(BIN) policy lint examples/policies/keep-streams.json
	./$(BIN) plan --policy examples/policies/keep-streams.json --images examples/inventory.json --now $(EXAMPLE_NOW)

.PHONY: test
test: lint ## run every test: vet, unit and CLI tests with the race detector, and a short fuzz run
	@set -o pipefail; $(GO) test -race -count=1 -json ./... | $(GO) run ./scripts/testreport
	$(GO) test ./internal/policy -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/inventory -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/inventory -run '^$$' -fuzz '^FuzzReadWindow$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/inventory -run '^$$' -fuzz '^FuzzDecodeManifest$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/pins -run '^$$' -fuzz '^FuzzDecodeList$$' -fuzztime $(FUZZTIME)

.PHONY: test-postgres
test-postgres: ## run the pin store tests against a throwaway local PostgreSQL cluster (scripts/postgres.sh)
	@trap 'scripts/postgres.sh stop' EXIT; \
	  pgenv=$$(scripts/postgres.sh start) && eval "$$pgenv" && \
	  SHIPSHAPE_REQUIRE_POSTGRES=1 $(GO) test -race -count=1 ./internal/pins/...

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: lint
lint: ## check formatting, go vet, staticcheck and the import rules of STYLE.md
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) test -count=1 -run '^TestImportRules$$' .

.PHONY: bench
bench: ## run the Go benchmarks and time `shipshape plan` on 1,000 to 1,000,000 images
	$(GO) test -run '^$$' -bench . -benchmem ./internal/policy ./internal/inventory ./internal/plan ./internal/cli
	bench/plan.sh

.PHONY: bench-inventory
bench-inventory: ## time `shipshape inventory` cold and warm against a crane loop on a local registry of 2,000 tags
	bench/inventory.sh

.PHONY: examples
examples: ## regenerate the example inventories under examples/
	$(GO) run ./examples/gen

.PHONY: clean
clean: ## remove build output
	rm -rf bin
