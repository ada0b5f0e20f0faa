# Entry points: `make test` (what CI runs), `make demo`, `make asan`, `make fuzz`,
# `make bench`.
# CMake + Ninja do the building; this file only sequences setup, configure,
# build and ctest, so every target works from a clean checkout.

BUILD        ?= build
BUILD_ASAN   ?= build-asan
BUILD_FUZZ   ?= build-fuzz
BUILD_TYPE   ?= RelWithDebInfo
CMAKE_FLAGS  ?=
CTEST_JOBS   ?= 2
FUZZ_SECONDS ?= 60
ENGINE       ?= interp
PYTHON       ?= python3
BENCH_ARGS   ?=

# ctest prints a failing test's list after its "N% tests passed" line; re-print
# that line last so the closing line of every test run is the summary.
define run_ctest
	@set -o pipefail; rc=0; \
	ctest --test-dir $(1) --output-on-failure -j$(CTEST_JOBS) 2>&1 | tee $(1)/ctest.log || rc=$$?; \
	last=$$(grep -E '^[0-9]+% tests passed' $(1)/ctest.log | tail -n1); \
	if [ -n "$$last" ] && [ "$$(grep -v '^[[:space:]]*$$' $(1)/ctest.log | tail -n1)" != "$$last" ]; then \
	  echo; echo "$$last"; fi; \
	exit $$rc
endef

SHELL := /bin/bash

.PHONY: all setup configure build test demo asan fuzz bench clean

all: build

setup:
	@scripts/setup

# Order-only on setup: setup runs first, but does not force a reconfigure.
$(BUILD)/build.ninja: | setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

configure: $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD)

test: build
	$(call run_ctest,$(BUILD))

demo: build
	$(PYTHON) scripts/demo.py --build $(BUILD) --engine $(ENGINE)

# ASan + UBSan build of the same suite (leaks fail the run). `make test` runs
# it too, as the test suite_asan (tests/suites/CMakeLists.txt).
asan: setup
	SUITES=asan BUILD_ASAN=$(BUILD_ASAN) scripts/test-suites

# libFuzzer targets (clang), each run for FUZZ_SECONDS from its seed corpus in
# tests/fuzz/corpus/<name>/ (fuzz_<name> executables; new inputs go to the build
# tree, never the source).
fuzz: setup
	CC=clang cmake -S . -B $(BUILD_FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang -DAICC_FUZZ=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_FUZZ)
	@set -e; found=0; \
	for f in $$(find $(BUILD_FUZZ) -type f -perm -u+x -name 'fuzz_*' ! -name '*.*' | sort); do \
	  found=1; n=$$(basename $$f); \
	  mkdir -p $(BUILD_FUZZ)/corpus/$$n $(BUILD_FUZZ)/artifacts; \
	  seeds=; for d in tests/fuzz/corpus/$$n tests/fuzz/corpus/$${n#fuzz_}; do \
	    [ -d $$d ] && seeds=$$d && break; done; \
	  echo "== $$n ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=$(BUILD_FUZZ)/artifacts/$$n- $(BUILD_FUZZ)/corpus/$$n $$seeds; \
	done; \
	if [ $$found = 0 ]; then echo "no fuzz_* targets in $(BUILD_FUZZ)"; exit 1; fi

# Benchmarks, not tests (never part of `make test`, never fail on a timing):
# machine ceilings, sgemm against OpenBLAS, the model zoo against onnxruntime,
# 1 and 2 threads; writes bench/RESULTS.md and bench/results.png.
# bench/setup adds OpenBLAS and matplotlib if missing. BENCH_ARGS goes to
# bench/run.py (e.g. BENCH_ARGS="--quick --only sgemm").
bench: build
	@bench/setup
	$(PYTHON) bench/run.py --build $(BUILD) $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
