# Guests shipped with hv, built as multiboot2 modules into build/guests/.
GUEST_BINS :=
guests: $(GUEST_BINS)
