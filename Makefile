# quorum — build, test, run. `make run` reviews the bundled example; `make test` runs every test.
# Libraries come from Debian packages (pkg-config); grammars from npm, pinned by grammars/package-lock.json.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter
PKGS    := libuv libcurl jansson tree-sitter sqlite3
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# Libraries are checked with dpkg, tools by their command (node may come from elsewhere).
DEB_LIBS  := libuv1-dev libcurl4-openssl-dev libjansson-dev libtree-sitter-dev libsqlite3-dev \
             ca-certificates
DEB_TOOLS := pkg-config:pkg-config npm:npm node:nodejs python3:python3 git:git \
             cppcheck:cppcheck shellcheck:shellcheck pyflakes3:pyflakes3
# What only the tests need: real editors.
TEST_LIBS  := elpa-eglot libclang-rt-14-dev
TEST_TOOLS := nvim:neovim emacs:emacs-nox clang:clang pre-commit:pre-commit

GRAMMAR_DIR := grammars/node_modules
# language name : source folder inside the npm package
GRAMMARS := bash:tree-sitter-bash/src c:tree-sitter-c/src cpp:tree-sitter-cpp/src \
            go:tree-sitter-go/src java:tree-sitter-java/src javascript:tree-sitter-javascript/src \
            python:tree-sitter-python/src ruby:tree-sitter-ruby/src rust:tree-sitter-rust/src \
            typescript:tree-sitter-typescript/typescript/src tsx:tree-sitter-typescript/tsx/src
GRAMMAR_STAMP := $(GRAMMAR_DIR)/.quorum-stamp
VSCODE        := clients/vscode
VSCODE_STAMP  := $(VSCODE)/node_modules/.quorum-stamp
VALIDATORS       := tests/validators
VALIDATORS_STAMP := $(VALIDATORS)/node_modules/.quorum-stamp
GRAMMAR_LIB   := build/grammars/libgrammars.a

SERVER_SRC := $(filter-out server/lsp/main.c,$(wildcard server/*.c server/*/*.c))
SERVER_ASM := $(wildcard server/*/*.S)
CLI_SRC    := $(wildcard clients/cli/*.c)
UNIT_SRC   := $(wildcard tests/unit/*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst tests/fuzz/fuzz_%.c,build/fuzz/%,$(FUZZ_SRC))

.PHONY: all deps test-deps vscode-deps vsix torture soak valgrind grammars run test unit e2e bench eval fuzz fuzzers clean distclean

all: bin/quorum-ls bin/quorum

# --- dependencies ---------------------------------------------------------------------------
# A fast no-op when everything is present; installs what is missing with apt-get as root.
deps: build/.deps-ok
test-deps: build/.test-deps-ok
build/.deps-ok: Makefile
	@$(call install,$(DEB_LIBS),$(DEB_TOOLS))
	@mkdir -p build && touch $@
build/.test-deps-ok: Makefile build/.deps-ok
	@$(call install,$(TEST_LIBS),$(TEST_TOOLS))
	@touch $@

# $(call install,PACKAGES,COMMAND:PACKAGE…): apt-get installs whatever is missing.
define install
missing=""; \
for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
for t in $(2); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ]; then \
    echo "deps: installing$$missing"; \
    (apt-get install -y -q --no-install-recommends $$missing || \
     (apt-get update -q && apt-get install -y -q --no-install-recommends $$missing)) >build-deps.log 2>&1 \
     || { cat build-deps.log; exit 1; }; rm -f build-deps.log; \
  else echo "deps: missing$$missing — run: sudo apt-get install -y$$missing"; exit 1; fi; \
fi
endef

grammars: $(GRAMMAR_LIB)
$(GRAMMAR_STAMP): grammars/package.json grammars/package-lock.json | deps
	cd grammars && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

# Each grammar's parser.c (+ scanner.c) becomes one object; symbols are tree_sitter_<lang>.
build/grammars/%.o: $(GRAMMAR_STAMP)
	@mkdir -p $(dir $@)
	@spec='$(filter $(basename $(notdir $@)):%,$(GRAMMARS))'; dir=$(GRAMMAR_DIR)/$${spec#*:}; \
	set -e; objs="$$dir/parser.c"; [ -f $$dir/scanner.c ] && objs="$$objs $$dir/scanner.c"; \
	for f in $$objs; do $(CC) -O1 -g0 -w -std=c11 -I$$dir -c $$f -o $@.$$(basename $$f .c).o; done; \
	ld -r -o $@ $@.*.o; rm -f $@.*.o
$(GRAMMAR_LIB): $(foreach g,$(GRAMMARS),build/grammars/$(firstword $(subst :, ,$(g))).o)
	rm -f $@ && ar rcs $@ $^

# --- the two builds: release (bin/) and sanitized test build (build/asan/) -------------------
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

define objs
$(patsubst %.c,build/$(1)/%.o,$(2)) $(patsubst %.S,build/$(1)/%.o,$(SERVER_ASM))
endef

build/rel/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -Iserver -MMD -MP -c $< -o $@
build/asan/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) -O1 -g $(SAN) $(WARN) -Werror $(PKG_CFLAGS) -Iserver -MMD -MP -c $< -o $@
build/rel/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) -Iserver -c $< -o $@
build/asan/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) -Iserver -c $< -o $@

# Strategy prompts, the rule pack and the presets are embedded with .incbin; rebuild on change.
$(patsubst %.S,build/rel/%.o,$(SERVER_ASM)) $(patsubst %.S,build/asan/%.o,$(SERVER_ASM)): \
  $(wildcard server/review/strategies/*.md server/local/rules/*/*.scm examples/configs/*.json)

build/rel/libquorum.a: $(call objs,rel,$(SERVER_SRC))
	rm -f $@ && ar rcs $@ $^
build/asan/libquorum.a: $(call objs,asan,$(SERVER_SRC))
	rm -f $@ && ar rcs $@ $^

bin/quorum-ls: build/rel/server/lsp/main.o build/rel/libquorum.a $(GRAMMAR_LIB)
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)
bin/quorum: $(patsubst %.c,build/rel/%.o,$(CLI_SRC)) build/rel/libquorum.a $(GRAMMAR_LIB)
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# The server bundled in the .vsix runs on other distributions: libuv, jansson, tree-sitter and
# SQLite linked statically (Debian's -dev packages ship the .a files); only glibc and libcurl
# (with the TLS stack the system keeps patched) stay dynamic. tests/e2e/test_vscode_client checks.
STATIC_LIBS := -l:libuv_a.a -l:libjansson.a -l:libtree-sitter.a -l:libsqlite3.a
bin/quorum-ls-bundled: build/rel/server/lsp/main.o build/rel/libquorum.a $(GRAMMAR_LIB)
	@mkdir -p bin
	$(CC) $(CFLAGS) -Wl,--as-needed -o $@ $^ $(STATIC_LIBS) $(shell pkg-config --libs libcurl) -lpthread -ldl -lm

build/asan/bin/quorum-ls: build/asan/server/lsp/main.o build/asan/libquorum.a $(GRAMMAR_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)
build/asan/bin/quorum: $(patsubst %.c,build/asan/%.o,$(CLI_SRC)) build/asan/libquorum.a $(GRAMMAR_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)
build/asan/bin/unit-tests: $(patsubst %.c,build/asan/%.o,$(UNIT_SRC)) build/asan/libquorum.a $(GRAMMAR_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)
# Allocation-failure torture: a full in-process review with the Nth allocation failing, every N.
build/asan/bin/torture: build/asan/tests/torture/torture.o build/asan/libquorum.a $(GRAMMAR_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)
# The same through the real loop: libuv, libcurl and jansson allocations failed too, against
# the stand-in model server (tests/e2e/test_torture_loop samples it in make test).
build/asan/bin/torture_loop: build/asan/tests/torture/torture_loop.o build/asan/libquorum.a $(GRAMMAR_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)
# The fuzz harnesses, linked with a replay driver so `make test` runs their saved corpus.
build/asan/bin/fuzz-%: build/asan/tests/fuzz/fuzz_%.o build/asan/tests/fuzz/replay.o build/asan/libquorum.a $(GRAMMAR_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

TEST_BINS := build/asan/bin/quorum-ls build/asan/bin/quorum build/asan/bin/unit-tests \
             build/asan/bin/torture build/asan/bin/torture_loop \
             $(patsubst tests/fuzz/fuzz_%.c,build/asan/bin/fuzz-%,$(FUZZ_SRC))

# --- the README's commands -------------------------------------------------------------------
# The main job: review the bundled example change (examples/demo) with the rule pack and the
# installed analyzers — no network, no keys, no cost. Add models with a config (README).
run: all
	@./bin/quorum review --config examples/configs/local.json --diff examples/demo/change.patch \
	  --root examples/demo/repo --format text; rc=$$?; [ $$rc -le 1 ] || exit $$rc

# bin/quorum-ls too: the memory bound of hostile input is measured on the release build
# (ASan's quarantine keeps freed buffers and would measure the sanitizer, not quorum).
test: test-deps $(TEST_BINS) $(FUZZ_BINS) bin/quorum-ls bin/quorum-ls-bundled $(VSCODE_STAMP) $(VALIDATORS_STAMP)
	@tests/run.sh

# The judge on every labelled case under ../shared/eval (or $$QR_EVAL_DIR): F1, precision,
# recall and exact votes per case and in total, misses and extras named. Without the cases it
# says so and succeeds. make test requires the cases in tests/data/judge/eval_perfect to stay
# perfect (tests/e2e/test_judge_dev).
eval: test-deps bin/quorum
	@QUORUM_BIN=$(CURDIR)/bin tests/e2e/judge_eval.py

# Robustness runs beyond `make test`: every allocation failed in turn (make test runs it too),
# 1,000 reviews through one server (RSS and fds must stay flat), memcheck over e2e reviews.
torture: build/asan/bin/torture build/asan/bin/torture_loop
	build/asan/bin/torture
	tests/e2e/test_torture_loop 1
soak: all
	tests/soak/run
valgrind: all
	tests/valgrind/run

# Benchmarks against the stand-in model server: tables, bench/results.json, bench/*.svg (~2 min).
bench: all build/rel/libquorum.a $(GRAMMAR_LIB)
	python3 bench/run.py

# --- third-party validators the tests run outputs through (tests/validators, pinned) ---------
# SARIF multitool and reviewdog's rdformat validator. Without the npm registry the tests that
# need them say so and skip; everything else still runs. Scripts stay off: the one the
# multitool's Linux package runs is the chmod below.
$(VALIDATORS_STAMP): $(VALIDATORS)/package.json $(VALIDATORS)/package-lock.json | deps
	@cd $(VALIDATORS) && if npm ci --ignore-scripts --no-audit --no-fund --loglevel=error; then \
	  chmod u+x node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool; \
	else mkdir -p node_modules; echo "validators: npm ci failed (registry unreachable?)"; fi
	@touch $@

# --- the VS Code extension (clients/vscode) --------------------------------------------------
vscode-deps: $(VSCODE_STAMP)
$(VSCODE_STAMP): $(VSCODE)/package.json $(VSCODE)/package-lock.json | deps
	cd $(VSCODE) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@
# The extension with the self-contained server bundled (clients/vscode/bin/ is git-ignored);
# writes clients/vscode/quorum-linux-x64-<version>.vsix (the binary is x86-64 Linux only).
vsix: bin/quorum-ls-bundled $(VSCODE_STAMP)
	@mkdir -p $(VSCODE)/bin && cp bin/quorum-ls-bundled $(VSCODE)/bin/quorum-ls && strip $(VSCODE)/bin/quorum-ls
	cd $(VSCODE) && npm run --silent vsix

# libFuzzer builds (clang): the engine compiled once with fuzzer coverage, one binary a harness.
# `make fuzz` runs each for FUZZ_SECONDS; new corpus entries land in tests/fuzz/corpus/<name>/.
# make test builds them too and runs each for a few seconds (tests/e2e/test_fuzz).
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  := -O1 -g -fsanitize=fuzzer-no-link,address,undefined $(WARN)
build/fuzz/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) -Iserver -MMD -MP -c $< -o $@
build/fuzz/obj/%.o: %.S
	@mkdir -p $(dir $@)
	clang -Iserver -c $< -o $@
$(patsubst %.S,build/fuzz/obj/%.o,$(SERVER_ASM)): \
  $(wildcard server/review/strategies/*.md server/local/rules/*/*.scm examples/configs/*.json)
build/fuzz/libquorum.a: $(patsubst %.c,build/fuzz/obj/%.o,$(SERVER_SRC)) $(patsubst %.S,build/fuzz/obj/%.o,$(SERVER_ASM))
	rm -f $@ && ar rcs $@ $^
build/fuzz/%: build/fuzz/obj/tests/fuzz/fuzz_%.o build/fuzz/libquorum.a $(GRAMMAR_LIB)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)
fuzzers: $(FUZZ_BINS)
fuzz: $(FUZZ_BINS)
	@for b in $(FUZZ_BINS); do n=$${b##*/}; mkdir -p tests/fuzz/corpus/$$n; \
	  $$b -max_total_time=$(FUZZ_SECONDS) tests/fuzz/corpus/$$n || exit 1; done

clean:
	rm -rf build bin clients/vscode/out clients/vscode/bin clients/vscode/*.vsix
distclean: clean
	rm -rf $(GRAMMAR_DIR) clients/vscode/node_modules $(VALIDATORS)/node_modules

-include $(shell find build -name '*.d' 2>/dev/null)
