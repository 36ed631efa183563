#include "vmx/cpu/vmcs_setup.h"
#include "kernel/lib/hw.h"
#include "kernel/lib/msr.h"
#include "kernel/percpu.h"
#include "kernel/lib/x86.h"
#include "mm/layout.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/entry.h"
#include "vmx/cpu/vmx.h"
#include "vmx/cpu/vmx_arch.h"

#define PAT_POWER_ON      0x0007040600070406ull /* SDM vol. 3 §13.12.4 */
#define DR7_POWER_ON      0x400ull
#define VMCS_LINK_NONE    0xFFFFFFFFFFFFFFFFull
#define REAL_SEG_LIMIT    0xFFFFull
#define FLAT_LIMIT        0xFFFFFFFFull
#define TR_LIMIT          0xFFull
#define REAL_CS_BASE_MASK 0xFFFF0000ull /* CS.base takes the entry's upper bits */
#define PROT_CS_SELECTOR  0x08
#define PROT_DS_SELECTOR  0x10

#define AR_CODE          (SEG_TYPE_CODE_RX_ACCESSED | SEG_AR_S | SEG_AR_P)
#define AR_DATA          (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P)
#define AR_TR            (SEG_TYPE_TSS64_BUSY | SEG_AR_P)
#define AR_LDTR_UNUSABLE SEG_AR_UNUSABLE

extern char __hv_start[];

/* The CR0 bits a guest with unrestricted guest may clear although FIXED0 says 1 (§26.8). */
#define CR0_UG_FREE (CR0_PE | CR0_PG)

uint64_t vmcs_guest_cr0(uint64_t visible)
{
    return (visible | (vmx_caps.cr0_fixed0 & ~CR0_UG_FREE)) & vmx_caps.cr0_fixed1;
}

uint64_t vmcs_guest_cr4(uint64_t visible)
{
    return (visible | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;
}

void vmcs_setup_controls(const struct vmcs_vm_resources *r)
{
    vmcs_write32(VMCS_PIN_BASED_CTLS, vmx_config.ctl[VMX_CTL_PIN]);
    vmcs_write32(VMCS_PROC_BASED_CTLS, vmx_config.ctl[VMX_CTL_PROC]);
    vmcs_write32(VMCS_PROC_BASED_CTLS2, vmx_config.ctl[VMX_CTL_PROC2]);
    vmcs_write32(VMCS_EXIT_CTLS, vmx_config.ctl[VMX_CTL_EXIT]);
    vmcs_write32(VMCS_ENTRY_CTLS, vmx_config.ctl[VMX_CTL_ENTRY]);
    vmcs_write32(VMCS_EXCEPTION_BITMAP, 1u << EXC_MC);
    vmcs_write32(VMCS_PF_ERROR_CODE_MASK, 0);
    vmcs_write32(VMCS_PF_ERROR_CODE_MATCH, 0);
    vmcs_write32(VMCS_CR3_TARGET_COUNT, 0);
    vmcs_write32(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write32(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write32(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write32(VMCS_ENTRY_INTR_INFO, 0);
    vmcs_write64(VMCS_IO_BITMAP_A, r->io_bitmap[0]);
    vmcs_write64(VMCS_IO_BITMAP_B, r->io_bitmap[1]);
    vmcs_write64(VMCS_MSR_BITMAP, r->msr_bitmap);
    vmcs_write64(VMCS_EPT_POINTER, r->ept_pointer);
    vmcs_write16(VMCS_VPID, r->vpid);
    vmcs_write64(VMCS_LINK_POINTER, VMCS_LINK_NONE);
    /* The guest owns every CR0/CR4 bit except those VMX operation fixes and CR4.VMXE: writes to
       those exit (vmx/exit/exit_cr.c), reads come from the shadows (§25.6.6). */
    uint64_t cr0_owned = (vmx_caps.cr0_fixed0 | ~vmx_caps.cr0_fixed1) & ~CR0_UG_FREE;
    cr0_owned |= CR0_CD | CR0_NW; /* cache-disable games stay virtual */
    vmcs_writenat(VMCS_CR0_GUEST_HOST_MASK, cr0_owned);
    vmcs_writenat(VMCS_CR4_GUEST_HOST_MASK, vmx_caps.cr4_fixed0 | ~vmx_caps.cr4_fixed1 | CR4_VMXE);
}

static uint64_t descriptor_table_base(int idt)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) d;
    if (idt)
        __asm__ volatile("sidt %0" : "=m"(d));
    else
        __asm__ volatile("sgdt %0" : "=m"(d));
    return d.base;
}

void vmcs_setup_host(void)
{
    struct percpu *c = this_cpu();
    vmcs_writenat(VMCS_HOST_CR0, hw_read_cr0());
    vmcs_writenat(VMCS_HOST_CR3, hw_read_cr3());
    vmcs_writenat(VMCS_HOST_CR4, hw_read_cr4());
    vmcs_write16(VMCS_HOST_CS_SELECTOR, SEL_KERNEL_CS);
    vmcs_write16(VMCS_HOST_SS_SELECTOR, SEL_KERNEL_DS);
    vmcs_write16(VMCS_HOST_DS_SELECTOR, SEL_KERNEL_DS);
    vmcs_write16(VMCS_HOST_ES_SELECTOR, SEL_KERNEL_DS);
    vmcs_write16(VMCS_HOST_FS_SELECTOR, 0);
    vmcs_write16(VMCS_HOST_GS_SELECTOR, 0);
    vmcs_write16(VMCS_HOST_TR_SELECTOR, SEL_TSS);
    vmcs_writenat(VMCS_HOST_FS_BASE, 0);
    vmcs_writenat(VMCS_HOST_GS_BASE, (uintptr_t)c);
    vmcs_writenat(VMCS_HOST_TR_BASE, (uintptr_t)&c->tss);
    vmcs_writenat(VMCS_HOST_GDTR_BASE, descriptor_table_base(0));
    vmcs_writenat(VMCS_HOST_IDTR_BASE, descriptor_table_base(1));
    vmcs_write64(VMCS_HOST_EFER, hw_rdmsr(MSR_IA32_EFER));
    vmcs_write64(VMCS_HOST_PAT, hw_rdmsr(MSR_IA32_PAT));
    vmcs_write32(VMCS_HOST_SYSENTER_CS, 0);
    vmcs_writenat(VMCS_HOST_SYSENTER_ESP, 0);
    vmcs_writenat(VMCS_HOST_SYSENTER_EIP, 0);
    vmcs_writenat(VMCS_HOST_RIP, (uintptr_t)vmx_exit_stub);
}

struct seg {
    uint16_t selector;
    uint64_t base;
    uint32_t limit, ar;
};

static void write_seg(enum vmcs_field sel, const struct seg *s)
{
    /* Selector, limit, AR and base fields of one segment are at fixed distances (Appendix B). */
    unsigned index = (sel - VMCS_GUEST_ES_SELECTOR) / 2;
    vmcs_write16(sel, s->selector);
    vmcs_write32(VMCS_GUEST_ES_LIMIT + 2 * index, s->limit);
    vmcs_write32(VMCS_GUEST_ES_AR + 2 * index, s->ar);
    vmcs_writenat(VMCS_GUEST_ES_BASE + 2 * index, s->base);
}

static void write_data_segs(const struct seg *data)
{
    write_seg(VMCS_GUEST_DS_SELECTOR, data);
    write_seg(VMCS_GUEST_ES_SELECTOR, data);
    write_seg(VMCS_GUEST_FS_SELECTOR, data);
    write_seg(VMCS_GUEST_GS_SELECTOR, data);
    write_seg(VMCS_GUEST_SS_SELECTOR, data);
}

/* State common to every mode: LDTR unusable, a busy TSS, no pending events, power-on MSRs. */
static void setup_guest_common(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
    const struct seg ldtr = {0, 0, 0, AR_LDTR_UNUSABLE};
    const struct seg tr = {0, 0, TR_LIMIT, AR_TR};
    write_seg(VMCS_GUEST_LDTR_SELECTOR, &ldtr);
    write_seg(VMCS_GUEST_TR_SELECTOR, &tr);
    vmcs_writenat(VMCS_GUEST_CR0, vmcs_guest_cr0(cr0));
    vmcs_writenat(VMCS_CR0_READ_SHADOW, cr0);
    vmcs_writenat(VMCS_GUEST_CR4, vmcs_guest_cr4(cr4));
    vmcs_writenat(VMCS_CR4_READ_SHADOW, cr4);
    vmcs_write64(VMCS_GUEST_EFER, efer);
    vmcs_write64(VMCS_GUEST_PAT, PAT_POWER_ON);
    vmcs_write64(VMCS_GUEST_DEBUGCTL, 0);
    vmcs_writenat(VMCS_GUEST_DR7, DR7_POWER_ON);
    vmcs_writenat(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1);
    vmcs_writenat(VMCS_GUEST_RSP, 0);
    vmcs_writenat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
    vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmcs_write32(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
    vmcs_write32(VMCS_GUEST_SYSENTER_CS, 0);
    vmcs_writenat(VMCS_GUEST_SYSENTER_ESP, 0);
    vmcs_writenat(VMCS_GUEST_SYSENTER_EIP, 0);
    vmcs_write32(VMCS_GUEST_GDTR_LIMIT, REAL_SEG_LIMIT);
    vmcs_writenat(VMCS_GUEST_GDTR_BASE, 0);
    vmcs_write32(VMCS_GUEST_IDTR_LIMIT, REAL_SEG_LIMIT);
    vmcs_writenat(VMCS_GUEST_IDTR_BASE, 0);
    /* The "IA-32e mode guest" entry control must equal EFER.LMA (§28.3.1.1). */
    vmcs_write32(VMCS_ENTRY_CTLS, (vmx_config.ctl[VMX_CTL_ENTRY] & ~ENTRY_IA32E_MODE_GUEST) |
                                      ((efer & EFER_LMA) ? ENTRY_IA32E_MODE_GUEST : 0));
}

/* Real mode under unrestricted guest (§28.3.1.2): CS.base holds the entry's upper bits, so any
   entry address works; CS.selector is the matching paragraph. */
void vmcs_setup_guest_real(uint64_t entry)
{
    uint64_t cs_base = entry & REAL_CS_BASE_MASK;
    const struct seg cs = {(uint16_t)(cs_base >> 4), cs_base, REAL_SEG_LIMIT, AR_CODE};
    const struct seg data = {cs.selector, cs_base, REAL_SEG_LIMIT, AR_DATA}; /* DS=ES=SS=CS */
    setup_guest_common(CR0_ET, 0, 0);
    write_seg(VMCS_GUEST_CS_SELECTOR, &cs);
    write_data_segs(&data);
    vmcs_writenat(VMCS_GUEST_RIP, entry - cs_base);
    vmcs_writenat(VMCS_GUEST_CR3, 0);
}

/* 32-bit protected mode, paging off, flat 4 GiB segments (Multiboot 1 §3.2). */
void vmcs_setup_guest_prot32(uint64_t entry)
{
    const struct seg cs = {PROT_CS_SELECTOR, 0, FLAT_LIMIT, AR_CODE | SEG_AR_DB | SEG_AR_G};
    const struct seg data = {PROT_DS_SELECTOR, 0, FLAT_LIMIT, AR_DATA | SEG_AR_DB | SEG_AR_G};
    setup_guest_common(CR0_PE | CR0_ET, 0, 0);
    write_seg(VMCS_GUEST_CS_SELECTOR, &cs);
    write_data_segs(&data);
    vmcs_writenat(VMCS_GUEST_RIP, entry);
    vmcs_writenat(VMCS_GUEST_CR3, 0);
}

/* 64-bit mode with the page tables the loader built in guest RAM. With `gdt`, GDTR and the
   selectors are the ones that GDT holds (the Linux boot protocol's __BOOT_CS/__BOOT_DS), so a
   guest that reloads its segment registers finds the same descriptors. */
void vmcs_setup_guest_long64(uint64_t entry, uint64_t cr3, const struct vmcs_boot_gdt *gdt)
{
    struct seg cs = {PROT_CS_SELECTOR, 0, FLAT_LIMIT, AR_CODE | SEG_AR_L | SEG_AR_G};
    struct seg data = {PROT_DS_SELECTOR, 0, FLAT_LIMIT, AR_DATA | SEG_AR_DB | SEG_AR_G};
    if (gdt) {
        cs.selector = gdt->cs_selector;
        data.selector = gdt->ds_selector;
    }
    setup_guest_common(CR0_PE | CR0_ET | CR0_PG | CR0_WP | CR0_NE, CR4_PAE, EFER_LME | EFER_LMA);
    write_seg(VMCS_GUEST_CS_SELECTOR, &cs);
    write_data_segs(&data);
    if (gdt) {
        vmcs_write32(VMCS_GUEST_GDTR_LIMIT, gdt->limit);
        vmcs_writenat(VMCS_GUEST_GDTR_BASE, gdt->base);
    }
    vmcs_writenat(VMCS_GUEST_RIP, entry);
    vmcs_writenat(VMCS_GUEST_CR3, cr3);
}
