/* selftest: shared declarations of the test areas (one st_*.c file each) and of the assembly
   probes (probes.asm, mode_switch.asm). */
#pragma once
#include "guests/lib/guest.h"

/* Exception vectors (SDM vol. 3 §6.3.1, Table 6-1). */
#define EXC_UD 6
#define EXC_GP 13
#define EXC_PF 14

/* Control-register, EFER and RFLAGS bits (SDM vol. 3 §2.5, §2.2.1). */
#define CR0_PE         (1ull << 0)
#define CR0_MP         (1ull << 1)
#define CR0_EM         (1ull << 2)
#define CR0_TS         (1ull << 3)
#define CR0_ET         (1ull << 4)
#define CR0_NE         (1ull << 5)
#define CR0_WP         (1ull << 16)
#define CR0_AM         (1ull << 18)
#define CR0_NW         (1ull << 29)
#define CR0_CD         (1ull << 30)
#define CR0_PG         (1ull << 31)
#define CR4_DE         (1ull << 3)
#define CR4_PAE        (1ull << 5)
#define CR4_PGE        (1ull << 7)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_LA57       (1ull << 12)
#define CR4_VMXE       (1ull << 13)
#define CR4_SMXE       (1ull << 14)
#define CR4_PCIDE      (1ull << 17)
#define CR4_OSXSAVE    (1ull << 18)
#define EFER_SCE       (1ull << 0)
#define EFER_LME       (1ull << 8)
#define EFER_LMA       (1ull << 10)
#define EFER_NXE       (1ull << 11)

#define MSR_EFER 0xC0000080u

/* Page-table entry bits (SDM vol. 3 §4.5) and the #PF error code (§4.7). */
#define PTE_P     (1ull << 0)
#define PTE_W     (1ull << 1)
#define PTE_U     (1ull << 2)
#define PTE_PS    (1ull << 7)
#define PF_EC_P   (1u << 0)
#define PF_EC_W   (1u << 1)
#define PAGE_SIZE 4096ull

/* Guest RAM size in bytes, from the Multiboot 1 information. */
extern uint64_t st_ram_bytes;

/* "SKIP name: why" (not counted): the CPU model lacks what the case needs. */
void st_skip(const char *name, const char *why);

/* Runs fn(arg) and checks it raised `vector` with error code `error` at RIP `rip` (NULL: any
   RIP). On success *f (if not NULL) holds the fault. Returns true when the check passed. */
bool st_expect_fault(const char *name, void (*fn)(void *), void *arg, unsigned vector,
                     uint64_t error, const void *rip, struct g_fault *f);
/* Runs fn(arg) and checks that it raised no exception. */
bool st_expect_no_fault(const char *name, void (*fn)(void *), void *arg);

/* Fault-catching accessors for tests that expect #GP or #UD. */
struct st_msr_arg {
    uint32_t msr;
    uint64_t value;
};
void st_do_rdmsr(void *arg); /* struct st_msr_arg: value <- RDMSR(msr) */
void st_do_wrmsr(void *arg); /* struct st_msr_arg */

/* Page tables of our own (st_paging.c): 4-level, identity map of the first GiB, user-accessible
   (for the CPL 3 test), with one 2 MiB region split into 4 KiB pages: ST_PF_NOT_PRESENT is not
   present and ST_PF_READ_ONLY is read-only. */
#define ST_PF_REGION      0x400000ull
#define ST_PF_NOT_PRESENT (ST_PF_REGION + 0x1000)
#define ST_PF_READ_ONLY   (ST_PF_REGION + 0x2000)
void st_paging_install(void);
/* A PAE page-directory-pointer table identity-mapping the first GiB (for mode_switch.asm). */
uint32_t st_pae_pdpt(void);
/* Loads a GDT with user segments and a TSS (for the CPL 3 test). */
#define SEL_USER_DATA 0x33 /* GDT entry 6, RPL 3 */
#define SEL_USER_CODE 0x3B /* GDT entry 7, RPL 3 */
#define SEL_TSS       0x40
void st_user_gdt_install(void);

/* Replaces the handler of IDT gate `vector` and returns the previous one. */
uint64_t st_idt_swap(unsigned vector, uint64_t handler);

/* ---- probes.asm ---- */

/* Probes: st_probe_NAME(arg) executes one instruction labelled st_insn_NAME, so a test can
   check the RIP an exception reports. */
#define ST_DECLARE_PROBE(name)                                                                     \
    void st_probe_##name(void *arg);                                                               \
    extern char st_insn_##name[]
ST_DECLARE_PROBE(vmxon);
ST_DECLARE_PROBE(vmclear);
ST_DECLARE_PROBE(vmptrld);
ST_DECLARE_PROBE(vmptrst);
ST_DECLARE_PROBE(vmread);
ST_DECLARE_PROBE(vmwrite);
ST_DECLARE_PROBE(vmlaunch);
ST_DECLARE_PROBE(vmresume);
ST_DECLARE_PROBE(vmxoff);
ST_DECLARE_PROBE(invept);
ST_DECLARE_PROBE(invvpid);
ST_DECLARE_PROBE(vmfunc);
ST_DECLARE_PROBE(getsec);
ST_DECLARE_PROBE(monitor);
ST_DECLARE_PROBE(mwait);
ST_DECLARE_PROBE(wrmsr_unknown);
ST_DECLARE_PROBE(rdmsr_unknown);
ST_DECLARE_PROBE(xsetbv);
ST_DECLARE_PROBE(xgetbv);
ST_DECLARE_PROBE(mov_cr4);
ST_DECLARE_PROBE(mov_cr0);
ST_DECLARE_PROBE(read_dword);
ST_DECLARE_PROBE(write_dword);
ST_DECLARE_PROBE(wbinvd);
ST_DECLARE_PROBE(invd);

/* XSETBV probe argument. */
struct st_xcr_arg {
    uint32_t index;
    uint32_t pad;
    uint64_t value;
};

/* st_capture_isr: an IDT handler that saves RSI, RDI and RCX into st_captured_regs and
   continues at st_chain_handler (the runtime's own stub). */
void st_capture_isr(void);
extern uint64_t st_captured_regs[3]; /* RSI, RDI, RCX at the exception */
extern uint64_t st_chain_handler;

/* st_count_db: a #DB handler that counts into st_db_count and returns (IRETQ). */
void st_count_db(void);
extern uint64_t st_db_count;

/* Enters CPL 3 at ctx->rip with ctx->rsp (IRETQ); returns only through an exception (g_try). */
struct st_user_ctx {
    uint64_t rip, rsp;
};
void st_enter_user(void *ctx);
void st_user_code(void); /* CPL 3: CPUID(0), then VMCALL at st_insn_user_vmcall, then INT3 */
extern char st_insn_user_vmcall[];
extern uint32_t st_user_cpuid_ebx;
/* Reloads DS, ES, FS, GS, SS with the flat data selector (after CPL 3 nulled them). */
void st_reload_segments(void);
/* VMCALL (unknown number) with patterns in every other register; returns a mask of the
   registers it found changed (bit n = n-th of RBX RCX RDX RSI RDI RBP R8..R15). */
uint32_t st_vmcall_clobbers(void);

/* ---- mode_switch.asm ---- */

/* 64-bit -> compatibility -> paging off (32-bit protected) -> [PAE paging and off again] ->
   real mode -> protected -> 64-bit. Markers land in struct st_mode_data at ST_MODE_DATA. */
#define ST_TRIP_VIA_HV 1u /* toggle CR0.CD with every CR0.PG change, so hv emulates them */
#define ST_TRIP_PAE    2u /* detour through 32-bit PAE paging */
void st_mode_trip(uint32_t flags, uint32_t pae_pdpt);

#define ST_MODE_DATA      0x7000      /* below 1 MiB: written in real mode */
#define ST_RM_STUB        0x8000      /* where the real-mode code is copied */
#define ST_MARK_PM32      0x32334D50u /* "PM32" */
#define ST_MARK_REAL      0x4C414552u /* "REAL" */
#define ST_MARK_PM32_BACK 0x4B434142u /* "BACK" */
#define ST_MARK_PAE       0x20454150u /* "PAE " */
struct st_mode_data {                 /* layout shared with mode_switch.asm (D_* offsets) */
    uint32_t pm32, efer_pm32;
    uint32_t real, real_cs, real_cr0, real_lsr, real_hc, real_si, real_cx;
    uint32_t real_cpuid[4];
    uint32_t pm32_back;
    uint32_t pae, efer_pae, cr0_pae, pae_read;
    uint32_t flags, pae_cr3;
};
#define ST_RM_OUTS_LEN 41 /* "real mode: rep outsb from DS base 0x8000\n" */
#define ST_RM_HC_LEN   29 /* "real mode: console hypercall\n" */

/* ---- the test areas ---- */
/* st_debug.c: the reset state is read first thing (st_capture_reset_state), checked later. */
void st_capture_reset_state(void);
void st_test_debug(void);
/* With cmdline "dr0=HEX": writes DR0, spins until another guest ran, checks DR0 is still its. */
void st_test_debug_switch(const struct mb1_info_min *info);
void st_test_cpuid(void);
void st_test_xsetbv(void);
void st_test_cr(void);
void st_test_msr(void);
void st_test_io(void);
void st_test_string_io(void);
void st_test_hypercall(void);
void st_test_user_mode(void);
void st_test_vmx(void);
void st_test_mode_switch(void);
void st_test_injection(void);
