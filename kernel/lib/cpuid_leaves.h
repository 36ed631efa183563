/* CPUID leaves and feature bits hv filters for guests (SDM vol. 2A, CPUID). */
#pragma once

#define CPUID_LEAF_VENDOR       0x00
#define CPUID_LEAF_FEATURES     0x01
#define CPUID_LEAF_EXT_FEATURES 0x07
#define CPUID_LEAF_POWER        0x06 /* thermal and power management (APERF/MPERF, EPB, HWP) */
#define CPUID_LEAF_PMU          0x0A
#define CPUID_LEAF_TOPOLOGY     0x0B
#define CPUID_LEAF_XSAVE        0x0D
#define CPUID_LEAF_TSC          0x15 /* EAX/EBX: TSC/crystal ratio; ECX: crystal Hz */
#define CPUID_LEAF_FREQUENCY    0x16 /* EAX: base MHz; EBX: maximum MHz; ECX: bus MHz */
#define CPUID_LEAF_TOPOLOGY_V2  0x1F
#define CPUID_LEAF_EXT_BASE     0x80000000 /* EAX: the highest extended leaf */

/* Leaf 1 ECX / EDX / EBX */
#define CPUID_1_ECX_DTES64        (1u << 2)
#define CPUID_1_ECX_MONITOR       (1u << 3)
#define CPUID_1_ECX_DS_CPL        (1u << 4)
#define CPUID_1_ECX_VMX           (1u << 5)
#define CPUID_1_ECX_SMX           (1u << 6)
#define CPUID_1_ECX_EST           (1u << 7)
#define CPUID_1_ECX_TM2           (1u << 8)
#define CPUID_1_ECX_X2APIC        (1u << 21) /* hv offers no x2APIC */
#define CPUID_1_ECX_TSC_DEADLINE  (1u << 24) /* nor the TSC-deadline MSR */
#define CPUID_1_ECX_PDCM          (1u << 15)
#define CPUID_1_ECX_XSAVE         (1u << 26)
#define CPUID_1_ECX_OSXSAVE       (1u << 27)
#define CPUID_1_ECX_HYPERVISOR    (1u << 31)
#define CPUID_1_EDX_MCE           (1u << 7)
#define CPUID_1_EDX_APIC          (1u << 9)
#define CPUID_1_EDX_MCA           (1u << 14)
#define CPUID_1_EDX_DS            (1u << 21)
#define CPUID_1_EDX_ACPI          (1u << 22)
#define CPUID_1_EDX_HTT           (1u << 28)
#define CPUID_1_EDX_TM            (1u << 29)
#define CPUID_1_EDX_PBE           (1u << 31)
#define CPUID_1_EBX_APIC_ID_SHIFT 24
#define CPUID_1_EBX_LOGICAL_SHIFT 16
#define CPUID_1_EBX_LOW_MASK      0xFFFFu /* brand index and CLFLUSH size stay */

/* Leaf 7 subleaf 0 */
#define CPUID_7_EBX_TSC_ADJUST       (1u << 1)
#define CPUID_7_EDX_IBRS             (1u << 26)
#define CPUID_7_EDX_STIBP            (1u << 27)
#define CPUID_7_EDX_ARCH_CAPS        (1u << 29)
#define CPUID_7_EDX_SSBD             (1u << 31)
#define CPUID_7_EBX_SGX              (1u << 2)
#define CPUID_7_EBX_INVPCID          (1u << 10)
#define CPUID_LEAF_EXT_PROC_FEATURES 0x80000001
#define CPUID_80000001_EDX_RDTSCP    (1u << 27)
#define CPUID_7_EBX_MPX              (1u << 14)
#define CPUID_7_EBX_PT               (1u << 25)
#define CPUID_7_ECX_WAITPKG          (1u << 5)
#define CPUID_7_ECX_SGX_LC           (1u << 30)

/* Leaf 0xB / 0x1F level types */
#define TOPOLOGY_LEVEL_SMT        1
#define TOPOLOGY_LEVEL_CORE       2
#define TOPOLOGY_LEVEL_TYPE_SHIFT 8

/* Leaf 0xD subleaf 1 */
#define CPUID_D1_EAX_XSAVES (1u << 3)

/* XCR0 components (SDM vol. 1 §13.1) */
#define XCR0_X87       (1ull << 0)
#define XCR0_SSE       (1ull << 1)
#define XCR0_AVX       (1ull << 2)
#define XCR0_BNDREGS   (1ull << 3)
#define XCR0_BNDCSR    (1ull << 4)
#define XCR0_OPMASK    (1ull << 5)
#define XCR0_ZMM_HI256 (1ull << 6)
#define XCR0_HI16_ZMM  (1ull << 7)
#define XCR0_AVX512    (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)
/* What a guest may enable, if the host CPU supports it too. */
#define XCR0_GUEST_POLICY (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512)
