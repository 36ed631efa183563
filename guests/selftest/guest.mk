# selftest: tests every exit hv handles from inside a guest (C, ELF64).
SELFTEST_SRC := $(wildcard guests/selftest/*.c)
SELFTEST_ASM := $(wildcard guests/selftest/*.asm)
SELFTEST_OBJ := $(SELFTEST_SRC:guests/%.c=$(GUEST_DIR)/%.o) $(SELFTEST_ASM:guests/%.asm=$(GUEST_DIR)/%.o64)
GUEST_BINS += $(GUEST_DIR)/selftest.elf

$(GUEST_DIR)/selftest/%.o64: guests/selftest/%.asm | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -Iguests/include/ $< -o $@

$(GUEST_DIR)/selftest.elf: $(SELFTEST_OBJ) $(GUEST_LIB_OBJ) guests/lib/guest.ld
	$(LD) $(GUEST_LD64) -o $@ $(GUEST_LIB_OBJ) $(SELFTEST_OBJ)
