/*
 * Width-typed VMCS field access on the current VMCS. A failed VMREAD/VMWRITE is remembered
 * (the first one since vmcs_error_clear) with its field and VM-instruction error, so setup code
 * can write a batch of fields and check once: vmcs_error_take() names what failed.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vmx/cpu/vmcs_fields.h"
#include "vmx/cpu/vmx_ops.h"

/* The first failed VMREAD/VMWRITE since vmcs_error_clear, per CPU (struct vmx_cpu): each CPU
   accesses its own current VMCS. */
struct vmcs_error_record {
    bool failed;
    bool write;
    uint32_t field;
    enum vmx_status status;
    uint32_t error; /* VM-instruction error number, for VMfailValid */
};

/* Records the first failed access (out of line: the inline accessors stay small). Returns 0,
   the value a failed read yields. */
uint64_t vmcs_access_failed(bool write, enum vmcs_field f, enum vmx_status st);

static inline uint64_t vmcs_read_field(enum vmcs_field f)
{
    uint64_t v = 0;
    enum vmx_status st = vmx_read(f, &v);
    return __builtin_expect(st != VMX_OK, 0) ? vmcs_access_failed(false, f, st) : v;
}

static inline void vmcs_write_field(enum vmcs_field f, uint64_t v)
{
    enum vmx_status st = vmx_write(f, v);
    if (__builtin_expect(st != VMX_OK, 0))
        vmcs_access_failed(true, f, st);
}

static inline uint16_t vmcs_read16(enum vmcs_field f)
{
    return (uint16_t)vmcs_read_field(f);
}

static inline uint32_t vmcs_read32(enum vmcs_field f)
{
    return (uint32_t)vmcs_read_field(f);
}

static inline uint64_t vmcs_read64(enum vmcs_field f)
{
    return vmcs_read_field(f);
}

static inline uint64_t vmcs_readnat(enum vmcs_field f)
{
    return vmcs_read_field(f);
}

static inline void vmcs_write16(enum vmcs_field f, uint16_t v)
{
    vmcs_write_field(f, v);
}

static inline void vmcs_write32(enum vmcs_field f, uint32_t v)
{
    vmcs_write_field(f, v);
}

static inline void vmcs_write64(enum vmcs_field f, uint64_t v)
{
    vmcs_write_field(f, v);
}

static inline void vmcs_writenat(enum vmcs_field f, uint64_t v)
{
    vmcs_write_field(f, v);
}

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
