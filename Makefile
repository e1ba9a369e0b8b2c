# One-command entry points. Each target installs what it needs (scripts/install-deps.sh is
# idempotent and quick when everything is present), configures, builds and runs.
JOBS ?= $(shell nproc)
PREFIX ?= $(CURDIR)/out/install
DEMO_ARGS ?=
# make soak: model operations, seconds of scene streaming (docs/RELIABILITY.md)
SOAK_OPS ?= 5000000
SOAK_SECONDS ?= 600
# make fuzz: seconds of fuzzing
FUZZ_SECONDS ?= 60
FUZZ_DIR := build/fuzz

.PHONY: deps demo test test-tsan test-asan soak fuzz bench install format clean

deps:
	@scripts/install-deps.sh

build/%/build.ninja: | deps
	cmake --preset $* >/dev/null

demo: deps build/release/build.ninja
	cmake --build --preset release -j $(JOBS)
	./build/release/tools/sedx-mem/sedx-mem demo $(DEMO_ARGS)

test: deps build/debug/build.ninja
	cmake --build --preset debug -j $(JOBS)
	ctest --preset debug

test-tsan: deps build/tsan/build.ninja
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan

test-asan: deps build/asan/build.ninja
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

# The reliability soak (Debug build, assertions on): SOAK_OPS model-checked operations, SOAK_SECONDS
# of scene streaming (in parallel) and the fault sweep without its CI cap. Logs: build/soak/.
soak: deps build/debug/build.ninja
	cmake --build --preset debug -j $(JOBS) --target sedx_reliability_model_tests sedx_reliability_fault_tests
	@mkdir -p build/soak
	@echo "soak: $(SOAK_OPS) model operations, $(SOAK_SECONDS) s of streaming, the full fault sweep (logs in build/soak/)"
	@bin=build/debug/tests/Reliability; \
	SEDX_SOAK_SECONDS=$(SOAK_SECONDS) $$bin/sedx_reliability_model_tests --gtest_filter='StreamingSoak.*' \
	    > build/soak/streaming.log 2>&1 & streaming=$$!; \
	SEDX_FAULT_MAX_RUNS=1000000 $$bin/sedx_reliability_fault_tests > build/soak/faults.log 2>&1; faults=$$?; \
	SEDX_MODEL_OPS=$(SOAK_OPS) $$bin/sedx_reliability_model_tests --gtest_filter='ModelTest.*' \
	    > build/soak/model.log 2>&1; model=$$?; \
	wait $$streaming; streamingrc=$$?; \
	grep -h -E '^(model test: [0-9]|streaming soak:|fault sweep .*GPU copies.*QueueSubmit|fault sweep)' build/soak/*.log | tail -n 16; \
	echo "soak: model $$model, streaming $$streamingrc, fault sweep $$faults (0 = passed)"; \
	test $$model -eq 0 && test $$streamingrc -eq 0 && test $$faults -eq 0

# The libFuzzer target, built with clang-14, ASan + UBSan and coverage in build/fuzz (tests, tools and
# benchmarks off), run for FUZZ_SECONDS on the seed corpus fuzz/corpus (new inputs go to
# build/fuzz/corpus, crashes to build/fuzz/artifacts).
fuzz: deps
	cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g -O1" \
	    -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_PREFIX_PATH=$(CURDIR)/.deps/vma/usr -DSEDX_BUILD_FUZZ=ON \
	    -DSEDX_SANITIZER=address -DSEDX_BUILD_TESTS=OFF -DSEDX_BUILD_TOOLS=OFF -DSEDX_BUILD_BENCH=OFF >/dev/null
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target sedx_allocator_fuzzer
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	@ASAN_OPTIONS=fast_unwind_on_malloc=0 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/Support/lsan.supp \
	$(FUZZ_DIR)/fuzz/sedx_allocator_fuzzer $(FUZZ_DIR)/corpus fuzz/corpus -max_total_time=$(FUZZ_SECONDS) \
	    -close_fd_mask=1 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/ > $(FUZZ_DIR)/fuzz.log 2>&1; \
	rc=$$?; tail -n 25 $(FUZZ_DIR)/fuzz.log; \
	echo "fuzz: $$(grep -ao 'stat::number_of_executed_units: *[0-9]*' $(FUZZ_DIR)/fuzz.log | grep -o '[0-9]*$$') executions in $(FUZZ_SECONDS) s (exit $$rc; log: $(FUZZ_DIR)/fuzz.log)"; \
	exit $$rc

bench: deps build/release/build.ninja
	cmake --build --preset release -j $(JOBS)
	./build/release/bench/sedx-bench

install: deps build/release/build.ninja
	cmake --build --preset release -j $(JOBS)
	cmake --install build/release --prefix $(PREFIX)

format:
	git ls-files '*.h' '*.cpp' | xargs clang-format -i

clean:
	rm -rf build out
