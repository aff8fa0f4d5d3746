# Makefile — builds dnic's C core alone: libdnic.a, libdnic.so, dnic.pc,
# the C tests, the examples in other languages and the benchmarks.
#
#   make lib                  build/libdnic.{a,so} + build/dnic.pc
#   make check                C tests (OpenMP at 1 and 2 threads, then a
#                             build without OpenMP) + the C example
#   make check SANITIZE=1     the same under AddressSanitizer + UBSan
#   make bench                kernel microbenchmarks
#   make demo                 train on Fashion-MNIST with the C core alone
#   make install PREFIX=/usr/local [DESTDIR=...]
#                             (with mpicc: libdnic_mpi, dnic_mpi.h and
#                             dnic-mpi.pc too; see MPI below)
#
# Baseline x86-64 code: no -march=native (SIGILL on older CPUs). BLAS is
# loaded at run time (csrc/gemm/blas.c), so nothing links -lopenblas.
#
# csrc/ by floor, each using only the floors below it:
#   include/        dnic.h, the one public header (module.modulemap for Swift)
#   base/           what every file includes (internal.h), status strings,
#                   the per-thread last-error detail, the ABI check
#   gemm/           the GEMM backends and the thread count that drives them
#   kernels/        dense, element-wise kernels and their instruction-set
#                   variants, batch gathering, rng
#   analysis/       closed-form linear probes
#   train/          network, interfaces, DNI trainer, the unlocked schedules
#   transport/mpi/  libdnic_mpi: the schedules' blocks as MPI ranks (dnic_mpi.h)
# Each floor declares its internals in its own headers, included by their
# path from csrc/ ("train/pipe_internal.h"; hence -Icsrc).

CC       ?= cc
OPENMP   ?= 1
SANITIZE ?= 0
PREFIX   ?= /usr/local
VERSION  := $(shell sed -n 's/^\#define DNIC_VERSION "\(.*\)"/\1/p' csrc/include/dnic.h)
SOMAJOR  := 0

ifeq ($(SANITIZE),1)
  BUILD ?= build/san
else ifeq ($(OPENMP),0)
  BUILD ?= build/noomp
else
  BUILD ?= build
endif

CFLAGS   ?= -O2 -g
# -fopenmp-simd: `omp simd` loops vectorise in builds without OpenMP too;
# -fno-math-errno -fno-trapping-math: sqrtf never sets errno and float
# selects need not preserve FP traps, so those loops vectorise (dnic never
# reads errno or FP exception flags).
CFLAGS   += -std=c99 -fPIC -Wall -Wextra -Wno-unknown-pragmas -fopenmp-simd -fno-math-errno -fno-trapping-math -Icsrc/include -Icsrc
LIBS     := -lm -ldl -lpthread
# OPENMP_LIBS: how the library links its OpenMP runtime (gcc: libgomp
# through -fopenmp; the Python package builds with clang, as SwiftPM does,
# and passes -lomp5, LLVM's libomp as Debian installs it)
OPENMP_LIBS ?= -fopenmp
ifeq ($(OPENMP),1)
  CFLAGS += -fopenmp
  LIBS   := $(OPENMP_LIBS) $(LIBS)
endif
ifeq ($(SANITIZE),1)
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  CFLAGS   += $(SANFLAGS)
  LIBS     += $(SANFLAGS)
endif
# symbols not marked DNIC_API stay private to libdnic.so
LIBCFLAGS := $(CFLAGS) -fvisibility=hidden -DDNIC_BUILD_SHARED

FLOORS   := base gemm kernels analysis train
SRC      := $(foreach f,$(FLOORS),$(wildcard csrc/$(f)/*.c))
HDR      := csrc/include/dnic.h $(foreach f,$(FLOORS),$(wildcard csrc/$(f)/*.h))
OBJ      := $(SRC:csrc/%.c=$(BUILD)/obj/%.o)
TESTS    := $(patsubst csrc/tests/%.c,$(BUILD)/tests/%,$(wildcard csrc/tests/test_*.c))
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
SONAME   := libdnic.so.$(SOMAJOR)

.PHONY: lib check check-c check-noomp check-examples tests bench demo install clean
.SECONDARY:

lib: $(BUILD)/libdnic.a $(BUILD)/libdnic.so $(BUILD)/dnic.pc

$(BUILD)/obj/%.o: csrc/%.c $(HDR)
	@mkdir -p $(@D)
	$(CC) $(LIBCFLAGS) -c $< -o $@

$(BUILD)/libdnic.a: $(OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libdnic.so.$(VERSION): $(OBJ)
	$(CC) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(LIBS)

$(BUILD)/libdnic.so: $(BUILD)/libdnic.so.$(VERSION)
	ln -sf libdnic.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf libdnic.so.$(VERSION) $@

$(BUILD)/dnic.pc: csrc/dnic.pc.in csrc/include/dnic.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@PRIVATE_LIBS@|$(LIBS)|' $< > $@

# Tests may use LAPACKE for independent reference solutions (never libdnic).
$(BUILD)/tests/%: csrc/tests/%.c $(wildcard csrc/tests/*.h) $(BUILD)/libdnic.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ $(BUILD)/libdnic.a $(LIBS) $(if $(shell grep -l lapacke.h $< 2>/dev/null),-llapacke)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libdnic.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ $(BUILD)/libdnic.a $(LIBS)

# bench_kernels: its main and description in bench/, a file per family of
# kernels (and what they share) in bench/kernels/
BENCH_KERNELS := bench/bench_kernels.c $(wildcard bench/kernels/*.c)
$(BUILD)/bench/bench_kernels: $(BENCH_KERNELS) $(wildcard bench/kernels/*.h) $(BUILD)/libdnic.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ibench/kernels $(BENCH_KERNELS) -o $@ $(BUILD)/libdnic.a $(LIBS)

tests: $(TESTS)

# the C suite in this build (tests loop over 1 and 2 threads themselves),
# once per GEMM backend (GEMM_BACKENDS; a backend whose library is absent
# runs as the next one available, and test_gemm says it skipped it).
# Under SANITIZE=1, LeakSanitizer runs at exit (stated, not left to defaults)
# and any report fails the run, except with oneDNN: gcc 12's LeakSanitizer
# crashes in its own tracer ("Tracer caught signal 11") as soon as a process
# has run oneDNN's OpenMP threads (reproduced with a 6-line program calling
# dnnl_sgemm), so that pass keeps ASan and UBSan and turns leak checks off.
GEMM_BACKENDS ?= onednn openblas builtin
check-c: $(TESTS)
	@for g in $(GEMM_BACKENDS); do \
	    echo "== GEMM backend $$g"; \
	    leaks=1; [ "$(SANITIZE)" = 1 ] && [ $$g = onednn ] && leaks=0; \
	    DNIC_GEMM=$$g ASAN_OPTIONS=detect_leaks=$$leaks:abort_on_error=0:halt_on_error=1 \
	        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 sh csrc/tests/run.sh $(TESTS) || exit 1; \
	done

check-noomp:
	$(MAKE) --no-print-directory OPENMP=0 SANITIZE=$(SANITIZE) BUILD=$(BUILD)/noomp check-c

# Examples build against the INSTALLED library, found through pkg-config.
# Under SANITIZE=1 the C example runs on OpenBLAS: LeakSanitizer crashes at
# exit in a process that ran oneDNN's threads (see check-c).
STAGE := $(abspath $(BUILD))/stage
check-examples: lib
	rm -rf $(STAGE)
	$(MAKE) --no-print-directory install PREFIX=$(STAGE) DESTDIR=
	@mkdir -p $(BUILD)/examples
	$(CC) $(SANFLAGS) $$(PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig pkg-config --cflags dnic) \
	    examples/c/train.c -o $(BUILD)/examples/train_c \
	    $$(PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig pkg-config --libs dnic) $(SANFLAGS)
	$(if $(filter 1,$(SANITIZE)),DNIC_GEMM=openblas) LD_LIBRARY_PATH=$(STAGE)/lib $(BUILD)/examples/train_c
	@echo "examples/python: run by scripts/test-python.sh (they need the dnic package installed)"

check: check-c check-noomp check-examples check-mpi

# ---------------------------------------------------------------- MPI
# libdnic_mpi: the pipeline's blocks as MPI ranks (csrc/transport/mpi, dnic_mpi.h),
# built only where Open MPI's mpicc is found; libdnic never includes mpi.h.
#   make mpi          build/libdnic_mpi.{a,so}
#   make check-mpi    its test under mpirun -np 2 and -np 3 (skipped, saying
#                     so, without mpicc); leak checks off under SANITIZE=1,
#                     Open MPI keeps allocations until exit; then
#   make check-examples-mpi   examples/mpi/train_ranks.c built against the
#                     INSTALLED headers and libraries, run with 2 and 3 ranks
# mpirun flags: more ranks than cores (--oversubscribe), root in containers
# (--allow-run-as-root), and shared memory without the single-copy
# mechanism (CMA needs ptrace rights containers often lack).
MPICC        ?= $(shell command -v mpicc 2>/dev/null)
MPIRUN       ?= mpirun
MPIRUN_FLAGS ?= --oversubscribe $(if $(filter 0,$(shell id -u)),--allow-run-as-root) \
                --mca btl_vader_single_copy_mechanism none
MPI_DIR      := csrc/transport/mpi
MPI_SRC      := $(wildcard $(MPI_DIR)/*.c)
MPI_OBJ      := $(MPI_SRC:csrc/%.c=$(BUILD)/obj/%.o)

.PHONY: mpi check-mpi check-examples-mpi
ifneq ($(MPICC),)
mpi: $(BUILD)/libdnic_mpi.a $(BUILD)/libdnic_mpi.so

$(BUILD)/obj/transport/mpi/%.o: $(MPI_DIR)/%.c $(MPI_DIR)/include/dnic_mpi.h $(HDR) $(wildcard $(MPI_DIR)/*.h)
	@mkdir -p $(@D)
	$(MPICC) $(LIBCFLAGS) -I$(MPI_DIR)/include -c $< -o $@

$(BUILD)/libdnic_mpi.a: $(MPI_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libdnic_mpi.so: $(MPI_OBJ) $(BUILD)/libdnic.so
	$(MPICC) -shared -Wl,-soname,libdnic_mpi.so.$(SOMAJOR) -o $@.$(VERSION) $(MPI_OBJ) -L$(BUILD) -ldnic $(LIBS)
	ln -sf libdnic_mpi.so.$(VERSION) $(BUILD)/libdnic_mpi.so.$(SOMAJOR)
	ln -sf libdnic_mpi.so.$(VERSION) $@

$(BUILD)/tests/mpi/test_mpi: csrc/tests/mpi/test_mpi.c $(wildcard csrc/tests/*.h) $(BUILD)/libdnic_mpi.a $(BUILD)/libdnic.a
	@mkdir -p $(@D)
	$(MPICC) $(CFLAGS) -I$(MPI_DIR)/include $< -o $@ $(BUILD)/libdnic_mpi.a $(BUILD)/libdnic.a $(LIBS)

check-mpi: $(BUILD)/tests/mpi/test_mpi
	@for n in 2 3; do \
	    echo "== mpirun -np $$n"; \
	    ASAN_OPTIONS=detect_leaks=0 $(MPIRUN) $(MPIRUN_FLAGS) -np $$n $(BUILD)/tests/mpi/test_mpi || exit 1; \
	done
	@$(MAKE) --no-print-directory check-examples-mpi

# make install installs libdnic_mpi too: build it before check-examples'
# install runs (that install then only copies, also under make -j).
check-examples: mpi

# The MPI example, built with mpicc against the headers and shared
# libraries installed into a stage of its own (check-examples may use its
# stage at the same time under make -j), found through pkg-config dnic-mpi.
STAGE_MPI := $(abspath $(BUILD))/stage-mpi
check-examples-mpi: lib mpi
	rm -rf $(STAGE_MPI)
	$(MAKE) --no-print-directory install PREFIX=$(STAGE_MPI) DESTDIR=
	@mkdir -p $(BUILD)/examples
	$(MPICC) -std=c99 $(SANFLAGS) $$(PKG_CONFIG_PATH=$(STAGE_MPI)/lib/pkgconfig pkg-config --cflags dnic-mpi) \
	    examples/mpi/train_ranks.c -o $(BUILD)/examples/train_ranks \
	    $$(PKG_CONFIG_PATH=$(STAGE_MPI)/lib/pkgconfig pkg-config --libs dnic-mpi) $(SANFLAGS)
	@for n in 2 3; do \
	    echo "== mpirun -np $$n $(BUILD)/examples/train_ranks"; \
	    LD_LIBRARY_PATH=$(STAGE_MPI)/lib $(if $(filter 1,$(SANITIZE)),ASAN_OPTIONS=detect_leaks=0) \
	        $(MPIRUN) $(MPIRUN_FLAGS) -x LD_LIBRARY_PATH -np $$n $(BUILD)/examples/train_ranks || exit 1; \
	done
else
mpi check-mpi:
	@echo "mpi: skipped (no mpicc: apt-get install libopenmpi-dev openmpi-bin)"
check-examples-mpi:
	@echo "check-examples-mpi: skipped (no mpicc: apt-get install libopenmpi-dev openmpi-bin)"
endif

# The C core's own training loop on Fashion-MNIST (needs zlib for the .gz files).
$(BUILD)/examples/fashion_mnist: examples/c/fashion_mnist.c $(BUILD)/libdnic.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ $(BUILD)/libdnic.a $(LIBS) -lz

demo: $(BUILD)/examples/fashion_mnist
	$(BUILD)/examples/fashion_mnist $(DEMO_ARGS)

bench: $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

install: lib $(if $(MPICC),mpi)
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 csrc/include/dnic.h $(DESTDIR)$(PREFIX)/include/dnic.h
	install -m 644 $(BUILD)/libdnic.a $(DESTDIR)$(PREFIX)/lib/libdnic.a
	install -m 755 $(BUILD)/libdnic.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libdnic.so.$(VERSION)
	ln -sf libdnic.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf libdnic.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libdnic.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@PRIVATE_LIBS@|$(LIBS)|' csrc/dnic.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/dnic.pc
ifneq ($(MPICC),)
	install -m 644 $(MPI_DIR)/include/dnic_mpi.h $(DESTDIR)$(PREFIX)/include/dnic_mpi.h
	install -m 644 $(BUILD)/libdnic_mpi.a $(DESTDIR)$(PREFIX)/lib/libdnic_mpi.a
	install -m 755 $(BUILD)/libdnic_mpi.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libdnic_mpi.so.$(VERSION)
	ln -sf libdnic_mpi.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libdnic_mpi.so.$(SOMAJOR)
	ln -sf libdnic_mpi.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libdnic_mpi.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    $(MPI_DIR)/dnic-mpi.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/dnic-mpi.pc
endif

clean:
	rm -rf build

# ---------------------------------------------------------------- fuzz
# make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="csv gzip"] [FUZZ_JOBS=2] [FUZZ_ONE_LINE=0]
#
# Fuzzes every file parser with libFuzzer + AddressSanitizer (the harness
# is Sources/DnicFuzz/main.swift). Slow, so never part of `make check`: run
# it by hand. Per target: seeds in build/fuzz/corpus/<target>/ (valid files
# written by dnic itself, their gzip'd forms, and the hostile inputs of
# Tests/DnicTests/Hostile/<target>/), FUZZ_SECONDS of fuzzing, inputs that
# crash, hang or leak in build/fuzz/crashes/<target>/, the log in
# build/fuzz/<target>.log. FUZZ_JOBS targets run side by side, one per core.
# An error message of more than one line counts as a crash unless
# FUZZ_ONE_LINE=0 (dnic promises one-line errors).
# Replay a crash with the normal build:
#   swift build && DNIC_FUZZ_TARGET=csv .build/debug/DnicFuzz build/fuzz/crashes/csv/*
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_ONE_LINE ?= 1
FUZZ_TARGETS ?= idx-images idx-labels gzip csv npy npz config-yaml config-json checkpoint
FUZZ_DIR     := build/fuzz
FUZZ_BIN     := .build-fuzz/release/DnicFuzz
# Longest input per target: room for a header and some data, small enough
# to keep executions fast (the checkpoint seeds are ~2 KB).
FUZZ_MAXLEN_idx-images  := 4096
FUZZ_MAXLEN_idx-labels  := 1024
FUZZ_MAXLEN_gzip        := 4096
FUZZ_MAXLEN_csv         := 4096
FUZZ_MAXLEN_npy         := 4096
FUZZ_MAXLEN_npz         := 8192
FUZZ_MAXLEN_config-yaml := 4096
FUZZ_MAXLEN_config-json := 4096
FUZZ_MAXLEN_checkpoint  := 8192
# Fork mode with ignore_*: one crash does not end the run, every crashing
# input is kept. SWIFT_BACKTRACE=enable=no: Swift's crash backtracer and
# ASan do not get along (it hangs reading the crashed process's memory).
FUZZ_FLAGS   := -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 -timeout=10 -rss_limit_mb=2048
FUZZ_ENV     := SWIFT_BACKTRACE=enable=no OMP_NUM_THREADS=1 DNIC_FUZZ_ONE_LINE=$(FUZZ_ONE_LINE)
# The path-based parsers read each input from a scratch file: in RAM when
# /dev/shm exists, in a directory of this run's own, removed afterwards.
FUZZ_SHM     := $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo $(abspath $(FUZZ_DIR)))

.PHONY: fuzz fuzz-build
fuzz: fuzz-build
	@rm -f $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%.summary)
	@$(MAKE) --no-print-directory -j$(FUZZ_JOBS) $(FUZZ_TARGETS:%=fuzz-run-%)
	@echo "fuzz: $(FUZZ_SECONDS) s per target; crash inputs in $(FUZZ_DIR)/crashes/<target>/"
	@cat $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%.summary)
	@if grep -q 'executions, [1-9]' $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%.summary); then \
	    echo "fuzz: crashes found; see what one does with: swift build && DNIC_FUZZ_TARGET=<target> .build/debug/DnicFuzz $(FUZZ_DIR)/crashes/<target>/<file>"; \
	    exit 1; fi

fuzz-build:
	swift build -c release --product DnicFuzz --scratch-path .build-fuzz \
	    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DDNIC_FUZZING -Xcc -fsanitize=fuzzer-no-link,address

# Seeds: dnic's own valid files (and a dictionary of the format's words),
# gzip'd copies for the targets that read gzip, the hostile inputs except
# those the manifest marks "skip" (known hangs and memory hogs, which would
# be reported again by every run).
HOSTILE      := Tests/DnicTests/Hostile
fuzz-seeds-%: fuzz-build
	@mkdir -p $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/crashes/$*
	@env $(FUZZ_ENV) DNIC_FUZZ_TARGET=$* $(FUZZ_BIN) --seeds $(FUZZ_DIR)/corpus/$* --dict $(FUZZ_DIR)/$*.dict
	@case $* in idx-*|gzip) for f in $(FUZZ_DIR)/corpus/$*/seed-*; do \
	    case $$f in *.gz) ;; *) gzip -9 -n -c $$f > $$f.gz ;; esac; done ;; esac
	@skip=$$(python3 -c 'import json, sys; print(" ".join(e["file"] for e in json.load(open(sys.argv[1]))["files"] if "skip" in e))' \
	     $(HOSTILE)/manifest.json); \
	 for f in $(HOSTILE)/$*/*; do \
	     case " $$skip " in *" $*/$${f##*/} "*) ;; *) [ ! -f "$$f" ] || cp "$$f" $(FUZZ_DIR)/corpus/$*/ ;; esac; done

# One target; its summary line: executions (libFuzzer's last "#N" count)
# and the crash inputs this run saved (earlier runs' stay, counted apart).
# Processes killed by libFuzzer leave libomp's registration file behind in
# /dev/shm; those created during the run by processes now gone are removed.
fuzz-run-%: fuzz-seeds-%
	@echo "fuzz $*: $(FUZZ_SECONDS) s ..."
	@touch $(FUZZ_DIR)/$*.start; \
	 kmp() { ls /dev/shm 2>/dev/null | grep '^__KMP_REGISTERED_LIB_[0-9]*_' | sort; }; \
	 kmp > $(FUZZ_DIR)/$*.kmp; \
	 scratch=$$(mktemp -d $(FUZZ_SHM)/dnic-fuzz-$*.XXXXXX); \
	 env $(FUZZ_ENV) DNIC_FUZZ_TMPDIR=$$scratch DNIC_FUZZ_TARGET=$* $(FUZZ_BIN) $(FUZZ_DIR)/corpus/$* $(FUZZ_FLAGS) \
	     -max_len=$(FUZZ_MAXLEN_$*) -max_total_time=$(FUZZ_SECONDS) -dict=$(FUZZ_DIR)/$*.dict \
	     -artifact_prefix=$(FUZZ_DIR)/crashes/$*/ > $(FUZZ_DIR)/$*.log 2>&1; \
	 rm -rf "$$scratch"; \
	 for f in $$(kmp | comm -13 $(FUZZ_DIR)/$*.kmp -); do \
	     pid=$${f#__KMP_REGISTERED_LIB_}; pid=$${pid%%_*}; kill -0 $$pid 2>/dev/null || rm -f /dev/shm/$$f; done; \
	 runs=$$(grep -aoE '^#[0-9]+' $(FUZZ_DIR)/$*.log | tail -1 | tr -d '#'); \
	 found() { find $(FUZZ_DIR)/crashes/$* -type f "$$@" | grep -cE '/(crash|leak|timeout|oom)-'; }; \
	 printf '  %-12s %10s executions, %s crashes (crash inputs kept from earlier runs: %s)\n' \
	     $* "$${runs:-0}" "$$(found -newer $(FUZZ_DIR)/$*.start)" "$$(found ! -newer $(FUZZ_DIR)/$*.start)" \
	     > $(FUZZ_DIR)/$*.summary
