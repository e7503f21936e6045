# Menai toolchain: build, test, lint, benchmark, demo.
#
#   make         release build of every tool (menai, menaic, menai-opt, menai-vm, menai-bench)
#   make test    debug build of the tools, then every test in the workspace
#   make lint    rustfmt check and clippy with warnings as errors
#   make bench   release build, then the benchmark harness
#   make demo    build, then run the example programs
#   make fuzz    fuzz the bytecode loader (needs cargo-fuzz and a nightly toolchain)
#   make update-snapshots   re-record the dump snapshots in testsuite/snapshots (review with git diff)
#
# Honours CARGO_TARGET_DIR.

CARGO       ?= cargo
TARGET_DIR  := $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),target)
RELEASE_BIN := $(TARGET_DIR)/release
DEBUG_BIN   := $(TARGET_DIR)/debug
BENCH_ARGS  ?=
FUZZ_SECONDS ?= 60

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

fuzz:
	@if ! $(CARGO) fuzz --help >/dev/null 2>&1; then \
	  echo "make fuzz needs cargo-fuzz: cargo install cargo-fuzz (and rustup toolchain install nightly)"; \
	  exit 1; \
	fi
	cd bytecode-format && $(CARGO) +nightly fuzz run decode_validate -- -max_total_time=$(FUZZ_SECONDS)

update-snapshots: build-debug
	INSTA_UPDATE=always $(CARGO) test -p menai-testsuite --test snapshots

clean:
	$(CARGO) clean
