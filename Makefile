# mediawatch: `make help` lists the targets. CI runs `make lint test eval` (see .ci/run).
SHELL := /bin/bash
CARGO ?= cargo
SHARED ?= ../shared
CORPUS ?= $(SHARED)/corpus
RELEASE_BIN := target/release/mediawatch
DEMO_PORT ?= 8765
MW_FUZZ_SECONDS ?= 60
MW_FUZZ_SEED ?= 1
TODAY := $(shell date -u +%F)

.PHONY: help build release run demo test lint eval bench fuzz clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

build: ## Debug build
	$(CARGO) build

release: ## Release build (used by run, eval and bench)
	$(CARGO) build --release

run: release ## Ingest the feeds in ./feeds.toml into ./index and write today's digest to ./digests
	$(RELEASE_BIN) --config feeds.toml ingest
	$(RELEASE_BIN) --config feeds.toml digest --date $(TODAY) --format md --out digests
	$(RELEASE_BIN) --config feeds.toml digest --date $(TODAY) --format html --out digests
	$(RELEASE_BIN) --config feeds.toml digest --date $(TODAY) --format json --out digests

demo: build ## Offline demo: serve the fixture site on 127.0.0.1, ingest it, search, print a digest
	scripts/demo.sh target/debug/mediawatch $(DEMO_PORT)

test: ## Run every test (unit, integration, CLI) in the debug profile, the codebooks' own examples, the eval scripts' tests
	$(CARGO) test --all-targets
	$(CARGO) test --lib --features learn-dump extract::learned
	target/debug/mediawatch --config feeds.toml campaigns test
	SHARED=$(SHARED) python3 scripts/test_eval_extract.py

lint: ## rustfmt check, clippy with warnings as errors, and the layout (no import circle; ARCHITECTURE.md maps every file)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	python3 scripts/check_layout.py

eval: release ## Score extraction on the shared corpora (reads ../shared in place; MW_EVAL_SPLIT=tune|holdout|all)
	scripts/eval.sh $(RELEASE_BIN) $(CORPUS) $(SHARED)/tools/eval_extraction.py

bench: release ## Benchmarks: extraction vs trafilatura, feed polling, tagging/clustering/retag, search, digest, Parquet export, web, alerts, 30-min soak (MW_SOAK_MINUTES)
	CARGO="$(CARGO)" scripts/bench.sh $(RELEASE_BIN) $(CORPUS) $(SHARED)/tools/eval_extraction.py

fuzz: ## Fuzz every parser (mutants of ../shared/corpus; MW_FUZZ_SECONDS per target, MW_FUZZ_SEED)
	MW_FUZZ_SECONDS=$(MW_FUZZ_SECONDS) MW_FUZZ_SEED=$(MW_FUZZ_SEED) $(CARGO) run --release --example fuzz -- $(CORPUS)

clean: ## Remove build output, the demo output and the local index
	$(CARGO) clean
	rm -rf demo-out
