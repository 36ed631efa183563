/* Model-specific register numbers (Intel SDM vol. 4) used by hv. */
#pragma once

#define MSR_IA32_TSC                     0x00000010
#define MSR_IA32_APIC_BASE               0x0000001B
#define MSR_IA32_FEATURE_CONTROL         0x0000003A
#define MSR_IA32_TSC_ADJUST              0x0000003B
#define MSR_IA32_SPEC_CTRL               0x00000048
#define MSR_IA32_BIOS_SIGN_ID            0x0000008B
#define MSR_IA32_MTRRCAP                 0x000000FE
#define MSR_IA32_SYSENTER_CS             0x00000174
#define MSR_IA32_SYSENTER_ESP            0x00000175
#define MSR_IA32_SYSENTER_EIP            0x00000176
#define MSR_IA32_MISC_ENABLE             0x000001A0
#define MSR_IA32_DEBUGCTL                0x000001D9
#define MSR_IA32_MTRR_PHYSBASE0          0x00000200
#define MSR_IA32_MTRR_PHYSMASK9          0x00000213
#define MSR_IA32_MTRR_FIX64K_00000       0x00000250
#define MSR_IA32_MTRR_FIX16K_80000       0x00000258
#define MSR_IA32_MTRR_FIX16K_A0000       0x00000259
#define MSR_IA32_MTRR_FIX4K_C0000        0x00000268
#define MSR_IA32_MTRR_FIX4K_F8000        0x0000026F
#define MSR_IA32_PAT                     0x00000277
#define MSR_IA32_MTRR_DEF_TYPE           0x000002FF
#define MSR_IA32_VMX_BASIC               0x00000480
#define MSR_IA32_VMX_PINBASED_CTLS       0x00000481
#define MSR_IA32_VMX_PROCBASED_CTLS      0x00000482
#define MSR_IA32_VMX_EXIT_CTLS           0x00000483
#define MSR_IA32_VMX_ENTRY_CTLS          0x00000484
#define MSR_IA32_VMX_MISC                0x00000485
#define MSR_IA32_VMX_CR0_FIXED0          0x00000486
#define MSR_IA32_VMX_CR0_FIXED1          0x00000487
#define MSR_IA32_VMX_CR4_FIXED0          0x00000488
#define MSR_IA32_VMX_CR4_FIXED1          0x00000489
#define MSR_IA32_VMX_VMCS_ENUM           0x0000048A
#define MSR_IA32_VMX_PROCBASED_CTLS2     0x0000048B
#define MSR_IA32_VMX_EPT_VPID_CAP        0x0000048C
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x0000048D
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x0000048E
#define MSR_IA32_VMX_TRUE_EXIT_CTLS      0x0000048F
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS     0x00000490
#define MSR_IA32_VMX_VMFUNC              0x00000491
#define MSR_IA32_TSC_DEADLINE            0x000006E0
#define MSR_X2APIC_FIRST                 0x00000800 /* x2APIC registers (SDM vol. 3 §11.12.1) */
#define MSR_X2APIC_LAST                  0x000008FF
#define MSR_IA32_EFER                    0xC0000080
#define MSR_IA32_STAR                    0xC0000081
#define MSR_IA32_LSTAR                   0xC0000082
#define MSR_IA32_CSTAR                   0xC0000083
#define MSR_IA32_FMASK                   0xC0000084
#define MSR_IA32_FS_BASE                 0xC0000100
#define MSR_IA32_GS_BASE                 0xC0000101
#define MSR_IA32_KERNEL_GS_BASE          0xC0000102
#define MSR_IA32_TSC_AUX                 0xC0000103

/* IA32_FEATURE_CONTROL bits (SDM vol. 3 §24.7) */
#define FEATURE_CONTROL_LOCKED          (1ull << 0)
#define FEATURE_CONTROL_VMX_INSIDE_SMX  (1ull << 1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)

/* IA32_EFER bits */
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
