/* selftest: VMX instructions raise #UD (hv offers no nested VMX; CPUID hides VMX and CR4.VMXE
   reads 0, so they behave as on a CPU without VMX: SDM vol. 3 §31.3, "#UD if not in VMX
   operation"), as do MONITOR/MWAIT (hidden in CPUID) and GETSEC (CR4.SMXE=0). WBINVD and INVD
   exit and complete. */
#include "guests/selftest/selftest.h"

struct ud_probe {
    const char *name;
    void (*probe)(void *);
    const char *insn;
};

#define UD_PROBE(n)                                                                                \
    {                                                                                              \
        "vmx." #n "_ud", st_probe_##n, st_insn_##n                                                 \
    }

static const struct ud_probe ud_probes[] = {
    UD_PROBE(vmxon),
    UD_PROBE(vmclear),
    UD_PROBE(vmptrld),
    UD_PROBE(vmptrst),
    UD_PROBE(vmread),
    UD_PROBE(vmwrite),
    UD_PROBE(vmlaunch),
    UD_PROBE(vmresume),
    UD_PROBE(vmxoff),
    UD_PROBE(invept),
    UD_PROBE(invvpid),
    UD_PROBE(vmfunc),
    UD_PROBE(getsec),
    {"misc.monitor_ud", st_probe_monitor, st_insn_monitor},
    {"misc.mwait_ud", st_probe_mwait, st_insn_mwait},
};

void st_test_vmx(void)
{
    for (unsigned i = 0; i < sizeof(ud_probes) / sizeof(ud_probes[0]); i++)
        st_expect_fault(ud_probes[i].name, ud_probes[i].probe, NULL, EXC_UD, 0, ud_probes[i].insn,
                        NULL);
    st_expect_no_fault("misc.wbinvd", st_probe_wbinvd, NULL);
    st_expect_no_fault("misc.invd", st_probe_invd, NULL);
}
