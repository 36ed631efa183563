# hv: build, run and test. `make` builds build/hv.elf and build/hv.iso.
# `make run` boots it (tools/hvrun), `make test` runs every test. Set-up is automatic (tools/deps).

BUILD   := build
CC      := gcc
NASM    := nasm
LD      := ld
HOST_CC := gcc

DEPS_STAMP := $(BUILD)/.deps-ok

# ---- hv itself (freestanding, general registers only) ----
KCFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-pie -fno-pic \
           -mno-red-zone -mgeneral-regs-only -mcmodel=small -fno-stack-protector \
           -fno-omit-frame-pointer -fno-strict-aliasing -fno-common -nostdinc \
           -isystem $(shell $(CC) -print-file-name=include) -I. -MMD -MP
KASFLAGS := -f elf64 -g -F dwarf -I.
KLDFLAGS := -nostdlib -static -z max-page-size=0x1000 --no-warn-rwx-segments -z noexecstack -T link.ld

KDIRS   := boot kernel mm vmx drivers
# Every .c and .asm below these folders (sorted: a stable link order).
KCSRC   := $(sort $(shell find $(KDIRS) -name '*.c'))
KASRC   := $(sort $(shell find $(KDIRS) -name '*.asm'))
KOBJ    := $(KASRC:%.asm=$(BUILD)/k/%.o) $(KCSRC:%.c=$(BUILD)/k/%.o)

.PHONY: all deps run iso test unit e2e clean format lint fuzz fuzz-smoke bench guests
all: $(BUILD)/hv.iso guests

deps: $(DEPS_STAMP)
$(DEPS_STAMP): tools/deps
	@tools/deps
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/k/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC $<"; $(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/k/%.o: %.asm | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NASM) $(KASFLAGS) -MD $(@:.o=.d) $< -o $@

$(BUILD)/hv.elf: $(KOBJ) link.ld
	$(LD) $(KLDFLAGS) -o $@ $(KOBJ)

include guests/guests.mk

$(BUILD)/hv.iso: $(BUILD)/hv.elf grub.cfg $(GUEST_BINS)
	@rm -rf $(BUILD)/iso && mkdir -p $(BUILD)/iso/boot/grub $(BUILD)/iso/boot/guests
	cp $(BUILD)/hv.elf $(BUILD)/iso/boot/hv.elf
	cp grub.cfg $(BUILD)/iso/boot/grub/grub.cfg
	cp -r $(GUEST_DIR)/. $(BUILD)/iso/boot/guests/
	find $(BUILD)/iso/boot/guests -type f ! -name '*.elf' ! -name '*.bin' -delete
	grub-mkrescue -o $@ $(BUILD)/iso >$(BUILD)/grub-mkrescue.log 2>&1 || \
	    (cat $(BUILD)/grub-mkrescue.log; exit 1)

run: all
	tools/hvrun

# A bootable hybrid (BIOS + UEFI) ISO with your own guests, for a USB stick or a CD:
#   make iso GUESTS="path[::args] ..." [HV_ARGS="..."] [ISO=file]
# (tools/hvrun --iso-only). The shell splits GUESTS: quote ARGS that hold spaces, e.g.
#   make iso GUESTS="my.elf::'name=mine mem=64M' build/guests/hello.elf"
# Without GUESTS the ISO holds the default guests of grub.cfg.
ISO ?= $(BUILD)/hv-guests.iso
iso: all
	HVRUN_NO_BUILD=1 tools/hvrun --iso-only=$(ISO) $(if $(HV_ARGS),--hv-args="$(HV_ARGS)") $(GUESTS)

# ---- host unit tests (cmocka, with ASan+UBSan) ----
# Every hv C file except the hardware layer (*_hw.c), kmain and the string routines
# builds into a host library; tests/unit/test_*.c link against it and the fakes.
HOST_EXCLUDE := kernel/main.c kernel/lib/string.c $(filter %_hw.c,$(KCSRC))
HOST_SRC  := $(filter-out $(HOST_EXCLUDE),$(KCSRC))
HCFLAGS   := -std=c11 -O1 -g -Wall -Wextra -Werror -I. -DHV_HOST_TEST -fno-omit-frame-pointer \
             -fsanitize=address,undefined -fno-sanitize-recover=all -MMD -MP
HOST_OBJ  := $(HOST_SRC:%.c=$(BUILD)/host/%.o)
FAKE_SRC  := $(wildcard tests/unit/fake_*.c)
FAKE_OBJ  := $(FAKE_SRC:%.c=$(BUILD)/host/%.o)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/host/%)

$(BUILD)/host/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC $<"; $(HOST_CC) $(HCFLAGS) -c $< -o $@

$(BUILD)/host/libhv.a: $(HOST_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/host/libfake.a: $(FAKE_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/host/test_%: $(BUILD)/host/tests/unit/test_%.o $(BUILD)/host/libfake.a $(BUILD)/host/libhv.a
	@echo "  HOSTLD $@"; $(HOST_CC) $(HCFLAGS) -o $@ $< $(BUILD)/host/libfake.a $(BUILD)/host/libhv.a \
	    $(BUILD)/host/libfake.a -lcmocka

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
	    echo "== $$t"; $$t || fail=1; done; \
	exit $$fail

# The Linux guests' kernel and initramfs (tests/e2e/cases_linux.py) come from Debian's registry,
# cached in build/linux/ (tools/fetch-linux).
e2e: all guests
	tools/fetch-linux >/dev/null
	tests/e2e/run

# The order matters for readers of CI logs: the end-to-end summary ("N passed, N failed") is the
# last line. Sub-makes keep the prerequisites in this order even under -j.
test:
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory fuzz-smoke
	$(MAKE) --no-print-directory e2e

# Keep intermediate objects (guest .o files): no "rm ..." after the test summary, faster rebuilds.
.SECONDARY:

# Static analysis (clang-format check, cppcheck, clang-tidy): tools/lint.
lint: $(DEPS_STAMP)
	tools/lint

# make bench: exit path lengths, boot cost, footprint, allocator throughput (tools/bench).
-include tests/bench/bench.mk

# libFuzzer harnesses: tests/fuzz/fuzz.mk defines fuzz (FUZZ_SECONDS each) and fuzz-smoke.
-include tests/fuzz/fuzz.mk

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' -type f -not -path '$(BUILD)/linux/*' 2>/dev/null)
