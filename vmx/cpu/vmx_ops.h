/*
 * The VMX instructions (SDM vol. 3 ch. 31), one function each: vmx/cpu/vmx_ops_hw.c on the machine
 * (VMREAD and VMWRITE inline below: they are most of the VM-exit path), tests/unit/fake_vmcs.c
 * on the host (HV_HOST_TEST). Each returns a vmx_status from RFLAGS (§31.2 conventions).
 */
#pragma once
#include <stdint.h>

enum vmx_status {
    VMX_OK = 0,
    VMX_FAIL_INVALID = 1, /* CF=1: no current VMCS / bad pointer */
    VMX_FAIL_VALID = 2,   /* ZF=1: error number in VM_INSTRUCTION_ERROR */
};

enum vmx_status vmx_on(uint64_t vmxon_region_pa);
enum vmx_status vmx_off(void);
enum vmx_status vmx_clear(uint64_t vmcs_pa);
enum vmx_status vmx_ptrld(uint64_t vmcs_pa);
#ifdef HV_HOST_TEST
enum vmx_status vmx_read(uint64_t field, uint64_t *value);
enum vmx_status vmx_write(uint64_t field, uint64_t value);
#else
static inline enum vmx_status vmx_status_from_flags(_Bool cf, _Bool zf)
{
    return cf ? VMX_FAIL_INVALID : zf ? VMX_FAIL_VALID : VMX_OK;
}

static inline enum vmx_status vmx_read(uint64_t field, uint64_t *value)
{
    _Bool cf, zf;
    __asm__ volatile("vmread %[field], %[value]"
                     : [value] "=rm"(*value), "=@ccc"(cf), "=@ccz"(zf)
                     : [field] "r"(field));
    return vmx_status_from_flags(cf, zf);
}

static inline enum vmx_status vmx_write(uint64_t field, uint64_t value)
{
    _Bool cf, zf;
    __asm__ volatile("vmwrite %[value], %[field]"
                     : "=@ccc"(cf), "=@ccz"(zf)
                     : [field] "r"(field), [value] "rm"(value)
                     : "memory");
    return vmx_status_from_flags(cf, zf);
}
#endif
enum vmx_status vmx_invept(uint64_t type, uint64_t eptp);
enum vmx_status vmx_invvpid(uint64_t type, uint16_t vpid, uint64_t gla);
