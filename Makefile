# The booking endpoints: a static library, five programs, their tests.
#
#   make            build the library and every program into cgi-bin/
#   make run        bring the whole stack up on 127.0.0.1:$(PORT)
#   make stop       stop it
#   make test       install what is missing, build, run every test
#   make test-cluster  the programs on a three-node Galera cluster on the
#                   loopback, two app hosts behind one nginx (tests/cluster/)
#   make lint       clang-format check and cppcheck
#   make bench      benchmarks (wrk through nginx)
#   make migrate    apply sql/ to the database of DATABASE_URL (or the local one)
#   make install    programs, sql/, nginx includes, systemd units under
#                   $(DESTDIR)$(PREFIX) (README.md, "Deploying on Debian")
#
# BUILD=asan builds everything with AddressSanitizer and
# UndefinedBehaviorSanitizer into build/asan/ (programs in build/asan/cgi-bin).

BUILD   ?= release
PORT    ?= 8080
CC      ?= cc
PKGS    := libcurl json-c libmariadb libcrypto

WARN    := -Wall -Wextra -Werror -Wpedantic -Wshadow -Wformat=2 \
           -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
           -Wvla -Wpointer-arith -Wcast-qual -Wundef -Wwrite-strings \
           -Wnull-dereference -Wimplicit-fallthrough
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARN) -Isrc \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    := -lfcgi $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

ifeq ($(BUILD),asan)
OUT     := build/asan
BIN     := $(OUT)/cgi-bin
CFLAGS  := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer \
           -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS := -fsanitize=address,undefined
else
OUT     := build/release
BIN     := cgi-bin
CFLAGS  := $(BASE_CFLAGS) -O2 -g -D_FORTIFY_SOURCE=2 \
           -fstack-protector-strong -fPIE
LDFLAGS := -pie -Wl,-z,relro,-z,now
endif

# The library's layers, from the ground up (docs/ARCHITECTURE.md).
LAYERS    := core io upstream school web
LIB_SRC   := $(sort $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c)))
LIB_HDR   := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.h))
LIB_OBJ   := $(LIB_SRC:src/%.c=$(OUT)/obj/%.o)
LIB       := $(OUT)/libbooking.a
PROGRAMS  := calendar_get calendar_post oauth_callback payment_hook reconcile migrate \
             doctor
PROG_BIN  := $(PROGRAMS:%=$(BIN)/%)
TEST_SRC  := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(OUT)/tests/%)

# The sanitizer build also has a program that leaks on purpose: the test
# that proves a leak in a program is caught (tests/leak/).
ifeq ($(BUILD),asan)
EXTRA_BIN := $(OUT)/tests/leaky
endif

.PHONY: all deps run stop test test-cluster unit e2e asan migrate lint fuzz bench clean install
.SECONDARY:
all: $(PROG_BIN) $(TEST_BIN) $(EXTRA_BIN)

# V=1 shows the commands.
Q := $(if $(V),,@)

$(OUT)/obj/%.o: src/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(OUT)/%.o: src/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BIN)/%: $(OUT)/%.o $(LIB) | $(BIN)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(OUT)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIB) | $(OUT)/tests
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(OUT)/tests/leaky: tests/leak/leaky.c $(LIB) | $(OUT)/tests
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(OUT)/tests $(BIN):
	mkdir -p $@

deps:
	@scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@PORT=$(PORT) scripts/stack.sh start

stop:
	@scripts/stack.sh stop

migrate:
	@scripts/stack.sh migrate

# Where make install puts things (scripts/install.sh says what goes where).
PREFIX      ?= /opt/booking
SYSCONFDIR  ?= /etc/booking
UNITDIR     ?= /etc/systemd/system
SYSUSERSDIR ?= /etc/sysusers.d
NGINX_GROUP ?= www-data

install: $(PROG_BIN)
	@DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" \
	  UNITDIR="$(UNITDIR)" SYSUSERSDIR="$(SYSUSERSDIR)" \
	  NGINX_GROUP="$(NGINX_GROUP)" BIN_DIR="$(BIN)" \
	  PROGRAMS="$(PROGRAMS)" scripts/install.sh

# The whole suite: unit tests, end-to-end tests, then both again under
# AddressSanitizer + UndefinedBehaviorSanitizer, and the fuzz targets
# for a short while. scripts/test.sh prints the closing count.
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=asan all
	@scripts/test.sh

unit: all
	@scripts/test.sh unit

e2e: all
	@scripts/test.sh e2e

test-cluster: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/cluster/run.py

lint:
	@scripts/lint.sh

fuzz:
	@scripts/fuzz.sh build

bench: deps all
	@scripts/bench.sh

clean:
	rm -rf build cgi-bin/calendar_get cgi-bin/calendar_post \
	       cgi-bin/oauth_callback cgi-bin/payment_hook cgi-bin/reconcile \
	       cgi-bin/migrate cgi-bin/doctor
