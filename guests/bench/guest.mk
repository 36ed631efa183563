# bench and spin: the C guests of make bench (tools/bench). bench times VM-exit round trips
# from inside a guest (its timed code is linked at 4 MiB by bench.ld); spin is the CPU-bound
# guest of the scheduling-overhead figure.
GUEST_BINS += $(GUEST_DIR)/bench.elf $(GUEST_DIR)/spin.elf
BENCH_LD64 := $(filter-out -T guests/lib/guest.ld,$(GUEST_LD64)) -T guests/bench/bench.ld

$(GUEST_DIR)/bench.elf: $(GUEST_DIR)/bench/bench.o $(GUEST_LIB_OBJ) guests/bench/bench.ld
	$(LD) $(BENCH_LD64) -o $@ $(GUEST_LIB_OBJ) $(GUEST_DIR)/bench/bench.o

$(GUEST_DIR)/spin.elf: $(GUEST_DIR)/bench/spin.o $(GUEST_LIB_OBJ) guests/lib/guest.ld
	$(LD) $(GUEST_LD64) -o $@ $(GUEST_LIB_OBJ) $(GUEST_DIR)/bench/spin.o

# pcbench: the bench guest on hv's virtual PC (local-APIC EOI, TSC-deadline interrupt). hv gives
# a local APIC only to a bzImage module, so it is a flat NASM binary in bzImage format.
GUEST_BINS += $(GUEST_DIR)/pcbench.bzimage

$(GUEST_DIR)/pcbench.bzimage: guests/bench/pcbench.asm guests/include/guest.inc $(ABI_INC) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NASM) -f bin -Iguests/include/ -I$(BUILD)/abi/ $< -o $@
