/*
 * VMCS field encodings (Intel SDM vol. 3, Appendix B "Field Encoding in VMCS"), grouped by
 * width and kind. Each list entry is X(NAME, encoding); the enum below gives VMCS_<NAME>, and
 * vmx/vmcs_dump.c uses the same lists to print a VMCS by field name.
 * Encoding bits (§25.11.2): 0 access type (high half of a 64-bit field), 9:1 index,
 * 11:10 type (0 control, 1 read-only data, 2 guest state, 3 host state), 14:13 width
 * (0 16-bit, 1 64-bit, 2 32-bit, 3 natural width).
 */
#pragma once

#define VMCS_FIELDS_16_CONTROL(X)                                                                  \
    X(VPID, 0x0000)                                                                                \
    X(POSTED_INTR_NV, 0x0002)                                                                      \
    X(EPTP_INDEX, 0x0004)

#define VMCS_FIELDS_16_GUEST(X)                                                                    \
    X(GUEST_ES_SELECTOR, 0x0800)                                                                   \
    X(GUEST_CS_SELECTOR, 0x0802)                                                                   \
    X(GUEST_SS_SELECTOR, 0x0804)                                                                   \
    X(GUEST_DS_SELECTOR, 0x0806)                                                                   \
    X(GUEST_FS_SELECTOR, 0x0808)                                                                   \
    X(GUEST_GS_SELECTOR, 0x080A)                                                                   \
    X(GUEST_LDTR_SELECTOR, 0x080C)                                                                 \
    X(GUEST_TR_SELECTOR, 0x080E)                                                                   \
    X(GUEST_INTR_STATUS, 0x0810)                                                                   \
    X(GUEST_PML_INDEX, 0x0812)

#define VMCS_FIELDS_16_HOST(X)                                                                     \
    X(HOST_ES_SELECTOR, 0x0C00)                                                                    \
    X(HOST_CS_SELECTOR, 0x0C02)                                                                    \
    X(HOST_SS_SELECTOR, 0x0C04)                                                                    \
    X(HOST_DS_SELECTOR, 0x0C06)                                                                    \
    X(HOST_FS_SELECTOR, 0x0C08)                                                                    \
    X(HOST_GS_SELECTOR, 0x0C0A)                                                                    \
    X(HOST_TR_SELECTOR, 0x0C0C)

#define VMCS_FIELDS_64_CONTROL(X)                                                                  \
    X(IO_BITMAP_A, 0x2000)                                                                         \
    X(IO_BITMAP_B, 0x2002)                                                                         \
    X(MSR_BITMAP, 0x2004)                                                                          \
    X(EXIT_MSR_STORE_ADDR, 0x2006)                                                                 \
    X(EXIT_MSR_LOAD_ADDR, 0x2008)                                                                  \
    X(ENTRY_MSR_LOAD_ADDR, 0x200A)                                                                 \
    X(EXECUTIVE_VMCS_PTR, 0x200C)                                                                  \
    X(PML_ADDR, 0x200E)                                                                            \
    X(TSC_OFFSET, 0x2010)                                                                          \
    X(VIRTUAL_APIC_ADDR, 0x2012)                                                                   \
    X(APIC_ACCESS_ADDR, 0x2014)                                                                    \
    X(POSTED_INTR_DESC_ADDR, 0x2016)                                                               \
    X(VMFUNC_CONTROLS, 0x2018)                                                                     \
    X(EPT_POINTER, 0x201A)                                                                         \
    X(EOI_EXIT_BITMAP0, 0x201C)                                                                    \
    X(EOI_EXIT_BITMAP1, 0x201E)                                                                    \
    X(EOI_EXIT_BITMAP2, 0x2020)                                                                    \
    X(EOI_EXIT_BITMAP3, 0x2022)                                                                    \
    X(EPTP_LIST_ADDR, 0x2024)                                                                      \
    X(VMREAD_BITMAP, 0x2026)                                                                       \
    X(VMWRITE_BITMAP, 0x2028)                                                                      \
    X(VE_INFO_ADDR, 0x202A)                                                                        \
    X(XSS_EXITING_BITMAP, 0x202C)                                                                  \
    X(ENCLS_EXITING_BITMAP, 0x202E)                                                                \
    X(TSC_MULTIPLIER, 0x2032)

#define VMCS_FIELDS_64_RO(X) X(GUEST_PHYSICAL_ADDRESS, 0x2400)

#define VMCS_FIELDS_64_GUEST(X)                                                                    \
    X(LINK_POINTER, 0x2800)                                                                        \
    X(GUEST_DEBUGCTL, 0x2802)                                                                      \
    X(GUEST_PAT, 0x2804)                                                                           \
    X(GUEST_EFER, 0x2806)                                                                          \
    X(GUEST_PERF_GLOBAL_CTRL, 0x2808)                                                              \
    X(GUEST_PDPTE0, 0x280A)                                                                        \
    X(GUEST_PDPTE1, 0x280C)                                                                        \
    X(GUEST_PDPTE2, 0x280E)                                                                        \
    X(GUEST_PDPTE3, 0x2810)                                                                        \
    X(GUEST_BNDCFGS, 0x2812)

#define VMCS_FIELDS_64_HOST(X)                                                                     \
    X(HOST_PAT, 0x2C00)                                                                            \
    X(HOST_EFER, 0x2C02)                                                                           \
    X(HOST_PERF_GLOBAL_CTRL, 0x2C04)

#define VMCS_FIELDS_32_CONTROL(X)                                                                  \
    X(PIN_BASED_CTLS, 0x4000)                                                                      \
    X(PROC_BASED_CTLS, 0x4002)                                                                     \
    X(EXCEPTION_BITMAP, 0x4004)                                                                    \
    X(PF_ERROR_CODE_MASK, 0x4006)                                                                  \
    X(PF_ERROR_CODE_MATCH, 0x4008)                                                                 \
    X(CR3_TARGET_COUNT, 0x400A)                                                                    \
    X(EXIT_CTLS, 0x400C)                                                                           \
    X(EXIT_MSR_STORE_COUNT, 0x400E)                                                                \
    X(EXIT_MSR_LOAD_COUNT, 0x4010)                                                                 \
    X(ENTRY_CTLS, 0x4012)                                                                          \
    X(ENTRY_MSR_LOAD_COUNT, 0x4014)                                                                \
    X(ENTRY_INTR_INFO, 0x4016)                                                                     \
    X(ENTRY_EXCEPTION_ERROR_CODE, 0x4018)                                                          \
    X(ENTRY_INSTRUCTION_LEN, 0x401A)                                                               \
    X(TPR_THRESHOLD, 0x401C)                                                                       \
    X(PROC_BASED_CTLS2, 0x401E)                                                                    \
    X(PLE_GAP, 0x4020)                                                                             \
    X(PLE_WINDOW, 0x4022)

#define VMCS_FIELDS_32_RO(X)                                                                       \
    X(VM_INSTRUCTION_ERROR, 0x4400)                                                                \
    X(EXIT_REASON, 0x4402)                                                                         \
    X(EXIT_INTR_INFO, 0x4404)                                                                      \
    X(EXIT_INTR_ERROR_CODE, 0x4406)                                                                \
    X(IDT_VECTORING_INFO, 0x4408)                                                                  \
    X(IDT_VECTORING_ERROR_CODE, 0x440A)                                                            \
    X(EXIT_INSTRUCTION_LEN, 0x440C)                                                                \
    X(EXIT_INSTRUCTION_INFO, 0x440E)

#define VMCS_FIELDS_32_GUEST(X)                                                                    \
    X(GUEST_ES_LIMIT, 0x4800)                                                                      \
    X(GUEST_CS_LIMIT, 0x4802)                                                                      \
    X(GUEST_SS_LIMIT, 0x4804)                                                                      \
    X(GUEST_DS_LIMIT, 0x4806)                                                                      \
    X(GUEST_FS_LIMIT, 0x4808)                                                                      \
    X(GUEST_GS_LIMIT, 0x480A)                                                                      \
    X(GUEST_LDTR_LIMIT, 0x480C)                                                                    \
    X(GUEST_TR_LIMIT, 0x480E)                                                                      \
    X(GUEST_GDTR_LIMIT, 0x4810)                                                                    \
    X(GUEST_IDTR_LIMIT, 0x4812)                                                                    \
    X(GUEST_ES_AR, 0x4814)                                                                         \
    X(GUEST_CS_AR, 0x4816)                                                                         \
    X(GUEST_SS_AR, 0x4818)                                                                         \
    X(GUEST_DS_AR, 0x481A)                                                                         \
    X(GUEST_FS_AR, 0x481C)                                                                         \
    X(GUEST_GS_AR, 0x481E)                                                                         \
    X(GUEST_LDTR_AR, 0x4820)                                                                       \
    X(GUEST_TR_AR, 0x4822)                                                                         \
    X(GUEST_INTERRUPTIBILITY, 0x4824)                                                              \
    X(GUEST_ACTIVITY_STATE, 0x4826)                                                                \
    X(GUEST_SMBASE, 0x4828)                                                                        \
    X(GUEST_SYSENTER_CS, 0x482A)                                                                   \
    X(PREEMPTION_TIMER_VALUE, 0x482E)

#define VMCS_FIELDS_32_HOST(X) X(HOST_SYSENTER_CS, 0x4C00)

#define VMCS_FIELDS_NAT_CONTROL(X)                                                                 \
    X(CR0_GUEST_HOST_MASK, 0x6000)                                                                 \
    X(CR4_GUEST_HOST_MASK, 0x6002)                                                                 \
    X(CR0_READ_SHADOW, 0x6004)                                                                     \
    X(CR4_READ_SHADOW, 0x6006)                                                                     \
    X(CR3_TARGET0, 0x6008)                                                                         \
    X(CR3_TARGET1, 0x600A)                                                                         \
    X(CR3_TARGET2, 0x600C)                                                                         \
    X(CR3_TARGET3, 0x600E)

#define VMCS_FIELDS_NAT_RO(X)                                                                      \
    X(EXIT_QUALIFICATION, 0x6400)                                                                  \
    X(IO_RCX, 0x6402)                                                                              \
    X(IO_RSI, 0x6404)                                                                              \
    X(IO_RDI, 0x6406)                                                                              \
    X(IO_RIP, 0x6408)                                                                              \
    X(GUEST_LINEAR_ADDRESS, 0x640A)

#define VMCS_FIELDS_NAT_GUEST(X)                                                                   \
    X(GUEST_CR0, 0x6800)                                                                           \
    X(GUEST_CR3, 0x6802)                                                                           \
    X(GUEST_CR4, 0x6804)                                                                           \
    X(GUEST_ES_BASE, 0x6806)                                                                       \
    X(GUEST_CS_BASE, 0x6808)                                                                       \
    X(GUEST_SS_BASE, 0x680A)                                                                       \
    X(GUEST_DS_BASE, 0x680C)                                                                       \
    X(GUEST_FS_BASE, 0x680E)                                                                       \
    X(GUEST_GS_BASE, 0x6810)                                                                       \
    X(GUEST_LDTR_BASE, 0x6812)                                                                     \
    X(GUEST_TR_BASE, 0x6814)                                                                       \
    X(GUEST_GDTR_BASE, 0x6816)                                                                     \
    X(GUEST_IDTR_BASE, 0x6818)                                                                     \
    X(GUEST_DR7, 0x681A)                                                                           \
    X(GUEST_RSP, 0x681C)                                                                           \
    X(GUEST_RIP, 0x681E)                                                                           \
    X(GUEST_RFLAGS, 0x6820)                                                                        \
    X(GUEST_PENDING_DBG_EXCEPTIONS, 0x6822)                                                        \
    X(GUEST_SYSENTER_ESP, 0x6824)                                                                  \
    X(GUEST_SYSENTER_EIP, 0x6826)

#define VMCS_FIELDS_NAT_HOST(X)                                                                    \
    X(HOST_CR0, 0x6C00)                                                                            \
    X(HOST_CR3, 0x6C02)                                                                            \
    X(HOST_CR4, 0x6C04)                                                                            \
    X(HOST_FS_BASE, 0x6C06)                                                                        \
    X(HOST_GS_BASE, 0x6C08)                                                                        \
    X(HOST_TR_BASE, 0x6C0A)                                                                        \
    X(HOST_GDTR_BASE, 0x6C0C)                                                                      \
    X(HOST_IDTR_BASE, 0x6C0E)                                                                      \
    X(HOST_SYSENTER_ESP, 0x6C10)                                                                   \
    X(HOST_SYSENTER_EIP, 0x6C12)                                                                   \
    X(HOST_RSP, 0x6C14)                                                                            \
    X(HOST_RIP, 0x6C16)

/* Every field, in the order of Appendix B. */
#define VMCS_FIELDS_ALL(X)                                                                         \
    VMCS_FIELDS_16_CONTROL(X)                                                                      \
    VMCS_FIELDS_16_GUEST(X)                                                                        \
    VMCS_FIELDS_16_HOST(X)                                                                         \
    VMCS_FIELDS_64_CONTROL(X)                                                                      \
    VMCS_FIELDS_64_RO(X)                                                                           \
    VMCS_FIELDS_64_GUEST(X)                                                                        \
    VMCS_FIELDS_64_HOST(X)                                                                         \
    VMCS_FIELDS_32_CONTROL(X)                                                                      \
    VMCS_FIELDS_32_RO(X)                                                                           \
    VMCS_FIELDS_32_GUEST(X)                                                                        \
    VMCS_FIELDS_32_HOST(X)                                                                         \
    VMCS_FIELDS_NAT_CONTROL(X)                                                                     \
    VMCS_FIELDS_NAT_RO(X)                                                                          \
    VMCS_FIELDS_NAT_GUEST(X)                                                                       \
    VMCS_FIELDS_NAT_HOST(X)

#define VMCS_FIELD_ENUM(name, enc) VMCS_##name = (enc),
enum vmcs_field { VMCS_FIELDS_ALL(VMCS_FIELD_ENUM) };
#undef VMCS_FIELD_ENUM

#define VMCS_FIELD_WIDTH(enc) (((enc) >> 13) & 3)
#define VMCS_FIELD_TYPE(enc)  (((enc) >> 10) & 3)
enum { VMCS_WIDTH_16 = 0, VMCS_WIDTH_64 = 1, VMCS_WIDTH_32 = 2, VMCS_WIDTH_NATURAL = 3 };
enum { VMCS_TYPE_CONTROL = 0, VMCS_TYPE_RO = 1, VMCS_TYPE_GUEST = 2, VMCS_TYPE_HOST = 3 };
