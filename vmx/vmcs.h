/*
 * Width-typed VMCS field access on the current VMCS. A failed VMREAD/VMWRITE is remembered
 * (the first one since vmcs_error_clear) with its field and VM-instruction error, so setup code
 * can write a batch of fields and check once: vmcs_error_take() names what failed.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vmx/vmcs_fields.h"

uint16_t vmcs_read16(enum vmcs_field f);
uint32_t vmcs_read32(enum vmcs_field f);
uint64_t vmcs_read64(enum vmcs_field f);
uint64_t vmcs_readnat(enum vmcs_field f);
void vmcs_write16(enum vmcs_field f, uint16_t v);
void vmcs_write32(enum vmcs_field f, uint32_t v);
void vmcs_write64(enum vmcs_field f, uint64_t v);
void vmcs_writenat(enum vmcs_field f, uint64_t v);

void vmcs_error_clear(void);
/* Returns true and describes the first failed access since the last clear, e.g.
   "VMWRITE GUEST_CS_AR: VM-instruction error 12 (VMREAD/VMWRITE from/to unsupported VMCS
   component)". */
bool vmcs_error_take(char *buf, size_t size);

const char *vmcs_field_name(uint32_t encoding);         /* "GUEST_RIP", or NULL if unknown */
const char *vm_instruction_error_name(uint32_t number); /* SDM vol. 3 §31.4, numbers 1-28 */
/* Reads the current VMCS's VM_INSTRUCTION_ERROR and formats "N (name)". */
void vmcs_describe_instruction_error(char *buf, size_t size);
/* Logs every readable field by name, grouped as in Appendix B (used when an entry fails). */
void vmcs_dump(void);
