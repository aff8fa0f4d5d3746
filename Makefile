# Makefile — builds dnic's C core alone: libdnic.a, libdnic.so, dnic.pc,
# the C tests, the examples in other languages and the benchmarks.
#
#   make lib                  build/libdnic.{a,so} + build/dnic.pc
#   make check                C tests (OpenMP at 1 and 2 threads, then a
#                             build without OpenMP) + C and Python examples
#   make check SANITIZE=1     the same under AddressSanitizer + UBSan
#   make bench                kernel microbenchmarks
#   make demo                 train on Fashion-MNIST with the C core alone
#   make install PREFIX=/usr/local [DESTDIR=...]
#
# Baseline x86-64 code: no -march=native (SIGILL on older CPUs). BLAS is
# loaded at run time (csrc/blas.c), so nothing links -lopenblas.

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
CFLAGS   += -std=c99 -fPIC -Wall -Wextra -Wno-unknown-pragmas -fopenmp-simd -fno-math-errno -fno-trapping-math -Icsrc/include
LIBS     := -lm -ldl -lpthread
ifeq ($(OPENMP),1)
  CFLAGS += -fopenmp
  LIBS   := -fopenmp $(LIBS)
endif
ifeq ($(SANITIZE),1)
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  CFLAGS   += $(SANFLAGS)
  LIBS     += $(SANFLAGS)
endif
# symbols not marked DNIC_API stay private to libdnic.so
LIBCFLAGS := $(CFLAGS) -fvisibility=hidden -DDNIC_BUILD_SHARED

SRC      := $(wildcard csrc/*.c)
OBJ      := $(SRC:csrc/%.c=$(BUILD)/obj/%.o)
TESTS    := $(patsubst csrc/tests/%.c,$(BUILD)/tests/%,$(wildcard csrc/tests/test_*.c))
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
SONAME   := libdnic.so.$(SOMAJOR)

.PHONY: lib check check-c check-noomp check-examples tests bench demo install clean
.SECONDARY:

lib: $(BUILD)/libdnic.a $(BUILD)/libdnic.so $(BUILD)/dnic.pc

$(BUILD)/obj/%.o: csrc/%.c csrc/include/dnic.h csrc/internal.h
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
$(BUILD)/tests/%: csrc/tests/%.c csrc/tests/harness.h $(BUILD)/libdnic.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ $(BUILD)/libdnic.a $(LIBS) $(if $(shell grep -l lapacke.h $< 2>/dev/null),-llapacke)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libdnic.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ $(BUILD)/libdnic.a $(LIBS)

tests: $(TESTS)

# the C suite in this build (tests loop over 1 and 2 threads themselves)
# Under SANITIZE=1, LeakSanitizer runs at exit (stated, not left to defaults)
# and any report fails the run.
check-c: $(TESTS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    sh csrc/tests/run.sh $(TESTS)

check-noomp:
	$(MAKE) --no-print-directory OPENMP=0 SANITIZE=$(SANITIZE) BUILD=$(BUILD)/noomp check-c

# Examples build against the INSTALLED library, found through pkg-config.
STAGE := $(abspath $(BUILD))/stage
check-examples: lib
	rm -rf $(STAGE)
	$(MAKE) --no-print-directory install PREFIX=$(STAGE) DESTDIR=
	@mkdir -p $(BUILD)/examples
	$(CC) $(SANFLAGS) $$(PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig pkg-config --cflags dnic) \
	    examples/c/train.c -o $(BUILD)/examples/train_c \
	    $$(PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig pkg-config --libs dnic) $(SANFLAGS)
	LD_LIBRARY_PATH=$(STAGE)/lib $(BUILD)/examples/train_c
ifeq ($(SANITIZE),1)
	@echo "examples/python: skipped under SANITIZE=1 (python3 would need libasan preloaded)"
else
	python3 examples/python/train.py $(STAGE)/lib/libdnic.so
endif

check: check-c check-noomp check-examples

# The C core's own training loop on Fashion-MNIST (needs zlib for the .gz files).
$(BUILD)/examples/fashion_mnist: examples/c/fashion_mnist.c $(BUILD)/libdnic.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ $(BUILD)/libdnic.a $(LIBS) -lz

demo: $(BUILD)/examples/fashion_mnist
	$(BUILD)/examples/fashion_mnist $(DEMO_ARGS)

bench: $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 csrc/include/dnic.h $(DESTDIR)$(PREFIX)/include/dnic.h
	install -m 644 $(BUILD)/libdnic.a $(DESTDIR)$(PREFIX)/lib/libdnic.a
	install -m 755 $(BUILD)/libdnic.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libdnic.so.$(VERSION)
	ln -sf libdnic.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf libdnic.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libdnic.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@PRIVATE_LIBS@|$(LIBS)|' csrc/dnic.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/dnic.pc

clean:
	rm -rf build
