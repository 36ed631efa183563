#include "vmx/cpu/vmx_ops.h"

/* CF and ZF after a VMX instruction give its outcome (SDM vol. 3 §31.2). */
#define VMX_STATUS_FROM_FLAGS(cf, zf) ((cf) ? VMX_FAIL_INVALID : (zf) ? VMX_FAIL_VALID : VMX_OK)

enum vmx_status vmx_on(uint64_t pa)
{
    uint8_t cf, zf;
    __asm__ volatile("vmxon %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(pa) : "cc", "memory");
    return VMX_STATUS_FROM_FLAGS(cf, zf);
}

enum vmx_status vmx_off(void)
{
    uint8_t cf, zf;
    __asm__ volatile("vmxoff; setc %0; setz %1" : "=r"(cf), "=r"(zf) : : "cc", "memory");
    return VMX_STATUS_FROM_FLAGS(cf, zf);
}

enum vmx_status vmx_clear(uint64_t pa)
{
    uint8_t cf, zf;
    __asm__ volatile("vmclear %2; setc %0; setz %1"
                     : "=r"(cf), "=r"(zf)
                     : "m"(pa)
                     : "cc", "memory");
    return VMX_STATUS_FROM_FLAGS(cf, zf);
}

enum vmx_status vmx_ptrld(uint64_t pa)
{
    uint8_t cf, zf;
    __asm__ volatile("vmptrld %2; setc %0; setz %1"
                     : "=r"(cf), "=r"(zf)
                     : "m"(pa)
                     : "cc", "memory");
    return VMX_STATUS_FROM_FLAGS(cf, zf);
}

enum vmx_status vmx_invept(uint64_t type, uint64_t eptp)
{
    struct {
        uint64_t eptp, reserved;
    } desc = {eptp, 0};
    uint8_t cf, zf;
    __asm__ volatile("invept %2, %3; setc %0; setz %1"
                     : "=r"(cf), "=r"(zf)
                     : "m"(desc), "r"(type)
                     : "cc", "memory");
    return VMX_STATUS_FROM_FLAGS(cf, zf);
}

enum vmx_status vmx_invvpid(uint64_t type, uint16_t vpid, uint64_t gla)
{
    struct {
        uint64_t vpid, gla;
    } desc = {vpid, gla};
    uint8_t cf, zf;
    __asm__ volatile("invvpid %2, %3; setc %0; setz %1"
                     : "=r"(cf), "=r"(zf)
                     : "m"(desc), "r"(type)
                     : "cc", "memory");
    return VMX_STATUS_FROM_FLAGS(cf, zf);
}
