# One-command entry points. Each target installs what it needs (scripts/install-deps.sh is
# idempotent and quick when everything is present), configures, builds and runs.
JOBS ?= $(shell nproc)
PREFIX ?= $(CURDIR)/out/install
DEMO_ARGS ?=

.PHONY: deps demo test test-tsan test-asan bench install format clean

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
