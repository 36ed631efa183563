# Guests shipped with hv, built into build/guests/ (the ISO carries them as /boot/guests/...).
#   guests/NAME.asm          -> build/guests/NAME.elf          (NASM, ELF32 linked at 1 MiB)
#   guests/hostile/NAME.asm  -> build/guests/hostile/NAME.elf  (same)
#   guests/*/guest.mk        -> bigger guests with their own rules; each appends to GUEST_BINS
GUEST_DIR   := $(BUILD)/guests
GUEST_LD32  := -m elf_i386 -nostdlib -static -z noexecstack -Ttext=0x100000 -e _start
GUEST_ASM   := $(wildcard guests/*.asm guests/hostile/*.asm)
GUEST_BINS  := $(GUEST_ASM:guests/%.asm=$(GUEST_DIR)/%.elf)

$(GUEST_DIR)/%.o: guests/%.asm guests/include/guest.inc | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 -I. -Iguests/include/ $< -o $@

$(GUEST_DIR)/%.elf: $(GUEST_DIR)/%.o
	$(LD) $(GUEST_LD32) -o $@ $<

-include $(wildcard guests/*/guest.mk)

guests: $(GUEST_BINS)
