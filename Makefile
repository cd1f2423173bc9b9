# metagrid — build, test, run.
#
#   make               build/metagrid
#   make deps          install the Debian packages the project needs (idempotent)
#   make test          deps + build + every test; last line "N passed, N failed"
#   make check-layers  no upward include between the layer folders of src/
#   make check-functions  no function over 100 lines or 8 parameters
#   make run           deps + build + train configs/default.yaml on 2 ranks + eval
#   make bench         the benchmarks (lp, meta, scaling); tables on stdout
#   make asan          build/metagrid and the unit tests under ASan + UBSan
#   make install PREFIX=/usr/local
#
# Variables: BUILD (output dir), SANITIZE=address,undefined, WERROR=1
# (default in CI), OPT (optimisation flags).

BUILD    ?= build
PREFIX   ?= /usr/local
OPT      ?= -O2 -march=x86-64-v2 -g
WERROR   ?= $(if $(CI),1,0)
SANITIZE ?=

PKGS     := openblas yaml-0.1 zlib
# Build and run, then what the tests and checks use that a minimal Debian
# root (debootstrap --variant=minbase) lacks: procps (pgrep/pkill/ps in the
# e2e tests), file (PNG checks), python3 (JSON checks, check-functions),
# clang (make fuzz: libFuzzer), valgrind (make memcheck).
DEB_PKGS := openmpi-bin libopenmpi-dev libopenblas-dev libglpk-dev libyaml-dev \
            pkg-config zlib1g-dev gnuplot-nox slurm-wlm munge libpmix-dev \
            procps file python3 clang valgrind

CC       := gcc
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
MPI_CFLAGS = $(shell mpicc --showme:compile 2>/dev/null)
MPI_LIBS   = $(shell mpicc --showme:link 2>/dev/null)

CFLAGS   := -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter $(OPT) \
            -Iinclude -MMD -MP
ifeq ($(WERROR),1)
CFLAGS   += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=$(SANITIZE)
endif
LIBS      = $(PKG_LIBS) -lglpk -lm

# Provenance (src/core/version.c, README: Files of a run directory): the git
# revision (+dirty when the tree differs from it), the compiler, the flags.
# $(BUILD)/build_id changes when they do, so version.o never goes stale.
GIT_REV  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD -- 2>/dev/null || echo +dirty)
BUILD_DEFS = -DMG_GIT_REV='"$(GIT_REV)"' -DMG_CFLAGS='"$(OPT)"' -DMG_CC='"$(shell $(CC) -dumpfullversion)"'

# Sources sit in layer folders, src/LAYER/*.c (README: Architecture; the
# order is checked by `make check-layers`). Library: everything but the MPI
# layer and main.
LAYERS   := core dist lp tasks nn meta exp cli
LIB_SRC  := $(filter-out src/cli/main.c src/dist/parallel.c,$(wildcard $(LAYERS:%=src/%/*.c)))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: FORCE all deps test unit run bench asan clean install check-deps check-layers check-functions \
        fuzz fuzzers memcheck
all: $(BUILD)/metagrid

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/obj/core/version.o: src/core/version.c $(BUILD)/build_id
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(BUILD_DEFS) -c $< -o $@

$(BUILD)/build_id: FORCE
	@mkdir -p $(@D)
	@echo '$(BUILD_DEFS)' | cmp -s - $@ || echo '$(BUILD_DEFS)' > $@
FORCE:

$(BUILD)/obj/dist/parallel.o: src/dist/parallel.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(MPI_CFLAGS) -c $< -o $@

$(BUILD)/obj/dist/parallel_serial.o: src/dist/parallel.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DMG_SERIAL -c $< -o $@

$(BUILD)/libmetagrid.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/metagrid: $(BUILD)/obj/cli/main.o $(BUILD)/obj/dist/parallel.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LIBS) $(MPI_LIBS)

# Unit tests link the serial MPI layer: they run without mpirun.
# tests/mlp_ref.c is the slow reference the MLP is tested against: it is linked
# into the tests, never into the binary.
$(BUILD)/tests/%: tests/%.c tests/harness.h tests/mlp_ref.c tests/mlp_ref.h $(BUILD)/obj/dist/parallel_serial.o $(BUILD)/libmetagrid.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) $< tests/mlp_ref.c $(BUILD)/obj/dist/parallel_serial.o $(BUILD)/libmetagrid.a -o $@ $(LIBS)

# MPI test programs (tests/mpi_*.c) link the real MPI layer; e2e scripts run
# them under mpirun.
MPI_TEST_SRC := $(wildcard tests/mpi_*.c)
MPI_TEST_BIN := $(MPI_TEST_SRC:tests/%.c=$(BUILD)/tests/%)
$(BUILD)/tests/mpi_%: tests/mpi_%.c tests/harness.h $(BUILD)/obj/dist/parallel.o $(BUILD)/libmetagrid.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) $< $(BUILD)/obj/dist/parallel.o $(BUILD)/libmetagrid.a -o $@ $(LIBS) $(MPI_LIBS)

# Fuzz harnesses (tests/fuzz/fuzz_*.c, one per reader). `make unit` links
# each with tests/fuzz/replay_main.c (any compiler): replay_NAME runs a corpus
# once (tests/e2e_fuzz_corpus.sh). `make fuzz` builds them with clang's
# libFuzzer under ASan + UBSan into build-fuzz/ and runs tools/fuzz.sh.
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES   := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
REPLAY_BIN   := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)
FUZZ_BIN     := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_SECONDS ?= 60
$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h $(BUILD)/obj/dist/parallel_serial.o $(BUILD)/libmetagrid.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) $< tests/fuzz/replay_main.c $(BUILD)/obj/dist/parallel_serial.o $(BUILD)/libmetagrid.a -o $@ $(LIBS)
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/obj/dist/parallel_serial.o $(BUILD)/libmetagrid.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined $< $(BUILD)/obj/dist/parallel_serial.o $(BUILD)/libmetagrid.a -o $@ $(LIBS)
fuzzers: $(FUZZ_BIN)

unit: $(TEST_BIN) $(MPI_TEST_BIN) $(REPLAY_BIN)

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	else echo "make deps: all packages present"; fi

test: deps
	@bash tools/check_layers.sh
	@python3 tools/check_functions.py
	$(MAKE) --no-print-directory all unit WERROR=1
	$(MAKE) --no-print-directory unit BUILD=build-san SANITIZE=address,undefined WERROR=1
	@bash tests/run.sh $(BUILD) build-san

# Fails when a file includes a header of a layer above its own.
check-layers:
	@bash tools/check_layers.sh

# make memcheck: mpirun -np 2 train + eval of a tiny config under valgrind;
# exits non-zero on an error outside Open MPI / PMIx (tools/valgrind-mpi.supp).
memcheck: deps
	$(MAKE) --no-print-directory all
	@bash tools/memcheck.sh $(BUILD)/metagrid

# make fuzz [FUZZ_SECONDS=N]: every harness N seconds (default 60) under
# libFuzzer + ASan + UBSan; exits non-zero on a crash (README: Fuzzing).
fuzz: deps
	$(MAKE) --no-print-directory fuzzers BUILD=build-fuzz CC=clang WERROR=0 \
	  SANITIZE=fuzzer-no-link,address,undefined
	@bash tools/fuzz.sh build-fuzz $(FUZZ_SECONDS)

# Fails when a function in src/ runs over 100 lines or takes more than 8
# parameters (exceptions: tools/function_limits.txt).
check-functions:
	@python3 tools/check_functions.py

asan:
	$(MAKE) --no-print-directory all unit BUILD=build-san SANITIZE=address,undefined

run: deps
	$(MAKE) --no-print-directory all
	@bash tools/run_default.sh $(BUILD)/metagrid

bench: deps
	$(MAKE) --no-print-directory all
	@bash tools/bench.sh $(BUILD)/metagrid

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/metagrid/tools
	install -m 755 $(BUILD)/metagrid $(DESTDIR)$(PREFIX)/bin/metagrid
	install -m 755 tools/plot.sh $(DESTDIR)$(PREFIX)/share/metagrid/tools/plot.sh
	cp -r configs jobs $(DESTDIR)$(PREFIX)/share/metagrid/

# Removes the build folders this Makefile makes ($(BUILD), and build* folders
# holding its obj/ tree); a folder of yours named build-something stays.
clean:
	rm -rf $(BUILD)/obj $(BUILD)/tests $(BUILD)/metagrid $(BUILD)/libmetagrid.a
	@for d in build build-*; do \
	  if [ -d "$$d/obj" ]; then echo "rm -rf $$d"; rm -rf "$$d"; fi; \
	done
	-@rmdir $(BUILD) 2>/dev/null || true

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/tests/*.d $(BUILD)/fuzz/*.d)
