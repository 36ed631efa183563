/*
 * The guest's own page walk (guest-linear -> guest-physical) and guest-memory copy helpers for
 * exit handlers that must touch guest memory by linear address (string I/O, hypercalls).
 *
 * Pure software: the caller snapshots CR0/CR3/CR4/EFER/CPL/RFLAGS.AC (and the PDPTEs for PAE
 * paging) from the VMCS into a struct walk_ctx; nothing here touches the VMCS, so the walker
 * can be fuzzed on the host.
 *
 * Modes (SDM vol. 3 §4.1.1, Table 4-1), chosen by CR0.PG, CR4.PAE, EFER.LMA and CR4.LA57:
 *   paging off           gpa = gla (only the low 32 bits outside long mode)
 *   32-bit paging §4.3   4 KiB pages, 4 MiB pages when CR4.PSE (with PSE-36 address bits 39:32)
 *   PAE paging §4.4      PDPTEs taken from walk_ctx.pdpte (as loaded, VMCS_GUEST_PDPTEn),
 *                        4 KiB and 2 MiB pages
 *   4-level paging §4.5  4 KiB, 2 MiB and 1 GiB pages (5-level, CR4.LA57, is handled the same way
 *                        with one more level)
 * Access rights follow §4.6 (R/W with CR0.WP, U/S, XD with EFER.NXE, SMEP, SMAP with RFLAGS.AC
 * for explicit accesses) and a fault's error code follows §4.7.
 *
 * Deviations from hardware, all deliberate:
 *  - Accessed and dirty flags are never set: hv's emulated accesses are rare and a guest OS that
 *    relies on them for pages only hv touched (e.g. an I/O string buffer) at worst sees a page as
 *    clean/unused for a moment; writing guest tables behind the guest's back would need atomic
 *    read-modify-write on guest memory that another vCPU may be changing.
 *  - Reserved address bits are judged against WALK_MAXPHYADDR, not the host CPU's MAXPHYADDR.
 *  - Protection keys (CR4.PKE/PKS), CET shadow-stack accesses, HLAT and SGX are not modelled.
 *  - Paging-structure caches (TLBs) are not modelled: every walk reads the tables as they are.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mm/guest_mem.h"

/* The physical-address width assumed for reserved-bit checks (CPUID.80000008H:EAX[7:0] on the
   server parts hv targets). Address bits 51:46 of a 4-level entry (62:46 with PAE) are therefore
   reserved. A legitimate guest never sets them: its RAM is far below 2^46. */
#define WALK_MAXPHYADDR 46

/* Paging-structure entry bits, common to all formats (SDM vol. 3 Tables 4-4..4-6 (32-bit),
   4-8..4-11 (PAE), 4-14..4-20 (4-level)). */
#define GPTE_P         (1ull << 0)  /* present */
#define GPTE_RW        (1ull << 1)  /* writable */
#define GPTE_US        (1ull << 2)  /* user-mode accessible */
#define GPTE_PWT       (1ull << 3)  /* page-level write-through */
#define GPTE_PCD       (1ull << 4)  /* page-level cache disable */
#define GPTE_A         (1ull << 5)  /* accessed */
#define GPTE_D         (1ull << 6)  /* dirty (leaf entries only) */
#define GPTE_PS        (1ull << 7)  /* page size: this entry maps a large page */
#define GPTE_G         (1ull << 8)  /* global (leaf entries only) */
#define GPTE_PAT_4K    (1ull << 7)  /* PAT bit of a 4 KiB PTE (same position as PS) */
#define GPTE_PAT_BIG   (1ull << 12) /* PAT bit of a 4 MiB / 2 MiB / 1 GiB page entry */
#define GPTE_XD        (1ull << 63) /* execute-disable (PAE and 4-level; reserved when !NXE) */
#define GPTE_ENTRIES   512          /* entries per PAE / 4-level table (8 bytes each) */
#define GPTE32_ENTRIES 1024         /* entries per 32-bit paging table (4 bytes each) */

/* 32-bit paging, 4 MiB page PDE (Table 4-5): bits 20:13 hold physical-address bits 39:32
   (PSE-36); bit 21 is reserved. */
#define GPDE32_4M_HIGH_ADDR_SHIFT 13
#define GPDE32_4M_HIGH_ADDR_BITS  8
#define GPDE32_4M_RSVD            (1ull << 21)

/* Page-fault error code (SDM vol. 3 §4.7, Figure 4-12). */
#define PF_EC_P    (1u << 0) /* 0: not present; 1: protection or reserved-bit violation */
#define PF_EC_W    (1u << 1) /* the access was a write */
#define PF_EC_U    (1u << 2) /* the access was a user-mode access */
#define PF_EC_RSVD (1u << 3) /* a reserved bit was set in a paging-structure entry */
#define PF_EC_I    (1u << 4) /* instruction fetch (only with SMEP, or PAE/4-level with NXE) */

/* Kind of access, for guest_walk's `access`. A data read is WALK_READ; WALK_WRITE and
   WALK_FETCH are exclusive. WALK_IMPLICIT_SUPERVISOR marks an implicit supervisor-mode access
   (§4.6: e.g. reading the GDT/IDT/TSS), which is a supervisor access even at CPL 3 and is never
   excused from SMAP by RFLAGS.AC. */
enum {
    WALK_READ = 0,
    WALK_WRITE = 1u << 0,
    WALK_FETCH = 1u << 1,
    WALK_IMPLICIT_SUPERVISOR = 1u << 2
};

struct walk_ctx {
    uint64_t cr0, cr3, cr4, efer;
    unsigned cpl; /* 0..3; 3 = user-mode access (unless WALK_IMPLICIT_SUPERVISOR) */
    bool
        rflags_ac; /* SMAP: supervisor access to user pages allowed when AC=1 (explicit accesses) */
    const struct guest_mem *mem;
    uint64_t pdpte[4]; /* PAE without long mode: the PDPTEs as loaded (VMCS_GUEST_PDPTEn) */
};

/* The #PF to inject: error code per §4.7 and the faulting linear address for CR2. */
struct walk_fault {
    uint32_t error_code;
    uint64_t cr2;
    uint64_t gpa; /* WALK_OUTSIDE_RAM: the first guest-physical address outside guest RAM */
};

enum walk_result {
    WALK_OK = 0,
    WALK_PAGE_FAULT = -1, /* inject #PF with *f */
    /* A paging-structure table lies outside guest RAM, or the register state is impossible
       (EFER.LMA without CR4.PAE, a loaded PDPTE with reserved bits set, §4.4.1): the caller kills
       the guest. */
    WALK_BAD_TABLE = -2,
    /* 4-level/5-level paging and gla is not canonical: hardware raises #GP(0) (or #SS(0) for a
       stack access), not #PF; the caller decides which. *f is not written. */
    WALK_NON_CANONICAL = -3,
    /* Copy helpers only: the translated data lies outside guest RAM (*f's gpa says where). On
       hardware that access is an EPT violation, and the caller treats it as one. */
    WALK_OUTSIDE_RAM = -4,
};

/*
 * Translates gla for `access` (WALK_* flags). Returns WALK_OK with *gpa set; WALK_PAGE_FAULT
 * with *f = {error code, cr2 = gla} (gla truncated to 32 bits outside long mode, as the CPU
 * would load CR2); WALK_BAD_TABLE; or WALK_NON_CANONICAL. *gpa is written only on WALK_OK and
 * *f only on WALK_PAGE_FAULT. A successful translation may name a GPA outside guest RAM (MMIO or
 * nothing): that is the caller's business. Invalid `access` flags or cpl > 3 are hv bugs
 * (panic).
 */
int guest_walk(const struct walk_ctx *c, uint64_t gla, unsigned access, uint64_t *gpa,
               struct walk_fault *f);

/*
 * Copy helpers. The GVA variants translate page by page; return 0 or a walk_result
 * (WALK_OUTSIDE_RAM when a translated page lies outside guest RAM).
 *
 * guest_read_gva checks `access_flags` on every page (normally WALK_READ, or WALK_FETCH to read
 * instruction bytes, optionally | WALK_IMPLICIT_SUPERVISOR). It stops at the first failing page:
 * the bytes of the pages before it are already in dst, and on WALK_PAGE_FAULT f->cr2 is the
 * first byte of the failing page (or gva itself when the first page fails).
 *
 * guest_write_gva checks every page for WALK_WRITE before writing any byte, so a #PF or a
 * non-canonical address leaves guest memory untouched, as for a single instruction's write.
 * (Only if another vCPU changes the tables between the check and the write can part of the data
 * land before the fault is reported.)
 *
 * The GPA variants are bounds-checked against guest RAM: 0, or WALK_BAD_TABLE with nothing
 * copied.
 */
int guest_read_gva(const struct walk_ctx *c, uint64_t gva, void *dst, size_t len,
                   unsigned access_flags, struct walk_fault *f);
int guest_write_gva(const struct walk_ctx *c, uint64_t gva, const void *src, size_t len,
                    struct walk_fault *f);
int guest_read_gpa(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len);
int guest_write_gpa(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len);
