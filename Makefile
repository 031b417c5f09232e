# Thin wrapper over CMake + CTest. Build trees live side by side under build/.
#   make            release build (build/release)
#   make run        build and start textdesk
#   make test       sanitizer build (ASan+UBSan), every CTest test, then a
#                   short libFuzzer run of every fuzz target
#   make bench      release build, run every bench/bench_* and print figures
#   make fuzz       long fuzz runs: FUZZ_RUNS inputs per target (default 10
#                   million; docs/operations.md says how long), or
#                   FUZZ_SECONDS per target when that comes first (0: none)
#   make valgrind   unit tests and a short server session under valgrind
#   make soak       crash and gateway-fault soak through a real Kannel
#                   (SOAK_KILLS SIGKILLs, default 50; Kannel down SOAK_DOWN_S)
#   make soak-pg    the same on PostgreSQL, with its faults (down SOAK_PG_DOWN_S)
#   make soak-ha    active/standby chaos soak: two nodes, PostgreSQL, HAProxy,
#                   Kannel; the leader killed, frozen, cut, the database
#                   restarted in turn (SOAK_HA_ROUNDS rounds, default 100)
#   make soak-ha-promote  PostgreSQL's failover under two nodes, repeated
#                   (SOAK_HA_PROMOTIONS rounds, default 10): p50/p99
#   make cluster-demo  PostgreSQL, two nodes and HAProxy on free loopback
#                   ports (scripts/cluster-demo.sh); Ctrl-C stops them
#   make clean
JOBS ?= $(shell nproc)
FUZZ_SMOKE_SECONDS ?= 6
FUZZ_SECONDS ?= 0
FUZZ_RUNS ?= 10000000
SOAK_KILLS ?= 50
SOAK_DOWN_S ?= 60
SOAK_PG_DOWN_S ?= 30
SOAK_HA_ROUNDS ?= 100
SOAK_HA_PROMOTIONS ?= 10
RELEASE := build/release
ASAN := build/asan
FUZZB := build/fuzz

.PHONY: all build run test unit fuzz-smoke fuzz bench soak soak-pg clean install valgrind cluster-demo soak-ha soak-ha-promote
PREFIX ?= /usr/local
INSTALLB := build/install

all: build

build:
	@cmake -S . -B $(RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=Release -DTEXTDESK_TESTS=OFF >/dev/null
	@cmake --build $(RELEASE) -j $(JOBS)

run: build
	./$(RELEASE)/textdesk serve

E2E_DEPS := tests/e2e/node_modules/.package-lock.json

$(E2E_DEPS): tests/e2e/package-lock.json
	cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error

unit: $(E2E_DEPS)
	@cmake -S . -B $(ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTEXTDESK_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

fuzz-build:
	@CC=clang cmake -S . -B $(FUZZB) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTEXTDESK_FUZZ=ON >/dev/null
	@cmake --build $(FUZZB) -j $(JOBS)

fuzz-smoke: fuzz-build
	@sh scripts/fuzz.sh $(FUZZB) $(FUZZ_SMOKE_SECONDS)

fuzz: fuzz-build
	@sh scripts/fuzz.sh $(FUZZB) $(FUZZ_SECONDS) $(FUZZ_RUNS)

test: unit fuzz-smoke

# Not part of `make test`: a few minutes (scripts/valgrind.sh).
valgrind: $(E2E_DEPS)
	@JOBS=$(JOBS) sh scripts/valgrind.sh

bench: build
	@cmake -S . -B $(RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=Release -DTEXTDESK_TESTS=OFF >/dev/null
	@cmake --build $(RELEASE) -j $(JOBS)
	@for b in $(RELEASE)/bench_*; do echo "== $$(basename $$b)"; $$b || exit 1; done

soak: build $(E2E_DEPS)
	TEXTDESK_BIN=$(RELEASE)/textdesk node tests/soak/soak.mjs --kills $(SOAK_KILLS) --down $(SOAK_DOWN_S)

# The soak on PostgreSQL: kills, then the database's faults under load
# (connections killed, restarted, stopped SOAK_PG_DOWN_S), then Kannel down.
soak-ha: build $(E2E_DEPS)
	TEXTDESK_BIN=$(RELEASE)/textdesk node tests/soak/soak_ha.mjs --rounds $(SOAK_HA_ROUNDS)

soak-ha-promote: build $(E2E_DEPS)
	TEXTDESK_BIN=$(RELEASE)/textdesk node tests/soak/soak_ha.mjs --promotions $(SOAK_HA_PROMOTIONS)

cluster-demo: build
	TEXTDESK_BIN=$(RELEASE)/textdesk sh scripts/cluster-demo.sh

soak-pg: build $(E2E_DEPS)
	TEXTDESK_BIN=$(RELEASE)/textdesk node tests/soak/soak.mjs --kills $(SOAK_KILLS) --down $(SOAK_DOWN_S) \
	  --store postgresql --db-faults terminate,restart,stop:$(SOAK_PG_DOWN_S)

# Installs the binary, the web files, the man page and a systemd unit
# (restart on failure) under PREFIX (DESTDIR for staging).
install:
	@cmake -S . -B $(INSTALLB) -G Ninja -DCMAKE_BUILD_TYPE=Release -DTEXTDESK_TESTS=OFF \
	  -DTEXTDESK_INSTALLED=ON -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(INSTALLB) -j $(JOBS)
	@DESTDIR=$(DESTDIR) cmake --install $(INSTALLB)

clean:
	rm -rf build
