# Guests shipped with hv, built into build/guests/ (the ISO carries them as /boot/guests/...).
#   guests/NAME.asm          -> build/guests/NAME.elf          (NASM, ELF32 linked at 1 MiB)
#   guests/hostile/NAME.asm  -> build/guests/hostile/NAME.elf  (same)
#   guests/*/guest.mk        -> bigger guests with their own rules; each appends to GUEST_BINS
GUEST_DIR   := $(BUILD)/guests
GUEST_LD32  := -m elf_i386 -nostdlib -static -z noexecstack -Ttext=0x100000 -e _start
GUEST_ASM   := $(wildcard guests/*.asm guests/hostile/*.asm)
GUEST_BINS  := $(GUEST_ASM:guests/%.asm=$(GUEST_DIR)/%.elf)
#   guests/flat/NAME.asm     -> build/guests/flat/NAME.bin     (NASM flat binary, real mode)
GUEST_FLAT  := $(wildcard guests/flat/*.asm)
GUEST_BINS  += $(GUEST_FLAT:guests/%.asm=$(GUEST_DIR)/%.bin)

$(GUEST_DIR)/flat/%.bin: guests/flat/%.asm | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NASM) -f bin $< -o $@

# The ABI's constants for NASM, generated from the C header (one source: kernel/abi/hv_abi.h).
ABI_INC := $(BUILD)/abi/hv_abi.inc
$(ABI_INC): kernel/abi/hv_abi.h tools/gen-abi-inc
	@mkdir -p $(dir $@)
	tools/gen-abi-inc $< $@

$(GUEST_DIR)/%.o: guests/%.asm guests/include/guest.inc $(ABI_INC) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 -I. -Iguests/include/ -I$(BUILD)/abi/ $< -o $@

$(GUEST_DIR)/%.elf: $(GUEST_DIR)/%.o
	$(LD) $(GUEST_LD32) -o $@ $<

# C guests (ELF64): guests/lib is their runtime (crt0, hardware access, console, g_try) and
# reuses hv's own formatter. A guest folder's guest.mk links its objects with GUEST_LIB_OBJ.
GUEST_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-pie -fno-pic \
                -mno-red-zone -mgeneral-regs-only -mcmodel=small -fno-stack-protector \
                -nostdinc -isystem $(shell $(CC) -print-file-name=include) -I. -MMD -MP
GUEST_LD64   := -m elf_x86_64 -nostdlib -static -z noexecstack --no-warn-rwx-segments \
                -T guests/lib/guest.ld
GUEST_LIB_OBJ := $(GUEST_DIR)/lib/crt0.o $(GUEST_DIR)/lib/guest.o $(GUEST_DIR)/lib/fmt.o \
                 $(GUEST_DIR)/lib/sort.o

$(GUEST_DIR)/lib/crt0.o: guests/lib/crt0.asm | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 $< -o $@

$(GUEST_DIR)/lib/%.o: kernel/lib/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_DIR)/%.o: guests/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

-include $(wildcard guests/*/guest.mk)

guests: $(GUEST_BINS)
