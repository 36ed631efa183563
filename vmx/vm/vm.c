/* Building and tearing down a guest VM. Every frame taken here is given back in vm_destroy,
   and the free count is checked against its value before the VM. */
#include "vmx/vm/vm.h"
#include "kernel/fpu.h"
#include "kernel/lib/msr.h"
#include "vmx/vcpu/intercept.h"
#include "kernel/lib/fmt.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "kernel/lib/x86.h"
#include "kernel/lib/string.h"
#include "mm/frame.h"
#include "mm/layout.h"
#include "vmx/exit/cpu_model.h"
#include "vmx/exit/exit.h"
#include "vmx/loader/acpi.h"
#include "vmx/loader/bzimage.h"
#include "vmx/loader/loader.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmcs_setup.h"
#include "vmx/cpu/vmx.h"
#include "vmx/cpu/vmx_ops.h"
#include "vmx/cpu/vpid.h"
#include "vmx/vcpu/vcpu_apicv.h"
#include "vmx/vcpu/vcpu_debug.h"
#include "vmx/vcpu/vcpu_startup.h"

#define BITMAP_ALL_ONES 0xFF
#define XCR0_INITIAL    1 /* x87 only, the power-on value */

static unsigned order_for_chunk(uint64_t remaining)
{
    unsigned order = 0;
    while (order < BUDDY_MAX_ORDER && (FRAME_SIZE << (order + 1)) <= remaining)
        order++;
    return order;
}

/* Guest RAM: the largest power-of-two blocks that fit, smaller ones when memory is fragmented. */
static int alloc_guest_ram(struct guest_mem *m, uint64_t size)
{
    m->size = size;
    m->nchunks = 0;
    for (uint64_t gpa = 0; gpa < size;) {
        unsigned order = order_for_chunk(size - gpa);
        paddr_t pa;
        while ((pa = frame_alloc(order, FRAME_ZERO)) == PADDR_NONE && order > 0)
            order--;
        if (pa == PADDR_NONE || m->nchunks == GUEST_MEM_MAX_CHUNKS) {
            if (pa != PADDR_NONE)
                frame_free(pa, order);
            return -1;
        }
        uint64_t bytes = FRAME_SIZE << order;
        m->chunk[m->nchunks++] = (struct guest_mem_chunk){gpa, pa, phys_to_virt(pa), bytes, order};
        gpa += bytes;
    }
    return 0;
}

static void free_guest_ram(struct guest_mem *m)
{
    for (size_t i = 0; i < m->nchunks; i++)
        frame_free(m->chunk[i].hpa, m->chunk[i].order);
    m->nchunks = 0;
}

static paddr_t alloc_filled_page(uint8_t fill)
{
    paddr_t pa = frame_alloc(0, 0);
    if (pa != PADDR_NONE)
        memset(phys_to_virt(pa), fill, FRAME_SIZE);
    return pa;
}

static void free_page(paddr_t *pa)
{
    if (*pa != PADDR_NONE && *pa)
        frame_free(*pa, 0);
    *pa = PADDR_NONE;
}

static int map_guest_ram(struct vm *vm)
{
    const struct ept_caps caps = {vmx_config.ept_1g, vmx_config.ept_2m, vmx_config.ept_ad};
    if (ept_init(&vm->g.ept, &caps))
        return -1;
    for (size_t i = 0; i < vm->g.mem.nchunks; i++) {
        const struct guest_mem_chunk *c = &vm->g.mem.chunk[i];
        if (ept_map(&vm->g.ept, c->gpa, c->hpa, c->size, EPT_RWX, EPT_MT_WB))
            return -1;
    }
    return 0;
}

/* Intercept everything: every MSR and every port exits (bitmaps all ones). */
/* The MSRs a guest reaches without an exit: FS and GS base live in the VMCS guest-state area
   (loaded at entry, saved at exit), and KERNEL_GS_BASE is the vCPU's own in the CPU while it
   runs (vmx/exit/exit_msr.c saves it when the vCPU is switched away), so none of them can show
   or leak another guest's value. A kernel writes them on every context switch. */
static const uint32_t msrs_passed_through[] = {MSR_IA32_FS_BASE, MSR_IA32_GS_BASE,
                                               MSR_IA32_KERNEL_GS_BASE};

static int alloc_bitmaps(struct vm *vm)
{
    vm->g.msr_bitmap = alloc_filled_page(BITMAP_ALL_ONES);
    vm->g.io_bitmap[0] = alloc_filled_page(BITMAP_ALL_ONES);
    vm->g.io_bitmap[1] = alloc_filled_page(BITMAP_ALL_ONES);
    if (vm->g.msr_bitmap == PADDR_NONE || vm->g.io_bitmap[0] == PADDR_NONE ||
        vm->g.io_bitmap[1] == PADDR_NONE)
        return -1;
    for (size_t i = 0; i < sizeof(msrs_passed_through) / sizeof(msrs_passed_through[0]); i++)
        if (intercept_msr(phys_to_virt(vm->g.msr_bitmap), msrs_passed_through[i], false, false))
            return -1;
    return 0;
}

static void setup_entry_state(struct vcpu *v, const struct guest_entry *e)
{
    switch (e->mode) {
    case GUEST_CPU_REAL:
        vmcs_setup_guest_real(e->rip);
        break;
    case GUEST_CPU_PROT32:
        vmcs_setup_guest_prot32(e->rip);
        break;
    case GUEST_CPU_LONG64: {
        const struct vmcs_boot_gdt gdt = {e->gdt_base, e->gdt_limit, e->cs_selector,
                                          e->ds_selector};
        vmcs_setup_guest_long64(e->rip, e->cr3, e->gdt_limit ? &gdt : 0);
        break;
    }
    }
    vmcs_writenat(VMCS_GUEST_RSP, e->rsp);
    v->regs.gpr[REG_RAX] = e->rax;
    v->regs.gpr[REG_RBX] = e->rbx;
    v->regs.gpr[REG_RDI] = e->rdi;
    v->regs.gpr[REG_RSI] = e->rsi;
}

/* A fresh VMCS for the vCPU, made current, with controls, host and guest state. */
static int build_vmcs(struct vm *vm, struct vcpu *v, const struct guest_entry *e, char *why,
                      size_t size)
{
    char err[160];
    v->vmcs = vmx_alloc_region();
    if (v->vmcs == PADDR_NONE) {
        fmt_snprintf(why, size, "out of memory for the VMCS");
        return -1;
    }
    if (vmx_clear(v->vmcs) != VMX_OK || vmx_ptrld(v->vmcs) != VMX_OK) {
        fmt_snprintf(why, size, "VMCLEAR/VMPTRLD of a new VMCS failed");
        return -1;
    }
    vmcs_error_clear();
    const struct vmcs_vm_resources res = {{vm->g.io_bitmap[0], vm->g.io_bitmap[1]},
                                          vm->g.msr_bitmap,
                                          ept_pointer(&vm->g.ept),
                                          v->vpid};
    vmcs_setup_controls(&res);
    vmcs_setup_host();
    setup_entry_state(v, e);
    if (vm->g.apic_access.page != PADDR_NONE && vcpu_apicv_init(v)) {
        fmt_snprintf(why, size, "out of memory for the virtual-APIC page");
        return -1;
    }
    vcpu_cache_init(v);
    if (vmcs_error_take(err, sizeof(err))) {
        log_error("vm %s: %s", vm->cfg.name, err);
        fmt_snprintf(why, size, "VMCS setup failed: %s", err);
        return -1;
    }
    return 0;
}

enum vm_debug_entry vm_debug_entry;

static void break_vmcs_for_debug(const struct vm *vm)
{
    if (vm->g.index != 0 || vm_debug_entry == VM_DEBUG_ENTRY_NONE)
        return;
    log_warn("debug.vmentry: breaking guest %s's VMCS on purpose", vm->cfg.name);
    if (vm_debug_entry == VM_DEBUG_ENTRY_CONTROL)
        vmcs_write32(VMCS_PIN_BASED_CTLS, 0); /* clears must-be-1 bits: VM-instruction error 7 */
    else
        vmcs_writenat(VMCS_GUEST_RFLAGS, 0); /* RFLAGS bit 1 must be 1: invalid guest state */
}

/* The vCPU's own VPID, FPU area and VMCS (its host stack is fixed: vm_host_stack_top). */
static int build_vcpu(struct vm *vm, struct vcpu *v, const struct guest_entry *e, char *why,
                      size_t size)
{
    v->vpid = vpid_alloc();
    if (!v->vpid) {
        fmt_snprintf(why, size, "no free VPID");
        return -1;
    }
    v->fpu_state = frame_alloc(0, FRAME_ZERO);
    if (v->fpu_state == PADDR_NONE) {
        fmt_snprintf(why, size, "out of memory for the vCPU's FPU area");
        return -1;
    }
    fpu_reset_area(phys_to_virt(v->fpu_state)); /* restored at the vCPU's first slice */
    return build_vmcs(vm, v, e, why, size);
}

/* A Linux guest (docs/guest-abi.md "Linux guests"): ACPI tables for its vCPUs below 1 MiB, then
   the bzImage with its command line and its one initrd (Documentation/arch/x86/boot.rst). */
static int load_linux(struct vm *vm, const void *image, size_t image_len,
                      const struct loader_module *mods, size_t nmods, struct guest_entry *entry,
                      char *err, size_t errlen)
{
    struct acpi_tables tables;
    struct bzimage_layout layout;
    if (nmods > 1) {
        fmt_snprintf(err, errlen, "%zu initrds for one Linux guest (modules %u and %u)", nmods,
                     mods[0].index, mods[1].index);
        return -1;
    }
    if (acpi_build(&vm->g.mem, vm->cfg.vcpus ? vm->cfg.vcpus : 1, LINUX_ACPI_BASE, LINUX_ACPI_END,
                   &tables, err, errlen))
        return -1;
    const struct linux_boot_config boot = {vm->cfg.cmdline, nmods ? mods[0].data : 0,
                                           nmods ? mods[0].len : 0, tables.rsdp};
    if (bzimage_load(image, image_len, &boot, &vm->g.mem, entry, &layout, err, errlen))
        return -1;
    log_info("vm %s: Linux kernel at 0x%llx-0x%llx, initrd %llu bytes at 0x%llx, ACPI at 0x%llx",
             vm->cfg.name, (unsigned long long)layout.kernel_gpa,
             (unsigned long long)layout.kernel_end, (unsigned long long)layout.initrd_size,
             (unsigned long long)layout.initrd_gpa, (unsigned long long)tables.rsdp);
    return 0;
}

/* The local APICs' xAPIC page: through APIC-register virtualization when the CPU has it, else
   decoded from EPT violations (vmx/vcpu/vcpu_apicv.h). */
static int choose_apic_path(struct vm *vm)
{
    if (!vmx_config.apic_register_virt) {
        log_info("vm %s: xAPIC accesses decoded from EPT violations (no APIC-register "
                 "virtualization)",
                 vm->cfg.name);
        return 0;
    }
    log_info("vm %s: xAPIC page through APIC-register virtualization", vm->cfg.name);
    return vcpu_apicv_init_guest(&vm->g);
}

static int build(struct vm *vm, const void *image, size_t image_len,
                 const struct loader_module *mods, size_t nmods, char *why, size_t size)
{
    struct guest_entry entry;
    char err[128];
    if (vm->platform == VM_PLATFORM_PC && cpu_model_virtual_pc(&vm->cpu_model)) {
        fmt_snprintf(why, size, "no room in the CPU model for the virtual PC's CPUID leaves");
        return -1;
    }
    if (alloc_guest_ram(&vm->g.mem, vm->cfg.mem)) {
        fmt_snprintf(why, size, "cannot allocate %llu MiB of guest RAM",
                     (unsigned long long)(vm->cfg.mem >> 20));
        return -1;
    }
    if (map_guest_ram(vm) || alloc_bitmaps(vm)) {
        fmt_snprintf(why, size, "out of memory for EPT tables or bitmaps");
        return -1;
    }
    if (vm->platform == VM_PLATFORM_ABI && strlen(vm->cfg.cmdline) >= GUEST_ABI_CMDLINE_MAX) {
        fmt_snprintf(why, size, "cmdline longer than %u characters (only Linux guests take more)",
                     GUEST_ABI_CMDLINE_MAX - 1);
        return -1;
    }
    int loaded = vm->platform == VM_PLATFORM_PC
                     ? load_linux(vm, image, image_len, mods, nmods, &entry, err, sizeof(err))
                     : loader_load_with_modules(image, image_len, &vm->cfg, mods, nmods, &vm->g.mem,
                                                &entry, err, sizeof(err));
    if (loaded) {
        fmt_snprintf(why, size, "%s", err);
        return -1;
    }
    if (vm_devices_init(vm)) {
        fmt_snprintf(why, size, "cannot register virtual devices");
        return -1;
    }
    if (vm->platform == VM_PLATFORM_PC && choose_apic_path(vm)) {
        fmt_snprintf(why, size, "out of memory for the APIC-access page");
        return -1;
    }
    /* The loader's entry state is vCPU 0's, the bootstrap processor's; the APs get theirs
       from their SIPI (vmx/vcpu/vcpu_startup.h). */
    for (unsigned i = 0; i < vm->vcpu_count; i++)
        if (build_vcpu(vm, &vm->vcpus[i], &entry, why, size))
            return -1;
    break_vmcs_for_debug(vm);
    /* Built on this CPU, run on its home CPU: a VMCS is cleared before another CPU loads it
       (SDM vol. 3 §25.11.3). */
    for (unsigned i = 0; i < vm->vcpu_count; i++)
        if (vmx_clear(vm->vcpus[i].vmcs) != VMX_OK) {
            fmt_snprintf(why, size, "VMCLEAR of a new VMCS failed");
            return -1;
        }
    return 0;
}

/* vCPU `id` as it is before it is built: it holds nothing (vm_destroy frees what it holds). */
static void init_vcpu(struct vm *vm, unsigned id)
{
    struct vcpu *v = &vm->vcpus[id];
    v->guest = &vm->g;
    v->id = id;
    v->guest_xcr0 = XCR0_INITIAL;
    exit_msr_reset_vcpu(v);
    vcpu_debug_reset(v);
    v->vmcs = v->fpu_state = v->vapic_page = PADDR_NONE;
}

int vm_create(struct vm *vm, unsigned index, const void *image, size_t image_len,
              const char *cmdline, const struct loader_module *mods, size_t nmods, uint64_t tsc_khz,
              char *why, size_t why_size)
{
    char err[128];
    memset(vm, 0, sizeof(*vm));
    vm->g.index = index;
    guest_console_init(&vm->g);
    byte_ring_init(&vm->console_in.ring, vm->console_in.buf, sizeof(vm->console_in.buf));
    vm->platform = bzimage_is_linux(image, image_len) ? VM_PLATFORM_PC : VM_PLATFORM_ABI;
    vm->g.name = vm->cfg.name;
    cpu_model_build(&vm->cpu_model, tsc_khz);
    vm->g.cpu = &vm->cpu_model;

    vm->g.msr_bitmap = vm->g.io_bitmap[0] = vm->g.io_bitmap[1] = PADDR_NONE;
    vm->g.ept.pml4 = PADDR_NONE;
    vm->g.apic_access.page = PADDR_NONE;
    for (unsigned i = 0; i < GUEST_VCPUS_MAX; i++)
        init_vcpu(vm, i);
    if (modargs_parse(cmdline, index, &vm->cfg, err, sizeof(err))) {
        fmt_snprintf(vm->cfg.name, sizeof(vm->cfg.name), "guest%u", index);
        fmt_snprintf(why, why_size, "%s", err);
        return -1;
    }
    /* A parsed option is never ignored: an hv-ABI guest has no local APIC to start a second
       vCPU with (docs/guest-abi.md), so asking for one is a refusal. */
    if (vm->platform == VM_PLATFORM_ABI && vm->cfg.vcpus > 1) {
        fmt_snprintf(why, why_size,
                     "vcpus=%u: an hv-ABI guest has one vCPU (only virtual-PC guests have more)",
                     vm->cfg.vcpus);
        return -1;
    }
    vm->vcpu_count = vm->cfg.vcpus;
    vm->g.vcpus = vm->vcpus;
    vm->g.vcpu_count = vm->vcpu_count;
    for (unsigned i = 1; i < vm->vcpu_count; i++)
        vcpu_startup_reset_ap(&vm->vcpus[i]); /* APs wait for INIT-SIPI-SIPI (MP spec) */
    vm->created = true;
    if (build(vm, image, image_len, mods, nmods, why, why_size)) {
        vm_destroy(vm);
        return -1;
    }
    return 0;
}

static uint64_t page_held(paddr_t pa)
{
    return pa != PADDR_NONE && pa ? 1 : 0;
}

/* Every frame the VM holds right now: RAM, EPT tables, bitmaps, each vCPU's VMCS and FPU area. */
static uint64_t frames_held(const struct vm *vm)
{
    uint64_t n =
        page_held(vm->g.msr_bitmap) + page_held(vm->g.io_bitmap[0]) + page_held(vm->g.io_bitmap[1]);
    for (unsigned i = 0; i < GUEST_VCPUS_MAX; i++)
        n += page_held(vm->vcpus[i].vmcs) + page_held(vm->vcpus[i].fpu_state) +
             vcpu_apicv_frames(&vm->vcpus[i]);
    n += vcpu_apicv_guest_frames(&vm->g);
    if (vm->g.ept.pml4 != PADDR_NONE)
        n += vm->g.ept.table_pages;
    for (size_t i = 0; i < vm->g.mem.nchunks; i++)
        n += 1ull << vm->g.mem.chunk[i].order;
    return n;
}

static void destroy_vcpu(struct vcpu *v)
{
    if (v->vmcs != PADDR_NONE) {
        vmx_clear(v->vmcs);
        frame_free(v->vmcs, 0);
        v->vmcs = PADDR_NONE;
    }
    if (v->vpid) {
        /* Stale translations tagged with this VPID must not survive its reuse. */
        vmx_invvpid(INVVPID_SINGLE_CONTEXT, v->vpid, 0);
        vpid_free(v->vpid);
        v->vpid = 0;
    }
    free_page(&v->fpu_state);
    vcpu_apicv_destroy(v);
}

void vm_destroy(struct vm *vm)
{
    if (!vm->created)
        return;
    /* Other guests may allocate and free meanwhile, so the check is not "free count equals its
       value before this guest" but "exactly the frames this guest held came back". */
    uint64_t held = frames_held(vm), before = frame_free_count();
    for (unsigned i = 0; i < GUEST_VCPUS_MAX; i++)
        destroy_vcpu(&vm->vcpus[i]);
    if (vm->g.ept.pml4 != PADDR_NONE) {
        vmx_invept(INVEPT_SINGLE_CONTEXT, ept_pointer(&vm->g.ept));
        ept_destroy(&vm->g.ept);
    }
    vcpu_apicv_destroy_guest(&vm->g);
    free_page(&vm->g.msr_bitmap);
    free_page(&vm->g.io_bitmap[0]);
    free_page(&vm->g.io_bitmap[1]);
    free_guest_ram(&vm->g.mem);
    vm->created = false;
    uint64_t returned = frame_free_count() - before;
    if (returned != held)
        log_error("mm: guest %s teardown: held %llu frames, returned %llu", vm->cfg.name,
                  (unsigned long long)held, (unsigned long long)returned);
    else
        log_info("mm: guest %s teardown: every frame returned (%llu frames)", vm->cfg.name,
                 (unsigned long long)held);
}
