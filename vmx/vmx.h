/* VMX detection, enabling (VMXON) and per-CPU VMX state. */
#pragma once
#include <stddef.h>

/* Returns 0 when the CPU can run hv's guests, else -1 with `why` set ("VMX not supported"). */
int vmx_check_support(char *why, size_t size);
