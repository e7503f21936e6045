# Menai toolchain: build, test, lint, benchmark, demo.
#
#   make         release build of every tool (menai, menaic, menai-opt, menai-vm, menai-bench)
#   make test    debug build of the tools, then every test in the workspace
#   make lint    rustfmt check and clippy with warnings as errors
#   make bench   release build, then the benchmark harness
#   make demo    build, then run the example programs
#   make fuzz    run every fuzz target for FUZZ_SECONDS each (needs cargo-fuzz; stable Rust via RUSTC_BOOTSTRAP=1)
#   make update-snapshots   re-record the dump snapshots in testsuite/snapshots (review with git diff)
#
# Honours CARGO_TARGET_DIR.

CARGO       ?= cargo
TARGET_DIR  := $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),target)
RELEASE_BIN := $(TARGET_DIR)/release
DEBUG_BIN   := $(TARGET_DIR)/debug
BENCH_ARGS  ?=
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := source_to_bytecode mir_to_bytecode cfg_to_bytecode decode_validate execute

.PHONY: all build build-debug test lint bench demo fuzz update-snapshots clean

all: build

build:
	$(CARGO) build --release --bins

build-debug:
	$(CARGO) build --bins

# The test suites drive the binaries, so build them first.
test: build-debug
	$(CARGO) test --workspace --no-fail-fast

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench: build
	$(RELEASE_BIN)/menai-bench $(BENCH_ARGS)

demo: build-debug
	@for f in examples/*.menai; do \
	  echo "\$$ menai run $$f"; \
	  $(DEBUG_BIN)/menai run $$f || exit $$?; \
	done

# Seeds each target's corpus from the test and example programs (source,
# .mir and .bc forms), then runs the targets one after another.
fuzz: build-debug
	@if ! $(CARGO) fuzz --help >/dev/null 2>&1; then \
	  echo "make fuzz needs cargo-fuzz: cargo install cargo-fuzz"; \
	  exit 1; \
	fi
	@mkdir -p $(addprefix fuzz/corpus/,$(FUZZ_TARGETS))
	@for f in testsuite/programs/*.menai examples/*.menai benches/programs/*.menai; do \
	  b=$$(basename $$f .menai); \
	  cp $$f fuzz/corpus/source_to_bytecode/$$b.menai; \
	  $(DEBUG_BIN)/menaic $$f -o fuzz/corpus/mir_to_bytecode/$$b.mir 2>/dev/null; \
	  $(DEBUG_BIN)/menai build $$f -o fuzz/corpus/decode_validate/$$b.bc 2>/dev/null; \
	  $(DEBUG_BIN)/menai dump --stage cfg $$f > fuzz/corpus/cfg_to_bytecode/$$b.cfg 2>/dev/null; \
	done; true
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O $$t corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 || exit $$?; \
	done

update-snapshots: build-debug
	INSTA_UPDATE=always $(CARGO) test -p menai-testsuite --test snapshots

clean:
	$(CARGO) clean
