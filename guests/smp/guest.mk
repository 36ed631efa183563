# The SMP guests (issue 14; tests/e2e/cases_smp.py).
# cpuburn: a CPU-bound hv-ABI guest of fixed work that prints its TSC delta.
GUEST_BINS += $(GUEST_DIR)/cpuburn.elf

$(GUEST_DIR)/cpuburn.elf: $(GUEST_DIR)/smp/cpuburn.o $(GUEST_LIB_OBJ) guests/lib/guest.ld
	$(LD) $(GUEST_LD64) -o $@ $(GUEST_LIB_OBJ) $(GUEST_DIR)/smp/cpuburn.o

# ipitest: the SMP virtual-PC guest (INIT/SIPI, IPIs between vCPUs); a bzImage like pcbench,
# since hv gives a local APIC and vcpus=N only to a bzImage module.
GUEST_BINS += $(GUEST_DIR)/ipitest.bzimage

$(GUEST_DIR)/ipitest.bzimage: guests/smp/ipitest.asm guests/include/guest.inc $(ABI_INC) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NASM) -f bin -Iguests/include/ -I$(BUILD)/abi/ $< -o $@
