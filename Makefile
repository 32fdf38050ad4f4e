# Vellum - top-level, non-recursive GNU make.
#   make          build bin/vellum
#   make run      install what is missing, build, initialise ./var and serve
#   make test     install what is missing, build with ASan+UBSan, run every test
#   make bench    install what is missing, build optimised, print the benchmark tables
#   make bench-search  the search benchmark of issue 4 (1M messages: hours; SEARCH_BENCH_MESSAGES=N)
#   make bench-holds   hold placement and disposal on synthetic rows (HOLD_BENCH_MESSAGES=N)
#   make bench-export  export of 100,000 messages beside cat (EXPORT_BENCH_MESSAGES=N)
#   make bench-attach  indexing with DOCX and PDF attachments beside none (ATTACH_BENCH_MESSAGES=N)
#   make bench-api     search over HTTP at 1 and 16 connections beside in-process (1M messages)
.SUFFIXES:
.DEFAULT_GOAL := all

PKGS     := libsodium libzstd libpq openssl jansson libmicrohttpd gmime-3.0 libzip
CC       := cc
# -Wno-format-truncation: every snprintf into a bounded buffer is deliberate; the bound is the
# limit. GCC's guess of what "may" not fit flags every one of them.
# Third-party headers go in through -isystem so our warning set does not judge them.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null | sed 's/-I/-isystem /g')
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wcast-qual -Wformat=2 -Wvla -Wimplicit-fallthrough \
            -Wnull-dereference -fno-common -Wno-format-truncation
# Our headers through -iquote: only #include "x.h" finds them, so none can shadow a system
# header of the same name (archiver/fts.h and glibc's <fts.h>, used by common/privdrop.c).
BASE     := -std=c17 -D_GNU_SOURCE -pthread $(WARN) -fstack-protector-strong -g \
            $(addprefix -iquote ,common archiver journal search api retention-policies cli build)
CFLAGS_REL  := $(BASE) -O2 -D_FORTIFY_SOURCE=3
CFLAGS_SAN  := $(BASE) -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
LDLIBS   = $(PKG_LIBS) -pthread

ROOMS    := common archiver journal search api retention-policies
LIB_SRC  := $(sort $(foreach d,$(ROOMS),$(wildcard $(d)/*.c))) build/schema_sql.c
CLI_SRC  := $(sort $(wildcard cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
SCHEMA   := $(sort $(wildcard schema/*.sql))

REL_OBJ  := $(patsubst %.c,build/rel/%.o,$(LIB_SRC) $(CLI_SRC))
SAN_OBJ  := $(patsubst %.c,build/san/%.o,$(LIB_SRC) $(CLI_SRC))
UNIT_OBJ := $(patsubst %.c,build/san/%.o,$(LIB_SRC) $(UNIT_SRC))

all: bin/vellum

bin/vellum: $(REL_OBJ)
	@mkdir -p bin
	$(CC) $(CFLAGS_REL) -o $@ $^ $(LDLIBS)

bin/vellum-san: $(SAN_OBJ)
	@mkdir -p bin
	$(CC) $(CFLAGS_SAN) -o $@ $^ $(LDLIBS) -lcunit

bin/unit-tests: $(UNIT_OBJ)
	@mkdir -p bin
	$(CC) $(CFLAGS_SAN) -o $@ $^ $(LDLIBS) -lcunit

build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

# The migrations are compiled into the binary, so an installed vellum needs no schema/ folder.
build/schema_sql.c: $(SCHEMA) deploy/embed.sh
	@mkdir -p build
	sh deploy/embed.sh $(SCHEMA) > $@.tmp && mv $@.tmp $@

deps:
	@sh deploy/deps.sh

run: deps
	$(MAKE) bin/vellum
	bin/vellum init
	bin/vellum serve

test: deps
	$(MAKE) bin/vellum bin/vellum-san bin/unit-tests
	bin/unit-tests
	sh tests/it/run.sh

# Three tables: the durable store against its in-process ceiling (bench/run.sh), SMTP/LMTP
# ingest beside smtp-sink and Dovecot LMTP (bench/ingest.sh), and indexing with DOCX and PDF
# attachments beside none and pdftotext alone (bench/attach.sh).
bench: deps
	$(MAKE) bin/vellum
	sh bench/run.sh
	sh bench/ingest.sh
	sh bench/attach.sh

bench-search: deps
	$(MAKE) bin/vellum
	sh bench/search.sh

bench-holds: deps
	$(MAKE) bin/vellum
	sh bench/holds.sh

bench-export: deps
	$(MAKE) bin/vellum
	sh bench/export.sh

bench-attach: deps
	$(MAKE) bin/vellum
	sh bench/attach.sh

# bench/api.sh loads its own archive (API_BENCH_MESSAGES, default 1,000,000) unless given a
# data folder: `sh bench/api.sh DATA`.
bench-api: deps
	$(MAKE) bin/vellum
	sh bench/api.sh

fmt:
	clang-format -i $(LIB_SRC:build/schema_sql.c=) $(CLI_SRC) $(UNIT_SRC) $(wildcard */*.h)

clean:
	rm -rf build bin

.PHONY: all deps run test bench bench-search bench-holds bench-export bench-attach bench-api fmt clean

-include $(shell find build -name '*.d' 2>/dev/null)
