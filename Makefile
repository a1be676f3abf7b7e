# sluice — plain Makefile + pkg-config.
#
#   make            build build/sluice (release, -O2)
#   make run        install missing Debian packages, build, run the main job
#   make test       install test tools, build with ASan+UBSan, run every test
#   make bench      benchmarks against peers (see bench/)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (make fuzz-merge: minimize)
#
CC       ?= cc
PKGS     := libzstd snappy liblz4 zlib libxxhash libisal libmicrohttpd libcurl openssl yaml-0.1 sqlite3 libpq libmariadb libedit hiredis
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# -Wno-missing-field-initializers: struct initializers such as
# {name, PQ_INT64, 1} for pq_column_spec stay valid (the rest zero, as C
# guarantees) when a struct gains trailing fields (precision, scale).
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter \
            -Wno-missing-field-initializers
CSTD     := -std=c11 -D_GNU_SOURCE
INCS     := -Isrc
OPT      ?= -O2 -g
LIBS     := $(PKG_LIBS) -lm -lpthread

SRC      := $(sort $(wildcard src/*/*.c))
# the console's files (ui/), compiled in as C by scripts/embed_ui.sh (POSIX tools)
UI_FILES := $(shell find ui -type f 2>/dev/null)
UI_GEN   := build/gen/ui_assets.c
SRC      += $(UI_GEN)
MAIN     := src/main.c
UNIT     := $(sort $(wildcard tests/unit/*.c))
FUZZ     := $(sort $(wildcard tests/fuzz/fuzz_*.c))

# release build
REL      := build/rel
REL_OBJ  := $(SRC:%.c=$(REL)/%.o) $(REL)/src/main.o
# sanitizer build for tests
SAN      := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_OBJ  := $(SRC:%.c=$(SAN)/%.o)

.PHONY: all run test unit bench fuzz fuzz-build fuzz-merge deps test-deps clean
.SECONDARY:
all: build/sluice

$(UI_GEN): $(UI_FILES) scripts/embed_ui.sh
	@mkdir -p $(dir $@)
	@echo "GEN $@"; sh scripts/embed_ui.sh ui >$@.tmp && mv $@.tmp $@

build/sluice: $(REL_OBJ)
	@echo "LD  $@"; $(CC) $(OPT) -o $@ $^ $(LIBS)

$(REL)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC  $<"; $(CC) $(CSTD) $(WARN) $(OPT) $(INCS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(SAN)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC  $< (san)"; $(CC) $(CSTD) $(WARN) -O1 -g $(SANFLAGS) $(INCS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/san/sluice: $(SAN_OBJ) $(SAN)/src/main.o
	@echo "LD  $@"; $(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

build/san/unit: $(SAN_OBJ) $(UNIT:%.c=$(SAN)/%.o)
	@echo "LD  $@"; $(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

# test drivers run by integration tests (tests/unit/driver/<name>.c; the release
# build of one is for figures, e.g. build/rel/collect_probe)
build/san/collect_probe: $(SAN_OBJ) $(SAN)/tests/unit/driver/collect_probe.o
	@echo "LD  $@"; $(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

build/rel/collect_probe: $(SRC:%.c=$(REL)/%.o) $(REL)/tests/unit/driver/collect_probe.o
	@echo "LD  $@"; $(CC) $(OPT) -o $@ $^ $(LIBS)

# pq_driver: writes Parquet with pq_writer from a TSV description, for
# tests/integration/parquet_decimal.mjs (DECIMAL / TIME / TIMESTAMP_NTZ / BYTES)
build/san/pq_driver: $(SAN_OBJ) $(SAN)/tests/unit/driver/pq_driver.o
	@echo "LD  $@"; $(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

# pgf_driver (tests/integration/pg_federation.sh) and cron_driver
# (tests/integration/cron_python.sh): linked here with every object, like the
# others, so that a test never lists objects itself
build/san/pgf_driver: $(SAN_OBJ) $(SAN)/tests/unit/driver/pgf_driver.o
	@echo "LD  $@"; $(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

build/san/cron_driver: $(SAN_OBJ) $(SAN)/tests/unit/driver/cron_driver.o
	@echo "LD  $@"; $(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

# lake_driver: lands a lake table with lk_land from a TSV description, for
# tests/integration/lake_types.mjs (decimal / time / timestamp_ntz / bytes columns)
build/san/lake_driver: $(SAN_OBJ) $(SAN)/tests/unit/driver/lake_driver.o
	@echo "LD  $@"; $(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

# fuzz targets built as corpus replayers (no libFuzzer needed) for make test
build/san/fuzz_%: $(SAN_OBJ) $(SAN)/tests/fuzz/fuzz_%.o $(SAN)/tests/fuzz/replay.o
	@echo "LD  $@"; $(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

FUZZ_REPLAY := $(FUZZ:tests/fuzz/%.c=build/san/%)

deps:
	@scripts/deps.sh

test-deps:
	@scripts/deps.sh --test

run: deps
	@$(MAKE) --no-print-directory build/sluice
	@scripts/run.sh

test: test-deps
	@$(MAKE) --no-print-directory -j$$(nproc) build/sluice build/san/sluice build/san/unit build/san/collect_probe build/san/pq_driver build/san/lake_driver build/san/pgf_driver build/san/cron_driver $(FUZZ_REPLAY)
	@tests/run.sh

unit: build/san/unit
	build/san/unit

bench: test-deps
	@$(MAKE) --no-print-directory build/sluice
	@bench/run.sh

# libFuzzer builds (clang): objects built once with coverage, one binary per
# target.  `make fuzz` runs every target (or FUZZ_TARGETS="fuzz_s3xml ...")
# FUZZ_SECONDS each on its corpus tests/fuzz/corpus/<target>, adding what it
# finds there; `make fuzz-merge` then rewrites each corpus minimized.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(FUZZ:tests/fuzz/%.c=%)
FZ       := build/fuzz
FZ_CC    := clang
FZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FZ_OBJ   := $(SRC:%.c=$(FZ)/%.o)

$(FZ)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC  $< (fuzz)"; $(FZ_CC) $(CSTD) $(WARN) -g -O1 -fsanitize=fuzzer-no-link $(FZ_SAN) $(INCS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(FZ)/fuzz_%: $(FZ_OBJ) $(FZ)/tests/fuzz/fuzz_%.o
	@echo "LD  $@"; $(FZ_CC) -fsanitize=fuzzer $(FZ_SAN) -o $@ $^ $(LIBS)

fuzz-build: $(FUZZ_TARGETS:%=$(FZ)/%)

fuzz: test-deps
	@$(MAKE) --no-print-directory fuzz-build
	@for n in $(FUZZ_TARGETS); do mkdir -p tests/fuzz/corpus/$$n; \
	  $(FZ)/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	    tests/fuzz/corpus/$$n || exit 1; \
	done

fuzz-merge: fuzz-build
	@for n in $(FUZZ_TARGETS); do d=$(FZ)/merge-$$n; rm -rf $$d; mkdir -p $$d; \
	  $(FZ)/$$n -merge=1 -max_len=65536 $$d tests/fuzz/corpus/$$n >/dev/null 2>&1 || exit 1; \
	  rm -rf tests/fuzz/corpus/$$n; mv $$d tests/fuzz/corpus/$$n; \
	  echo "$$n: $$(ls tests/fuzz/corpus/$$n | wc -l) inputs"; \
	done

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
