# sluice — plain Makefile + pkg-config.
#
#   make            build build/sluice (release, -O2)
#   make run        install missing Debian packages, build, run the main job
#   make test       install test tools, build with ASan+UBSan, run every test
#   make bench      benchmarks against peers (see bench/)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS
#
CC       ?= cc
PKGS     := libzstd snappy liblz4 zlib libxxhash libisal libmicrohttpd libcurl openssl yaml-0.1 sqlite3 libpq libedit
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CSTD     := -std=c11 -D_GNU_SOURCE
INCS     := -Isrc
OPT      ?= -O2 -g
LIBS     := $(PKG_LIBS) -lm -lpthread

SRC      := $(sort $(wildcard src/*/*.c))
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

.PHONY: all run test unit bench fuzz deps test-deps clean
.SECONDARY:
all: build/sluice

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
	@$(MAKE) --no-print-directory -j$$(nproc) build/sluice build/san/sluice build/san/unit $(FUZZ_REPLAY)
	@tests/run.sh

unit: build/san/unit
	build/san/unit

bench: test-deps
	@$(MAKE) --no-print-directory build/sluice
	@bench/run.sh

# libFuzzer builds (clang); FUZZ_SECONDS per target
FUZZ_SECONDS ?= 60
FZ       := build/fuzz
FZ_FLAGS := -fsanitize=fuzzer,address,undefined -g -O1
fuzz: test-deps
	@mkdir -p $(FZ)
	@for f in $(FUZZ); do n=$$(basename $$f .c); \
	  clang $(CSTD) $(FZ_FLAGS) $(INCS) $(PKG_CFLAGS) -o $(FZ)/$$n $$f $(SRC) $(LIBS) || exit 1; \
	  mkdir -p tests/fuzz/corpus/$$n; \
	  $(FZ)/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 tests/fuzz/corpus/$$n || exit 1; \
	done

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
