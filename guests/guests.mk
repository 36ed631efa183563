# Guests shipped with hv, built into build/guests/ (the ISO carries them as /boot/guests/NAME).
GUEST_DIR  := $(BUILD)/guests
GUEST_NAMES := hello
GUEST_BINS := $(GUEST_NAMES:%=$(GUEST_DIR)/%.elf)
GUEST_LD32 := -m elf_i386 -nostdlib -static -z noexecstack -Ttext=0x100000 -e _start

$(GUEST_DIR)/%.o: guests/%.asm | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 -I. $< -o $@

$(GUEST_DIR)/%.elf: $(GUEST_DIR)/%.o
	$(LD) $(GUEST_LD32) -o $@ $<

guests: $(GUEST_BINS)
