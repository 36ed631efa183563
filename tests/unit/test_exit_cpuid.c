/* CPUID exit tests: the filtered leaves a guest sees (cpuid_for_guest) and the exit handler's
   register and RIP updates, against the fake machine's CPUID table and the fake VMCS. Every
   query first builds the VM's CPU model from the fake machine as it is then (as vm_create does)
   and checks that answering it ran no host CPUID. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "kernel/lib/msr.h"
#include "kernel/lib/x86.h"
#include "kernel/lib/cpuid_leaves.h"
#include "vmx/exit/exit.h"
#include "vmx/exit/cpu_model.h"
#include "vmx/exit/guest_cpu.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmcs_fields.h"
#include "vmx/cpu/vmx.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define RIP0           0x7000ull
#define VCPU_ID        3
#define TSC_KHZ        2893456ull
#define ALL_ONES       0xFFFFFFFFu
#define LEAF1_EAX      0x000306F2u /* Haswell-EP signature */
#define LEAF1_EBX      0x12345678u /* APIC id 0x12, 0x34 logical, CLFLUSH 0x56, brand 0x78 */
#define LEAF_EXT       0x80000001u
#define EXT_EDX_RDTSCP (1u << 27)
#define HOST_XCR0_BITS 0xFFu /* x87 SSE AVX BNDREGS BNDCSR opmask ZMM_Hi256 Hi16_ZMM */
#define GUEST_POLICY   0xE7u /* XCR0_GUEST_POLICY: no MPX */
#define XSAVE_LEGACY   576u  /* legacy area + header */
#define AVX_END        832u  /* 576 + 256 */
#define AVX512_END     2688u /* Hi16_ZMM at 1664, 1024 bytes */
#define CS_AR_32       0xC09Bu
#define CS_AR_64       (0xA09Bu)

static struct vm vm;
static struct vcpu *v;
static uint64_t guest_tsc_khz; /* the TSC frequency the model is built with */

static struct cpuid_regs regs(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    return (struct cpuid_regs){a, b, c, d};
}

/* A host CPU with XSAVE and AVX-512 components (sizes/offsets of a Skylake-SP), basic leaves up
   to 0x1F and extended leaves up to 0x80000008. */
static void host_xsave(void)
{
    fake_hw_set_cpuid(CPUID_LEAF_VENDOR, 0, regs(0x1F, 0x756E6547, 0x6C65746E, 0x49656E69));
    fake_hw_set_cpuid(CPUID_LEAF_EXT_BASE, 0, regs(0x80000008, 0, 0, 0));
    fake_hw_set_cpuid(CPUID_LEAF_FEATURES, 0, regs(LEAF1_EAX, LEAF1_EBX, ALL_ONES, ALL_ONES));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 0, regs(HOST_XCR0_BITS, 1088, 2696, 0));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 1, regs(0xF, 0x988, 0x100, 0x1));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 2, regs(256, 576, 0, 0));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 3, regs(64, 960, 0, 0));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 4, regs(64, 1024, 0, 0));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 5, regs(64, 1088, 0, 0));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 6, regs(512, 1152, 0, 0));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 7, regs(1024, 1664, 0, 0));
}

static int setup(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "cpuidtest");
    v->id = VCPU_ID;
    v->guest_xcr0 = XCR0_X87 | XCR0_SSE | XCR0_AVX;
    guest_tsc_khz = TSC_KHZ;
    /* Every optional control on (as on a Haswell): INVPCID and RDTSCP work in the guest. */
    vmx_config.ctl[VMX_CTL_PROC2] = PROC2_ENABLE_EPT | PROC2_ENABLE_VPID |
                                    PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_RDTSCP |
                                    PROC2_ENABLE_INVPCID | PROC2_WBINVD_EXITING;
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    fake_vmcs_set(VMCS_GUEST_CS_AR, CS_AR_32);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 2);
    host_xsave();
    return 0;
}

/* The VM's CPU model, built from the fake machine and vmx_config as they are now. */
static void build_model(void)
{
    fake_vm_cpu_model(&vm, guest_tsc_khz);
    fake_hw.cpuid_calls = 0;
}

static struct cpuid_regs guest(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    memset(&r, 0xCC, sizeof(r));
    build_model();
    fake_vcpu_forget(v);
    cpuid_for_guest(v, leaf, subleaf, &r);
    assert_int_equal(fake_hw.cpuid_calls, 0); /* the exit path runs no host CPUID */
    return r;
}

static uint64_t xcr0_guest_supported(void)
{
    build_model();
    return vm.cpu_model.xcr0_mask;
}

/* The exit handler, on a model built from the fake machine as it is now. */
static void cpuid_exit(void)
{
    build_model();
    fake_vcpu_exit(v, exit_handle_cpuid);
    assert_int_equal(fake_hw.cpuid_calls, 0);
}

static void assert_regs(struct cpuid_regs r, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    if (r.eax != a || r.ebx != b || r.ecx != c || r.edx != d)
        fail_msg("got %08x %08x %08x %08x, want %08x %08x %08x %08x", r.eax, r.ebx, r.ecx, r.edx, a,
                 b, c, d);
}

/* ---- leaf 1 ---- */

/* Leaf 1 ECX with every bit set, minus VMX, SMX, MONITOR, EST, TM2, PDCM, DTES64, DS-CPL and
   OSXSAVE (bits 2-8, 15, 27); EDX minus DS, ACPI, HTT, TM, PBE (bits 21, 22, 28, 29, 31). */
/* ALL_ONES minus the hidden bits (VMX, SMX, MONITOR, EST, TM2, PDCM, DTES64, DS-CPL, OSXSAVE,
   x2APIC, TSC-deadline) */
#define LEAF1_ECX_FILTERED 0xF6DF7E03u
#define LEAF1_EDX_FILTERED 0x4F9FFFFFu
#define LEAF1_EBX_GUEST    ((LEAF1_EBX & 0xFFFFu) | (VCPU_ID << 24) | (1u << 16))

static void test_leaf1_filtered(void **state)
{
    (void)state;
    struct cpuid_regs r = guest(CPUID_LEAF_FEATURES, 0);
    assert_regs(r, LEAF1_EAX, LEAF1_EBX_GUEST, LEAF1_ECX_FILTERED, LEAF1_EDX_FILTERED);
    assert_int_equal(r.ebx >> 24, VCPU_ID); /* APIC id = vCPU id */
    assert_int_equal((r.ebx >> 16) & 0xFF, 1);
    assert_int_equal(r.ecx & CPUID_1_ECX_VMX, 0);
}

static void test_leaf1_hypervisor_bit_set(void **state)
{
    (void)state;
    fake_hw_set_cpuid(CPUID_LEAF_FEATURES, 0, regs(LEAF1_EAX, 0, 0, 0));
    v->id = 0;
    struct cpuid_regs r = guest(CPUID_LEAF_FEATURES, 0);
    assert_regs(r, LEAF1_EAX, 1u << 16, CPUID_1_ECX_HYPERVISOR, 0);
}

static void test_leaf1_osxsave_mirrors_visible_cr4(void **state)
{
    (void)state;
    /* OSXSAVE guest-owned: the real CR4 decides. */
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_VMXE | CR4_OSXSAVE);
    assert_int_equal(guest(CPUID_LEAF_FEATURES, 0).ecx, LEAF1_ECX_FILTERED | CPUID_1_ECX_OSXSAVE);
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_VMXE);
    assert_int_equal(guest(CPUID_LEAF_FEATURES, 0).ecx, LEAF1_ECX_FILTERED);
    /* OSXSAVE hv-owned: the read shadow decides, not the real register. */
    fake_vmcs_set(VMCS_CR4_GUEST_HOST_MASK, CR4_VMXE | CR4_OSXSAVE);
    fake_vmcs_set(VMCS_CR4_READ_SHADOW, CR4_OSXSAVE);
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_VMXE);
    assert_int_equal(guest(CPUID_LEAF_FEATURES, 0).ecx, LEAF1_ECX_FILTERED | CPUID_1_ECX_OSXSAVE);
    fake_vmcs_set(VMCS_CR4_READ_SHADOW, 0);
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_VMXE | CR4_OSXSAVE);
    assert_int_equal(guest(CPUID_LEAF_FEATURES, 0).ecx, LEAF1_ECX_FILTERED);
}

/* ---- leaf 7 ---- */

#define LEAF7_EBX_FILTERED 0xFDFFBFFBu /* minus SGX (2), MPX (14), PT (25) */
#define LEAF7_ECX_FILTERED 0xBFFFFFDFu /* minus WAITPKG (5), SGX_LC (30) */

static void test_leaf7_hidden_bits(void **state)
{
    (void)state;
    fake_hw_set_cpuid(CPUID_LEAF_EXT_FEATURES, 0, regs(2, ALL_ONES, ALL_ONES, ALL_ONES));
    fake_hw_set_cpuid(CPUID_LEAF_EXT_FEATURES, 1, regs(ALL_ONES, ALL_ONES, ALL_ONES, ALL_ONES));
    assert_regs(guest(CPUID_LEAF_EXT_FEATURES, 0), 2, LEAF7_EBX_FILTERED, LEAF7_ECX_FILTERED,
                ALL_ONES);
    assert_regs(guest(CPUID_LEAF_EXT_FEATURES, 1), 0, 0, 0, 0);
    assert_regs(guest(CPUID_LEAF_EXT_FEATURES, 2), 0, 0, 0, 0);
}

/*
 * BUG (vmx/exit/exit_cpuid.c, filter_ext_features / cpuid_for_guest): INVPCID and RDTSCP are
 * optional controls (vmx_caps.c turns them off when the CPU lacks them); with "enable INVPCID"
 * = 0 INVPCID raises #UD in the guest, with "enable RDTSCP" = 0 RDTSCP raises #UD (SDM vol. 3
 * §26.3, Table 25-7). CPUID must then hide them: CPUID.7.0:EBX[10] and CPUID.80000001H:EDX[27].
 * Today both pass through unchanged.
 */
static void test_leaf7_invpcid_hidden_without_control(void **state)
{
    (void)state;
    fake_hw_set_cpuid(CPUID_LEAF_EXT_FEATURES, 0, regs(0, ALL_ONES, 0, 0));
    vmx_config.ctl[VMX_CTL_PROC2] &= ~PROC2_ENABLE_INVPCID;
    assert_int_equal(guest(CPUID_LEAF_EXT_FEATURES, 0).ebx,
                     LEAF7_EBX_FILTERED & ~CPUID_7_EBX_INVPCID);
}

static void test_rdtscp_hidden_without_control(void **state)
{
    (void)state;
    fake_hw_set_cpuid(LEAF_EXT, 0, regs(0, 0, 0x121, 0x2C100800));
    vmx_config.ctl[VMX_CTL_PROC2] &= ~PROC2_ENABLE_RDTSCP;
    assert_regs(guest(LEAF_EXT, 0), 0, 0, 0x121, 0x2C100800 & ~EXT_EDX_RDTSCP);
}

static void test_invpcid_rdtscp_shown_with_controls(void **state)
{
    (void)state;
    fake_hw_set_cpuid(CPUID_LEAF_EXT_FEATURES, 0, regs(0, ALL_ONES, 0, 0));
    fake_hw_set_cpuid(LEAF_EXT, 0, regs(0, 0, 0x121, 0x2C100800));
    assert_int_equal(guest(CPUID_LEAF_EXT_FEATURES, 0).ebx, LEAF7_EBX_FILTERED);
    assert_regs(guest(LEAF_EXT, 0), 0, 0, 0x121, 0x2C100800);
}

/* ---- PMU, topology ---- */

static void test_pmu_leaf_zeroed(void **state)
{
    (void)state;
    fake_hw_set_cpuid(CPUID_LEAF_PMU, 0, regs(0x07300403, 0, 0, 0x603));
    assert_regs(guest(CPUID_LEAF_PMU, 0), 0, 0, 0, 0);
}

static void check_topology(uint32_t leaf)
{
    /* host: 2 threads per core, 16 cores, x2APIC id 0x21 */
    fake_hw_set_cpuid(leaf, 0, regs(1, 2, 0x100, 0x21));
    fake_hw_set_cpuid(leaf, 1, regs(5, 32, 0x201, 0x21));
    assert_regs(guest(leaf, 0), 0, 1, 0x100, VCPU_ID); /* SMT: 1 logical processor */
    assert_regs(guest(leaf, 1), 0, 1, 0x201, VCPU_ID); /* core: 1 logical processor */
    assert_regs(guest(leaf, 2), 0, 0, 2, VCPU_ID);     /* invalid level: ECX[7:0] = input */
    assert_regs(guest(leaf, 0x1FF), 0, 0, 0xFF, VCPU_ID);
}

static void test_topology_leaf_b(void **state)
{
    (void)state;
    check_topology(CPUID_LEAF_TOPOLOGY);
}

static void test_topology_leaf_1f(void **state)
{
    (void)state;
    check_topology(CPUID_LEAF_TOPOLOGY_V2);
}

/* Every vCPU of an 8-vCPU VM sees its own APIC ID in leaf 1 EBX[31:24] and as its x2APIC ID in
   leaves 0xB and 0x1F EDX; one logical processor per package in leaf 1 (EBX[23:16] = 1, HTT
   clear) and in the topology leaves (one per SMT and core level, shift 0): N vCPUs are N
   single-CPU packages with APIC IDs 0..N-1, as the MADT lists them. */
static void test_apic_ids_of_every_vcpu(void **state)
{
    (void)state;
    fake_hw_set_cpuid(CPUID_LEAF_VENDOR, 0, regs(0x1F, 0, 0, 0));
    fake_hw_set_cpuid(CPUID_LEAF_FEATURES, 0, regs(LEAF1_EAX, LEAF1_EBX, ALL_ONES, ALL_ONES));
    for (unsigned id = 0; id < GUEST_VCPUS_MAX; id++) {
        v->id = id;
        struct cpuid_regs r = guest(CPUID_LEAF_FEATURES, 0);
        assert_int_equal(r.ebx >> CPUID_1_EBX_APIC_ID_SHIFT, id);
        assert_int_equal((r.ebx >> CPUID_1_EBX_LOGICAL_SHIFT) & 0xFF, 1);
        assert_int_equal(r.edx & CPUID_1_EDX_HTT, 0);
        for (uint32_t sub = 0; sub < 2; sub++) {
            assert_int_equal(guest(CPUID_LEAF_TOPOLOGY, sub).edx, id);
            assert_int_equal(guest(CPUID_LEAF_TOPOLOGY_V2, sub).edx, id);
            assert_int_equal(guest(CPUID_LEAF_TOPOLOGY, sub).eax & 0x1F, 0);
            assert_int_equal(guest(CPUID_LEAF_TOPOLOGY, sub).ebx, 1);
        }
    }
}

/* ---- leaf 0xD ---- */

static void test_xsave_leaf0_sizes(void **state)
{
    (void)state;
    assert_regs(guest(CPUID_LEAF_XSAVE, 0), GUEST_POLICY, AVX_END, AVX512_END, 0);
    v->guest_xcr0 = XCR0_X87;
    assert_regs(guest(CPUID_LEAF_XSAVE, 0), GUEST_POLICY, XSAVE_LEGACY, AVX512_END, 0);
    v->guest_xcr0 = XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512;
    assert_regs(guest(CPUID_LEAF_XSAVE, 0), GUEST_POLICY, AVX512_END, AVX512_END, 0);
}

static void test_xsave_without_avx512(void **state)
{
    (void)state;
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 0, regs(0x7, 832, 832, 0));
    assert_regs(guest(CPUID_LEAF_XSAVE, 0), 0x7, AVX_END, AVX_END, 0);
}

static void test_xsave_subleaves(void **state)
{
    (void)state;
    /* subleaf 1: XSAVES hidden, XSS-related sizes gone */
    assert_regs(guest(CPUID_LEAF_XSAVE, 1), 0x7, 0, 0, 0);
    /* allowed components pass through */
    assert_regs(guest(CPUID_LEAF_XSAVE, 2), 256, 576, 0, 0);
    assert_regs(guest(CPUID_LEAF_XSAVE, 7), 1024, 1664, 0, 0);
    /* MPX is not in the guest policy */
    assert_regs(guest(CPUID_LEAF_XSAVE, 3), 0, 0, 0, 0);
    assert_regs(guest(CPUID_LEAF_XSAVE, 4), 0, 0, 0, 0);
    /* PKRU (9): not supported by the host here, not allowed */
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 9, regs(8, 2688, 0, 0));
    assert_regs(guest(CPUID_LEAF_XSAVE, 9), 0, 0, 0, 0);
}

static void test_xsave_host_without_xsave(void **state)
{
    (void)state;
    fake_hw_set_cpuid(CPUID_LEAF_FEATURES, 0, regs(LEAF1_EAX, 0, 0, 0));
    v->guest_xcr0 = XCR0_X87;
    assert_int_equal(xcr0_guest_supported(), 0);
    assert_regs(guest(CPUID_LEAF_XSAVE, 0), 0, XSAVE_LEGACY, XSAVE_LEGACY, 0);
}

static void test_xcr0_guest_supported(void **state)
{
    (void)state;
    assert_int_equal(xcr0_guest_supported(), GUEST_POLICY);
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 0, regs(0x3, 576, 576, 0));
    assert_int_equal(xcr0_guest_supported(), XCR0_X87 | XCR0_SSE);
}

/* ---- hypervisor leaves ---- */

static void test_hypervisor_signature(void **state)
{
    (void)state;
    fake_hw_set_cpuid(HV_ABI_CPUID_BASE, 0, regs(1, 2, 3, 4)); /* never consulted */
    struct cpuid_regs r = guest(HV_ABI_CPUID_BASE, 0);
    assert_int_equal(r.eax, HV_ABI_CPUID_TIMING); /* max hypervisor leaf */
    char sig[13];
    memcpy(sig, &r.ebx, 4);
    memcpy(sig + 4, &r.ecx, 4);
    memcpy(sig + 8, &r.edx, 4);
    sig[12] = '\0';
    assert_string_equal(sig, "hvHypervisor");
    assert_int_equal(r.ebx, 0x79487668); /* "hvHy" */
}

static void test_hypervisor_timing_leaf(void **state)
{
    (void)state;
    assert_regs(guest(HV_ABI_CPUID_TIMING, 0), (uint32_t)TSC_KHZ, 0, 0, 0);
    guest_tsc_khz = 0;
    assert_regs(guest(HV_ABI_CPUID_TIMING, 0), 0, 0, 0, 0);
}

static void test_hypervisor_range_other_leaves_zero(void **state)
{
    (void)state;
    fake_hw_set_cpuid(0x40000001, 0, regs(1, 2, 3, 4));
    assert_regs(guest(0x40000001, 0), 0, 0, 0, 0);
    assert_regs(guest(0x400000FF, 0), 0, 0, 0, 0);
}

/* ---- pass-through ---- */

static void test_other_leaves_pass_through(void **state)
{
    (void)state;
    fake_hw_set_cpuid(0, 0, regs(0x16, 0x756E6547, 0x6C65746E, 0x49656E69));
    assert_regs(guest(0, 0), 0x16, 0x756E6547, 0x6C65746E, 0x49656E69);
    fake_hw_set_cpuid(4, 2, regs(0x1C004143, 0x01C0003F, 0x3FF, 0));
    assert_regs(guest(4, 2), 0x1C004143, 0x01C0003F, 0x3FF, 0);
    fake_hw_set_cpuid(0x80000000, 0, regs(0x80000008, 0, 0, 0));
    assert_regs(guest(0x80000000, 0), 0x80000008, 0, 0, 0);
    fake_hw_set_cpuid(0x40000100, 0, regs(9, 8, 7, 6)); /* past the hypervisor range */
    assert_regs(guest(0x40000100, 0), 9, 8, 7, 6);
}

/* ---- the exit handler ---- */

static void test_exit_handler_sets_registers_and_rip(void **state)
{
    (void)state;
    fake_hw_set_cpuid(4, 1, regs(0x1C004122, 0x01C0003F, 0x3F, 0));
    v->regs.gpr[REG_RAX] = 0xFFFFFFFF00000004ull; /* only EAX/ECX select the leaf */
    v->regs.gpr[REG_RCX] = 0xABCDEF0000000001ull;
    v->regs.gpr[REG_RBX] = ~0ull;
    v->regs.gpr[REG_RDX] = ~0ull;
    v->regs.gpr[REG_RSI] = 0x5151;
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 3);
    cpuid_exit();
    /* 32-bit results zero-extend into the 64-bit registers */
    assert_int_equal(v->regs.gpr[REG_RAX], 0x1C004122);
    assert_int_equal(v->regs.gpr[REG_RBX], 0x01C0003F);
    assert_int_equal(v->regs.gpr[REG_RCX], 0x3F);
    assert_int_equal(v->regs.gpr[REG_RDX], 0);
    assert_int_equal(v->regs.gpr[REG_RSI], 0x5151);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + 3);
    assert_int_equal(v->event_count, 0);
    assert_false(vm.g.ended);
}

static void test_exit_handler_filtered_leaf(void **state)
{
    (void)state;
    v->regs.gpr[REG_RAX] = CPUID_LEAF_FEATURES;
    v->regs.gpr[REG_RCX] = 0;
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 5);
    cpuid_exit();
    assert_int_equal(v->regs.gpr[REG_RAX], LEAF1_EAX);
    assert_int_equal(v->regs.gpr[REG_RBX], LEAF1_EBX_GUEST);
    assert_int_equal(v->regs.gpr[REG_RCX], LEAF1_ECX_FILTERED);
    assert_int_equal(v->regs.gpr[REG_RDX], LEAF1_EDX_FILTERED);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + 5);
}

static void test_exit_handler_rip_wraps_outside_64_bit_mode(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_RIP, 0xFFFFFFFEull);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 3);
    v->regs.gpr[REG_RAX] = 0;
    cpuid_exit();
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), 1);
}

static void test_exit_handler_64_bit_rip(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_CS_AR, CS_AR_64);
    fake_vmcs_set(VMCS_GUEST_EFER, EFER_LME | EFER_LMA);
    fake_vmcs_set(VMCS_ENTRY_CTLS, ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_EFER | ENTRY_LOAD_PAT);
    fake_vmcs_set(VMCS_GUEST_RIP, 0xFFFFFFFEull);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 3);
    fake_vmcs_set(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_STI);
    v->regs.gpr[REG_RAX] = 0;
    cpuid_exit();
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), 0x100000001ull);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_INTERRUPTIBILITY), 0); /* STI blocking ends */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_leaf1_filtered, setup),
        cmocka_unit_test_setup(test_leaf1_hypervisor_bit_set, setup),
        cmocka_unit_test_setup(test_leaf1_osxsave_mirrors_visible_cr4, setup),
        cmocka_unit_test_setup(test_leaf7_hidden_bits, setup),
        cmocka_unit_test_setup(test_leaf7_invpcid_hidden_without_control, setup),
        cmocka_unit_test_setup(test_rdtscp_hidden_without_control, setup),
        cmocka_unit_test_setup(test_invpcid_rdtscp_shown_with_controls, setup),
        cmocka_unit_test_setup(test_pmu_leaf_zeroed, setup),
        cmocka_unit_test_setup(test_topology_leaf_b, setup),
        cmocka_unit_test_setup(test_topology_leaf_1f, setup),
        cmocka_unit_test_setup(test_apic_ids_of_every_vcpu, setup),
        cmocka_unit_test_setup(test_xsave_leaf0_sizes, setup),
        cmocka_unit_test_setup(test_xsave_without_avx512, setup),
        cmocka_unit_test_setup(test_xsave_subleaves, setup),
        cmocka_unit_test_setup(test_xsave_host_without_xsave, setup),
        cmocka_unit_test_setup(test_xcr0_guest_supported, setup),
        cmocka_unit_test_setup(test_hypervisor_signature, setup),
        cmocka_unit_test_setup(test_hypervisor_timing_leaf, setup),
        cmocka_unit_test_setup(test_hypervisor_range_other_leaves_zero, setup),
        cmocka_unit_test_setup(test_other_leaves_pass_through, setup),
        cmocka_unit_test_setup(test_exit_handler_sets_registers_and_rip, setup),
        cmocka_unit_test_setup(test_exit_handler_filtered_leaf, setup),
        cmocka_unit_test_setup(test_exit_handler_rip_wraps_outside_64_bit_mode, setup),
        cmocka_unit_test_setup(test_exit_handler_64_bit_rip, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
