/* selftest: the guest switches modes on its own (mode_switch.asm): 64-bit -> 32-bit protected
   (paging off) -> [PAE paging] -> real mode -> protected -> 64-bit, once with the CPU doing the
   CR0.PG changes and once with hv emulating them; then checks the markers each mode left. */
#include "guests/selftest/selftest.h"
#include "kernel/lib/fmt.h"

#define RM_SEG       (ST_RM_STUB >> 4)
#define LSR_TX_EMPTY 0x60
#define CPUID_VENDOR 0

static void check_trip(const char *tag, uint32_t flags)
{
    volatile struct st_mode_data *d = (volatile struct st_mode_data *)(uintptr_t)ST_MODE_DATA;
    uint8_t *raw = (uint8_t *)(uintptr_t)ST_MODE_DATA;
    for (unsigned i = 0; i < sizeof(*d); i++)
        raw[i] = 0;
    uint64_t cr0 = hw_read_cr0(), cr3 = hw_read_cr3(), cr4 = hw_read_cr4();
    uint64_t efer = hw_rdmsr(MSR_EFER);

    st_mode_trip(flags, st_pae_pdpt());

    char name[64];
    uint32_t vendor[4];
    g_cpuid(CPUID_VENDOR, 0, vendor);
#define NAME(what) (fmt_snprintf(name, sizeof(name), "%s.%s", tag, what), name)
    g_check(d->pm32 == ST_MARK_PM32 && !(d->efer_pm32 & (EFER_LME | EFER_LMA)), NAME("pm32"),
            "marker 0x%x, EFER 0x%x (want LME=LMA=0)", d->pm32, d->efer_pm32);
    if (flags & ST_TRIP_PAE)
        g_check(d->pae == ST_MARK_PAE && !(d->efer_pae & EFER_LMA) && (d->cr0_pae & CR0_PG) &&
                    d->pae_read == ST_MARK_PM32,
                NAME("pae_paging"), "marker 0x%x, EFER 0x%x, CR0 0x%x, read through PAE 0x%x",
                d->pae, d->efer_pae, d->cr0_pae, d->pae_read);
    g_check(d->real == ST_MARK_REAL && d->real_cs == RM_SEG && !(d->real_cr0 & CR0_PE) &&
                !(d->real_cr0 & CR0_PG),
            NAME("real_mode"), "marker 0x%x, CS 0x%x, CR0 0x%x", d->real, d->real_cs, d->real_cr0);
    g_check(d->real_lsr == LSR_TX_EMPTY, NAME("real_in"), "LSR 0x%x", d->real_lsr);
    g_check(d->real_cpuid[0] == vendor[0] && d->real_cpuid[1] == vendor[1] &&
                d->real_cpuid[2] == vendor[2] && d->real_cpuid[3] == vendor[3],
            NAME("real_cpuid"), "leaf 0 EAX 0x%x EBX 0x%x, in 64-bit mode 0x%x 0x%x",
            d->real_cpuid[0], d->real_cpuid[1], vendor[0], vendor[1]);
    g_check(d->real_si == ST_RM_OUTS_LEN && d->real_cx == 0, NAME("real_rep_outsb"),
            "SI advanced by %u (want %u), CX %u", d->real_si, ST_RM_OUTS_LEN, d->real_cx);
    g_check(d->real_hc == ST_RM_HC_LEN, NAME("real_hypercall"), "returned 0x%x, want %u",
            d->real_hc, ST_RM_HC_LEN);
    g_check(d->pm32_back == ST_MARK_PM32_BACK, NAME("pm32_back"), "marker 0x%x", d->pm32_back);
    uint64_t cr0_after = hw_read_cr0(), efer_after = hw_rdmsr(MSR_EFER);
    g_check(cr0_after == cr0 && efer_after == efer && hw_read_cr3() == cr3 && hw_read_cr4() == cr4,
            NAME("long_mode_back"),
            "CR0 0x%llx (was 0x%llx) EFER 0x%llx (was 0x%llx) CR3 0x%llx CR4 0x%llx",
            (unsigned long long)cr0_after, (unsigned long long)cr0, (unsigned long long)efer_after,
            (unsigned long long)efer, (unsigned long long)hw_read_cr3(),
            (unsigned long long)hw_read_cr4());
#undef NAME
}

void st_test_mode_switch(void)
{
    check_trip("mode.cpu", 0);
    check_trip("mode.cpu_pae", ST_TRIP_PAE);
    check_trip("mode.hv_pae", ST_TRIP_VIA_HV | ST_TRIP_PAE);
}
