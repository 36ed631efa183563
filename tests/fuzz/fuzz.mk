# libFuzzer harnesses for hv's input parsers and decoders (tests/fuzz/fuzz_NAME.c), included by
# the Makefile. Every harness links against all host-buildable hv sources (HOST_SRC, as the unit
# tests do: the linker takes only the objects it needs) plus the unit-test fakes, all built with
# clang's coverage instrumentation, ASan and UBSan into $(FUZZ_DIR).
#
#   make fuzz [FUZZ_SECONDS=60]  every harness for FUZZ_SECONDS from its corpus; -jN runs N at once
#   make fuzz-smoke              every harness for FUZZ_SMOKE_SECONDS (10) from its corpus
#   make fuzz-NAME               one harness (e.g. make fuzz-mb2 FUZZ_SECONDS=600)
#
# Seeds live in tests/fuzz/corpus/NAME/ (committed, read-only to the fuzzer); inputs the fuzzer
# finds go to $(FUZZ_DIR)/NAME/corpus/, and a crash, leak or timeout leaves its input as
# $(FUZZ_DIR)/NAME/crash-*, leak-* or timeout-* (reproduce: $(FUZZ_DIR)/fuzz_NAME FILE).

FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_DIR           := $(BUILD)/fuzz
# A single input taking this long is reported as a hang (-timeout, seconds).
FUZZ_INPUT_TIMEOUT ?= 10

FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
# hv sources are held warning-free by gcc (KCFLAGS, HCFLAGS); clang's extra warnings are shown
# but do not stop the fuzz build (tools/lint's clang-tidy reports them). Harnesses use -Werror.
FUZZ_CFLAGS   := -std=c11 -O1 -g -Wall -Wextra -I. -DHV_HOST_TEST -fno-omit-frame-pointer \
                 -fsanitize=fuzzer-no-link $(FUZZ_SAN) -MMD -MP
FUZZ_LDFLAGS  := -fsanitize=fuzzer $(FUZZ_SAN)
FUZZ_RUNFLAGS := -timeout=$(FUZZ_INPUT_TIMEOUT) -print_final_stats=1

FUZZ_NAMES    := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS     := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_HV_OBJ   := $(HOST_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_FAKE_OBJ := $(FAKE_SRC:%.c=$(FUZZ_DIR)/obj/%.o)

.PHONY: fuzz-build $(FUZZ_NAMES:%=fuzz-%) $(FUZZ_NAMES:%=fuzz-smoke-%)

$(FUZZ_DIR)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC $<"; $(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/obj/tests/fuzz/%.o: tests/fuzz/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC $<"; $(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -c $< -o $@

$(FUZZ_DIR)/libhv.a: $(FUZZ_HV_OBJ)
	@rm -f $@
	@ar rcs $@ $^

# The fakes link as objects, ahead of libhv.a, so that they (not kernel/log.c, vmx/cpu/vmx.c, ...)
# provide panic, logging, the VMCS and the hardware whatever the harness itself references.
$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_FAKE_OBJ) $(FUZZ_DIR)/libhv.a
	@echo "  FUZZLD $@"; $(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $< $(FUZZ_FAKE_OBJ) $(FUZZ_DIR)/libhv.a

fuzz-build: $(FUZZ_BINS)

# $(call fuzz_run,NAME,SECONDS): fuzz from the seeds, keeping new inputs and artefacts per harness.
define fuzz_run
@mkdir -p $(FUZZ_DIR)/$(1)/corpus
@echo "== fuzz_$(1): $(2) s"
@$(FUZZ_DIR)/fuzz_$(1) $(FUZZ_RUNFLAGS) -max_total_time=$(2) \
    -artifact_prefix=$(FUZZ_DIR)/$(1)/ $(FUZZ_DIR)/$(1)/corpus tests/fuzz/corpus/$(1) \
    >$(FUZZ_DIR)/$(1)/log 2>&1; \
 rc=$$?; grep -E '^(#[0-9]+[[:space:]]+DONE|stat::|SUMMARY|==[0-9]+==ERROR|artifact_prefix|Test unit written)' \
    $(FUZZ_DIR)/$(1)/log | sed 's/^/  /'; \
 if [ $$rc -ne 0 ]; then tail -n 60 $(FUZZ_DIR)/$(1)/log; \
    echo "fuzz_$(1): FAILED (exit $$rc); full log $(FUZZ_DIR)/$(1)/log, input kept above"; fi; \
 exit $$rc
endef

$(FUZZ_NAMES:%=fuzz-%): fuzz-%: $(FUZZ_DIR)/fuzz_%
	$(call fuzz_run,$*,$(FUZZ_SECONDS))

$(FUZZ_NAMES:%=fuzz-smoke-%): fuzz-smoke-%: $(FUZZ_DIR)/fuzz_%
	$(call fuzz_run,$*,$(FUZZ_SMOKE_SECONDS))

fuzz: $(FUZZ_NAMES:%=fuzz-%)
fuzz-smoke: $(FUZZ_NAMES:%=fuzz-smoke-%)

