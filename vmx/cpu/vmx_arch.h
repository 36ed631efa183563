/*
 * VMX architectural constants (Intel SDM vol. 3): control bits (§25.6-25.8), capability MSR
 * layouts (Appendix A), exit reasons (Appendix C), event information formats (§25.8.3, §25.9.2).
 */
#pragma once

/* IA32_VMX_BASIC (Appendix A.1) */
#define VMX_BASIC_REVISION_MASK  0x7FFFFFFFull
#define VMX_BASIC_REGION_SIZE(b) (((b) >> 32) & 0x1FFF)
#define VMX_BASIC_MEMTYPE(b)     (((b) >> 50) & 0xF)
#define VMX_BASIC_MEMTYPE_WB     6
#define VMX_BASIC_INS_OUTS_INFO  (1ull << 54)
#define VMX_BASIC_TRUE_CTLS      (1ull << 55)

/* IA32_VMX_MISC (Appendix A.6) */
#define VMX_MISC_PREEMPT_RATE(m) ((m)&0x1F) /* timer ticks every 2^rate TSC ticks */
#define VMX_MISC_STORE_LMA       (1ull << 5)
#define VMX_MISC_ACTIVITY_HLT    (1ull << 6)

/* IA32_VMX_EPT_VPID_CAP (Appendix A.10) */
#define EPT_CAP_EXEC_ONLY       (1ull << 0)
#define EPT_CAP_WALK_4          (1ull << 6)
#define EPT_CAP_MEMTYPE_UC      (1ull << 8)
#define EPT_CAP_MEMTYPE_WB      (1ull << 14)
#define EPT_CAP_PAGE_2M         (1ull << 16)
#define EPT_CAP_PAGE_1G         (1ull << 17)
#define EPT_CAP_INVEPT          (1ull << 20)
#define EPT_CAP_AD_BITS         (1ull << 21)
#define EPT_CAP_INVEPT_SINGLE   (1ull << 25)
#define EPT_CAP_INVEPT_ALL      (1ull << 26)
#define VPID_CAP_INVVPID        (1ull << 32)
#define VPID_CAP_INVVPID_ADDR   (1ull << 40)
#define VPID_CAP_INVVPID_SINGLE (1ull << 41)
#define VPID_CAP_INVVPID_ALL    (1ull << 42)

/* Pin-based VM-execution controls (§25.6.1) */
#define PIN_EXT_INT_EXITING   (1u << 0)
#define PIN_NMI_EXITING       (1u << 3)
#define PIN_VIRTUAL_NMIS      (1u << 5)
#define PIN_PREEMPTION_TIMER  (1u << 6)
#define PIN_POSTED_INTERRUPTS (1u << 7)

/* Primary processor-based VM-execution controls (§25.6.2) */
#define PROC_INT_WINDOW_EXITING (1u << 2)
#define PROC_TSC_OFFSETTING     (1u << 3)
#define PROC_HLT_EXITING        (1u << 7)
#define PROC_INVLPG_EXITING     (1u << 9)
#define PROC_MWAIT_EXITING      (1u << 10)
#define PROC_RDPMC_EXITING      (1u << 11)
#define PROC_RDTSC_EXITING      (1u << 12)
#define PROC_CR3_LOAD_EXITING   (1u << 15)
#define PROC_CR3_STORE_EXITING  (1u << 16)
#define PROC_CR8_LOAD_EXITING   (1u << 19)
#define PROC_CR8_STORE_EXITING  (1u << 20)
#define PROC_TPR_SHADOW         (1u << 21)
#define PROC_NMI_WINDOW_EXITING (1u << 22)
#define PROC_MOV_DR_EXITING     (1u << 23)
#define PROC_UNCOND_IO_EXITING  (1u << 24)
#define PROC_USE_IO_BITMAPS     (1u << 25)
#define PROC_MONITOR_TRAP_FLAG  (1u << 27)
#define PROC_USE_MSR_BITMAPS    (1u << 28)
#define PROC_MONITOR_EXITING    (1u << 29)
#define PROC_PAUSE_EXITING      (1u << 30)
#define PROC_SECONDARY_CONTROLS (1u << 31)

/* Secondary processor-based VM-execution controls (§25.6.2) */
#define PROC2_VIRT_APIC_ACCESSES (1u << 0)
#define PROC2_ENABLE_EPT         (1u << 1)
#define PROC2_DESC_TABLE_EXITING (1u << 2)
#define PROC2_ENABLE_RDTSCP      (1u << 3)
#define PROC2_VIRT_X2APIC        (1u << 4)
#define PROC2_ENABLE_VPID        (1u << 5)
#define PROC2_WBINVD_EXITING     (1u << 6)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define PROC2_APIC_REG_VIRT      (1u << 8)
#define PROC2_VIRT_INTR_DELIVERY (1u << 9)
#define PROC2_PAUSE_LOOP_EXITING (1u << 10)
#define PROC2_RDRAND_EXITING     (1u << 11)
#define PROC2_ENABLE_INVPCID     (1u << 12)
#define PROC2_ENABLE_VMFUNC      (1u << 13)
#define PROC2_VMCS_SHADOWING     (1u << 14)
#define PROC2_RDSEED_EXITING     (1u << 16)
#define PROC2_ENABLE_PML         (1u << 17)
#define PROC2_EPT_VE             (1u << 18)
#define PROC2_ENABLE_XSAVES      (1u << 20)
#define PROC2_TSC_SCALING        (1u << 25)

/* VM-exit controls (§25.7.1) */
#define EXIT_SAVE_DEBUG_CTLS    (1u << 2)
#define EXIT_HOST_ADDR_SPACE_64 (1u << 9)
#define EXIT_LOAD_PERF_GLOBAL   (1u << 12)
#define EXIT_ACK_INTR_ON_EXIT   (1u << 15)
#define EXIT_SAVE_PAT           (1u << 18)
#define EXIT_LOAD_PAT           (1u << 19)
#define EXIT_SAVE_EFER          (1u << 20)
#define EXIT_LOAD_EFER          (1u << 21)
#define EXIT_SAVE_PREEMPT_TIMER (1u << 22)

/* VM-entry controls (§25.8.1) */
#define ENTRY_LOAD_DEBUG_CTLS    (1u << 2)
#define ENTRY_IA32E_MODE_GUEST   (1u << 9)
#define ENTRY_SMM                (1u << 10)
#define ENTRY_DEACT_DUAL_MONITOR (1u << 11)
#define ENTRY_LOAD_PERF_GLOBAL   (1u << 13)
#define ENTRY_LOAD_PAT           (1u << 14)
#define ENTRY_LOAD_EFER          (1u << 15)

/* Basic exit reasons (Appendix C). VMX_EXIT_COUNT bounds the dispatch table. */
#define VMX_EXIT_REASONS(X)                                                                        \
    X(EXCEPTION_NMI, 0, "exception or NMI")                                                        \
    X(EXTERNAL_INTERRUPT, 1, "external interrupt")                                                 \
    X(TRIPLE_FAULT, 2, "triple fault")                                                             \
    X(INIT, 3, "INIT signal")                                                                      \
    X(SIPI, 4, "start-up IPI")                                                                     \
    X(IO_SMI, 5, "I/O SMI")                                                                        \
    X(OTHER_SMI, 6, "other SMI")                                                                   \
    X(INTERRUPT_WINDOW, 7, "interrupt window")                                                     \
    X(NMI_WINDOW, 8, "NMI window")                                                                 \
    X(TASK_SWITCH, 9, "task switch")                                                               \
    X(CPUID, 10, "CPUID")                                                                          \
    X(GETSEC, 11, "GETSEC")                                                                        \
    X(HLT, 12, "HLT")                                                                              \
    X(INVD, 13, "INVD")                                                                            \
    X(INVLPG, 14, "INVLPG")                                                                        \
    X(RDPMC, 15, "RDPMC")                                                                          \
    X(RDTSC, 16, "RDTSC")                                                                          \
    X(RSM, 17, "RSM")                                                                              \
    X(VMCALL, 18, "VMCALL")                                                                        \
    X(VMCLEAR, 19, "VMCLEAR")                                                                      \
    X(VMLAUNCH, 20, "VMLAUNCH")                                                                    \
    X(VMPTRLD, 21, "VMPTRLD")                                                                      \
    X(VMPTRST, 22, "VMPTRST")                                                                      \
    X(VMREAD, 23, "VMREAD")                                                                        \
    X(VMRESUME, 24, "VMRESUME")                                                                    \
    X(VMWRITE, 25, "VMWRITE")                                                                      \
    X(VMXOFF, 26, "VMXOFF")                                                                        \
    X(VMXON, 27, "VMXON")                                                                          \
    X(CR_ACCESS, 28, "control-register access")                                                    \
    X(DR_ACCESS, 29, "MOV DR")                                                                     \
    X(IO_INSTRUCTION, 30, "I/O instruction")                                                       \
    X(RDMSR, 31, "RDMSR")                                                                          \
    X(WRMSR, 32, "WRMSR")                                                                          \
    X(ENTRY_FAIL_GUEST_STATE, 33, "VM-entry failure: invalid guest state")                         \
    X(ENTRY_FAIL_MSR_LOAD, 34, "VM-entry failure: MSR loading")                                    \
    X(RESERVED_35, 35, "reserved (35)")                                                            \
    X(MWAIT, 36, "MWAIT")                                                                          \
    X(MONITOR_TRAP_FLAG, 37, "monitor trap flag")                                                  \
    X(RESERVED_38, 38, "reserved (38)")                                                            \
    X(MONITOR, 39, "MONITOR")                                                                      \
    X(PAUSE, 40, "PAUSE")                                                                          \
    X(ENTRY_FAIL_MACHINE_CHECK, 41, "VM-entry failure: machine check")                             \
    X(RESERVED_42, 42, "reserved (42)")                                                            \
    X(TPR_BELOW_THRESHOLD, 43, "TPR below threshold")                                              \
    X(APIC_ACCESS, 44, "APIC access")                                                              \
    X(VIRTUALIZED_EOI, 45, "virtualized EOI")                                                      \
    X(GDTR_IDTR_ACCESS, 46, "GDTR or IDTR access")                                                 \
    X(LDTR_TR_ACCESS, 47, "LDTR or TR access")                                                     \
    X(EPT_VIOLATION, 48, "EPT violation")                                                          \
    X(EPT_MISCONFIG, 49, "EPT misconfiguration")                                                   \
    X(INVEPT, 50, "INVEPT")                                                                        \
    X(RDTSCP, 51, "RDTSCP")                                                                        \
    X(PREEMPTION_TIMER, 52, "VMX-preemption timer expired")                                        \
    X(INVVPID, 53, "INVVPID")                                                                      \
    X(WBINVD, 54, "WBINVD or WBNOINVD")                                                            \
    X(XSETBV, 55, "XSETBV")                                                                        \
    X(APIC_WRITE, 56, "APIC write")                                                                \
    X(RDRAND, 57, "RDRAND")                                                                        \
    X(INVPCID, 58, "INVPCID")                                                                      \
    X(VMFUNC, 59, "VMFUNC")                                                                        \
    X(ENCLS, 60, "ENCLS")                                                                          \
    X(RDSEED, 61, "RDSEED")                                                                        \
    X(PML_FULL, 62, "page-modification log full")                                                  \
    X(XSAVES, 63, "XSAVES")                                                                        \
    X(XRSTORS, 64, "XRSTORS")                                                                      \
    X(PCONFIG, 65, "PCONFIG")                                                                      \
    X(SPP_EVENT, 66, "SPP-related event")                                                          \
    X(UMWAIT, 67, "UMWAIT")                                                                        \
    X(TPAUSE, 68, "TPAUSE")                                                                        \
    X(LOADIWKEY, 69, "LOADIWKEY")                                                                  \
    X(ENCLV, 70, "ENCLV")                                                                          \
    X(RESERVED_71, 71, "reserved (71)")                                                            \
    X(ENQCMD_PASID_FAIL, 72, "ENQCMD PASID translation failure")                                   \
    X(ENQCMDS_PASID_FAIL, 73, "ENQCMDS PASID translation failure")                                 \
    X(BUS_LOCK, 74, "bus lock")                                                                    \
    X(INSTRUCTION_TIMEOUT, 75, "instruction timeout")                                              \
    X(SEAMCALL, 76, "SEAMCALL")                                                                    \
    X(TDCALL, 77, "TDCALL")

#define VMX_EXIT_ENUM(name, num, text) VMX_EXIT_##name = (num),
enum vmx_exit_reason { VMX_EXIT_REASONS(VMX_EXIT_ENUM) VMX_EXIT_COUNT };
#undef VMX_EXIT_ENUM

#define VMX_EXIT_REASON_BASIC(r)   ((r)&0xFFFF)
#define VMX_EXIT_REASON_ENTRY_FAIL (1u << 31)

/* VM-entry/exit interruption information and IDT-vectoring information (§25.8.3, §25.9.2) */
#define INTR_INFO_VECTOR_MASK      0xFFu
#define INTR_INFO_TYPE_SHIFT       8
#define INTR_INFO_TYPE_MASK        (7u << 8)
#define INTR_INFO_ERROR_CODE_VALID (1u << 11)
#define INTR_INFO_NMI_UNBLOCK_IRET (1u << 12)
#define INTR_INFO_VALID            (1u << 31)
enum intr_type {
    INTR_TYPE_EXT_INTERRUPT = 0,
    INTR_TYPE_NMI = 2,
    INTR_TYPE_HW_EXCEPTION = 3,
    INTR_TYPE_SW_INTERRUPT = 4,
    INTR_TYPE_PRIV_SW_EXCEPTION = 5,
    INTR_TYPE_SW_EXCEPTION = 6,
    INTR_TYPE_OTHER = 7,
};

/* Guest interruptibility state (§25.4.2, Table 25-3) */
#define INTERRUPTIBILITY_STI    (1u << 0)
#define INTERRUPTIBILITY_MOV_SS (1u << 1)
#define INTERRUPTIBILITY_SMI    (1u << 2)
#define INTERRUPTIBILITY_NMI    (1u << 3)

/* Guest activity states (§25.4.2) */
enum { ACTIVITY_ACTIVE = 0, ACTIVITY_HLT = 1, ACTIVITY_SHUTDOWN = 2, ACTIVITY_WAIT_SIPI = 3 };

/* Segment access rights in the VMCS format (§25.4.1) */
#define SEG_AR_TYPE_MASK          0xFu
#define SEG_AR_S                  (1u << 4)
#define SEG_AR_DPL_SHIFT          5
#define SEG_AR_P                  (1u << 7)
#define SEG_AR_AVL                (1u << 12)
#define SEG_AR_L                  (1u << 13)
#define SEG_AR_DB                 (1u << 14)
#define SEG_AR_G                  (1u << 15)
#define SEG_AR_UNUSABLE           (1u << 16)
#define SEG_TYPE_DATA_RW_ACCESSED 0x3u
#define SEG_TYPE_CODE_RX_ACCESSED 0xBu
#define SEG_TYPE_LDT              0x2u
#define SEG_TYPE_TSS16_BUSY       0x3u
#define SEG_TYPE_TSS64_BUSY       0xBu

/* INVEPT / INVVPID types (§31.3) */
#define INVEPT_SINGLE_CONTEXT  1
#define INVEPT_ALL_CONTEXT     2
#define INVVPID_ADDRESS        0
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXT    2
