# bootmeta: the two commands a new user needs are `make demo` and `make check`.
# Everything is built by CMake in build folders; this file only sequences the steps.
JOBS ?= 2
MAKEFLAGS += --no-print-directory
BUILD ?= build
RELEASE_BUILD ?= build-release
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 20
CTEST_ARGS ?=

.PHONY: all deps build release check test fuzz fuzz-build fuzz-short demo bench soak clean

all: build

deps:
	@sh scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Debug -DBM_SANITIZE=ON -DBM_WERROR=ON -DBM_CLI_SHARED=ON

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

$(RELEASE_BUILD)/CMakeCache.txt:
	cmake -S . -B $(RELEASE_BUILD) -DCMAKE_BUILD_TYPE=Release -DBM_SANITIZE=OFF -DBM_WERROR=ON -DBM_STATIC_DEPS=ON

release: deps $(RELEASE_BUILD)/CMakeCache.txt
	cmake --build $(RELEASE_BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS)

# Everything, ending with one verdict line (scripts/check.sh).
check: deps
	@sh scripts/check.sh "$(MAKE)" $(BUILD) $(RELEASE_BUILD) $(JOBS)

$(FUZZ_BUILD)/CMakeCache.txt:
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DBM_FUZZ=ON -DBM_SANITIZE=ON -DBM_WERROR=ON

fuzz-build: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j$(JOBS)

# A short run of every fuzz target (part of `make check`); `make fuzz FUZZ_SECONDS=600` for longer.
fuzz-short: fuzz-build
	@sh scripts/fuzz.sh $(FUZZ_BUILD) 10

fuzz: fuzz-build
	@sh scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

demo: release
	@sh scripts/demo.sh $(RELEASE_BUILD)/bootmeta

# The crash test of serve with many more SIGKILLs than make check runs (SOAK_TRIALS).
SOAK_TRIALS ?= 200
soak: build
	cd $(BUILD) && SERVE_CRASH_TRIALS=$(SOAK_TRIALS) ctest --output-on-failure -R t_serve_crash --timeout 7200

bench: release
	@sh scripts/deps.sh bench
	@sh bench/run.sh $(RELEASE_BUILD)

clean:
	rm -rf $(BUILD) $(RELEASE_BUILD) $(FUZZ_BUILD)
