# Menai toolchain: build, test, lint, benchmark, demo.
#
#   make         release build of every tool (menai, menaic, menai-opt, menai-vm, menai-bench)
#   make test    debug build of the tools, then every test in the workspace
#   make lint    rustfmt check and clippy with warnings as errors
#   make bench   release build, then the benchmark harness
#   make demo    build, then run the example programs
#
# Honours CARGO_TARGET_DIR.

CARGO       ?= cargo
TARGET_DIR  := $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),target)
RELEASE_BIN := $(TARGET_DIR)/release
DEBUG_BIN   := $(TARGET_DIR)/debug
BENCH_ARGS  ?=

.PHONY: all build build-debug test lint bench demo clean

all: build

build:
	$(CARGO) build --release --bins

build-debug:
	$(CARGO) build --bins

# The test suites drive the binaries, so build them first.
test: build-debug
	$(CARGO) test --workspace

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

clean:
	$(CARGO) clean
