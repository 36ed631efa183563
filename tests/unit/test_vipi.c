/* IPIs between the vCPUs of a virtual PC (vmx/vm/vm_devices.c lapic_ipi, drivers/vdev/vlapic.c
   send_ipi): an ICR write on one vCPU's local APIC delivers fixed, lowest-priority, NMI, INIT
   and SIPI messages to the others as SDM vol. 3 APIC 10.6 says, each target is kicked
   (sched_kick_vcpu), the sender's own share is delivered once, and a message no vCPU takes is
   dropped and counted. Also the IOAPIC's messages to several local APICs and each vCPU's own
   xAPIC page. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "vmx/vcpu/vcpu_startup.h"
#include "vmx/vm/vm.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define SW_ON             (APIC_SVR_ENABLE | APIC_SVR_RESET)
#define VEC               0x41u
#define ICR_FIXED         (APIC_DM_FIXED << APIC_ICR_DM_SHIFT)
#define ICR_LOWEST        (APIC_DM_LOWEST << APIC_ICR_DM_SHIFT)
#define ICR_NMI           (APIC_DM_NMI << APIC_ICR_DM_SHIFT)
#define ICR_INIT          (APIC_DM_INIT << APIC_ICR_DM_SHIFT | APIC_ICR_LEVEL)
#define ICR_INIT_DEASSERT (APIC_DM_INIT << APIC_ICR_DM_SHIFT | APIC_ICR_TRIGGER)
#define ICR_SIPI          (APIC_DM_STARTUP << APIC_ICR_DM_SHIFT)
#define ICR_OTHERS        (APIC_SH_OTHERS << APIC_ICR_SH_SHIFT)
#define ICR_ALL           (APIC_SH_ALL << APIC_ICR_SH_SHIFT)

static struct vm vm;

static void make_vm(unsigned vcpus)
{
    assert_non_null(fake_vm_pc(&vm, "ipitest", vcpus));
    for (unsigned i = 0; i < vcpus; i++) {
        assert_ptr_equal(vm.vcpus[i].lapic, &vm.dev.pc.lapic[i]);
        vlapic_mmio_write(&vm.dev.pc.lapic[i], APIC_OFF_SVR, SW_ON);
    }
    memset(&fake_kicks, 0, sizeof(fake_kicks));
}

static int setup4(void **state)
{
    (void)state;
    make_vm(4);
    return 0;
}

static int setup2(void **state)
{
    (void)state;
    make_vm(2);
    return 0;
}

static struct vlapic *apic(unsigned i)
{
    return &vm.dev.pc.lapic[i];
}

/* vCPU `from` writes its ICR (xAPIC page): the destination, then the low half, which sends. */
static void icr(unsigned from, uint32_t dest, uint32_t lo)
{
    vlapic_mmio_write(apic(from), APIC_OFF_ICR_HI, dest << APIC_ID_SHIFT);
    vlapic_mmio_write(apic(from), APIC_OFF_ICR_LO, lo);
}

/* Which vCPUs have `vector` pending (bit i = vCPU i); each is taken and retired (EOI). */
static unsigned pending_on(unsigned vector)
{
    unsigned set = 0;
    for (unsigned i = 0; i < vm.vcpu_count; i++)
        if (vlapic_pending_intr(apic(i)) == (int)vector) {
            set |= 1u << i;
            vlapic_intr_accepted(apic(i), vector);
            vlapic_mmio_write(apic(i), APIC_OFF_EOI, 0);
        }
    return set;
}

static unsigned nmi_on(void)
{
    unsigned set = 0;
    for (unsigned i = 0; i < vm.vcpu_count; i++)
        if (vlapic_take_nmi(apic(i)))
            set |= 1u << i;
    return set;
}

static unsigned startup_on(uint32_t bit)
{
    unsigned set = 0;
    for (unsigned i = 0; i < vm.vcpu_count; i++)
        if (vm.vcpus[i].startup_pending & bit)
            set |= 1u << i;
    return set;
}

/* The vCPUs kicked since the last call (bit i = vCPU i), and how many kicks in all. */
static unsigned kicked(unsigned *count)
{
    unsigned set = 0;
    for (unsigned k = 0; k < fake_kicks.count && k < FAKE_KICK_LOG; k++)
        set |= 1u << fake_kicks.vcpu[k]->id;
    if (count)
        *count = fake_kicks.count;
    memset(&fake_kicks, 0, sizeof(fake_kicks));
    return set;
}

static void test_fixed_to_one_vcpu(void **state)
{
    (void)state;
    icr(0, 2, ICR_FIXED | VEC);
    assert_int_equal(pending_on(VEC), 1u << 2);
    assert_int_equal(kicked(NULL), 1u << 2);
    icr(3, 0, ICR_FIXED | VEC); /* any vCPU sends, to any other */
    assert_int_equal(pending_on(VEC), 1u << 0);
    assert_int_equal(vm.dev.pc.ipis_dropped, 0);
}

static void test_nmi_to_one_vcpu(void **state)
{
    (void)state;
    icr(0, 1, ICR_NMI);
    assert_int_equal(nmi_on(), 1u << 1);
    assert_int_equal(kicked(NULL), 1u << 1);
}

static void test_init_and_sipi_are_posted_and_kicked(void **state)
{
    (void)state;
    icr(0, 1, ICR_INIT);
    icr(0, 1, ICR_INIT_DEASSERT); /* dropped by the sender's APIC: not an IPI */
    assert_int_equal(startup_on(VCPU_STARTUP_INIT), 1u << 1);
    assert_int_equal(kicked(NULL), 1u << 1);
    icr(0, 1, ICR_SIPI | 0x9A);
    assert_int_equal(startup_on(VCPU_STARTUP_SIPI), 1u << 1);
    assert_int_equal(vm.vcpus[1].sipi_vector, 0x9A);
    assert_int_equal(kicked(NULL), 1u << 1);
    assert_int_equal(vm.dev.pc.ipis_dropped, 0);
    assert_int_equal(pending_on(0x9A), 0); /* a SIPI is no interrupt */
}

/* The whole start-up: the AP waits at creation, INIT-SIPI-SIPI from the BSP starts it. */
static void test_ap_start_up_sequence(void **state)
{
    (void)state;
    struct vcpu *ap = &vm.vcpus[1];
    vcpu_startup_reset_ap(ap);
    assert_false(vcpu_runnable(ap));
    icr(0, 1, ICR_INIT);
    icr(0, 1, ICR_INIT_DEASSERT);
    icr(0, 1, ICR_SIPI | 0x9A);
    fake_vcpu_forget(ap);
    vcpu_take_startup(ap); /* the AP's CPU took INIT and the first SIPI */
    icr(0, 1, ICR_SIPI | 0x9A);
    vcpu_take_startup(ap);
    vcpu_write_back(ap);
    assert_true(vcpu_runnable(ap));
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CS_BASE), 0x9A000);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), 0);
}

/* Physical broadcast: everybody, the sender once (its own share is local, lapic_ipi skips it). */
static void test_broadcast_reaches_everybody_once(void **state)
{
    (void)state;
    unsigned kicks;
    icr(1, XAPIC_BROADCAST, ICR_FIXED | VEC);
    assert_int_equal(pending_on(VEC), 0xFu);
    assert_int_equal(kicked(&kicks), 0xFu);
    assert_int_equal(kicks, 4);
    icr(1, 0, ICR_ALL | ICR_NMI);
    assert_int_equal(nmi_on(), 0xFu);
    assert_int_equal(kicked(&kicks), 0xFu);
    assert_int_equal(kicks, 4);
}

static void test_all_excluding_self(void **state)
{
    (void)state;
    icr(0, 0, ICR_OTHERS | ICR_FIXED | VEC);
    assert_int_equal(pending_on(VEC), 0xEu);
    assert_int_equal(kicked(NULL), 0xEu);
    icr(2, 0, ICR_OTHERS | ICR_NMI);
    assert_int_equal(nmi_on(), 0xBu);
    icr(0, 0, ICR_OTHERS | ICR_INIT); /* Linux's INIT to all APs */
    assert_int_equal(startup_on(VCPU_STARTUP_INIT), 0xEu);
    icr(0, 0, ICR_OTHERS | ICR_SIPI | 0x10);
    assert_int_equal(startup_on(VCPU_STARTUP_SIPI), 0xEu);
}

static void test_self_shorthand_stays_local(void **state)
{
    (void)state;
    icr(2, 0, (APIC_SH_SELF << APIC_ICR_SH_SHIFT) | ICR_FIXED | VEC);
    assert_int_equal(pending_on(VEC), 1u << 2);
    assert_int_equal(vm.dev.pc.ipis_dropped, 0);
}

/* Logical flat model: LDR bit i on vCPU i, as Linux's flat APIC driver programs it. */
static void test_logical_flat_destination(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 4; i++)
        vlapic_mmio_write(apic(i), APIC_OFF_LDR, (1u << i) << APIC_ID_SHIFT);
    icr(0, 0x0C, APIC_ICR_LOGICAL | ICR_FIXED | VEC);
    assert_int_equal(pending_on(VEC), 0xCu);
    icr(0, 0x03, APIC_ICR_LOGICAL | ICR_FIXED | VEC); /* names the sender too: once */
    assert_int_equal(pending_on(VEC), 0x3u);
}

/* Lowest priority is one target: the sender if named (delivered by its APIC), else the
   lowest-numbered named vCPU. */
static void test_lowest_priority_goes_to_one_vcpu(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 4; i++)
        vlapic_mmio_write(apic(i), APIC_OFF_LDR, (1u << i) << APIC_ID_SHIFT);
    icr(0, 0x0C, APIC_ICR_LOGICAL | ICR_LOWEST | VEC);
    assert_int_equal(pending_on(VEC), 1u << 2);
    icr(3, 0x09, APIC_ICR_LOGICAL | ICR_LOWEST | VEC);
    assert_int_equal(pending_on(VEC), 1u << 3);
    icr(1, 0, ICR_OTHERS | ICR_LOWEST | VEC);
    assert_int_equal(pending_on(VEC), 1u << 0);
}

static void test_x2apic_sender(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(vlapic_set_base(apic(i), VLAPIC_BASE_ADDR | APIC_BASE_EN | APIC_BASE_EXTD),
                         0);
    assert_int_equal(vlapic_wrmsr(apic(0), X2APIC_MSR_ICR, (3ull << 32) | ICR_FIXED | VEC), 0);
    assert_int_equal(pending_on(VEC), 1u << 3);
    /* logical: cluster 0, member bits 1 and 2 */
    assert_int_equal(
        vlapic_wrmsr(apic(0), X2APIC_MSR_ICR, (0x6ull << 32) | APIC_ICR_LOGICAL | ICR_FIXED | VEC),
        0);
    assert_int_equal(pending_on(VEC), 0x6u);
    assert_int_equal(
        vlapic_wrmsr(apic(1), X2APIC_MSR_ICR, ((uint64_t)X2APIC_BROADCAST << 32) | ICR_NMI), 0);
    assert_int_equal(nmi_on(), 0xFu);
}

/* An APIC ID no vCPU has: dropped and counted, nobody kicked, nothing pending. */
static void test_nonexistent_destination_is_dropped(void **state)
{
    (void)state;
    icr(0, 7, ICR_FIXED | VEC);
    icr(0, 7, ICR_NMI);
    icr(0, 7, ICR_INIT);
    icr(0, 7, ICR_SIPI | 0x9A);
    assert_int_equal(vm.dev.pc.ipis_dropped, 4);
    assert_int_equal(kicked(NULL), 0);
    assert_int_equal(pending_on(VEC), 0);
    assert_int_equal(nmi_on(), 0);
    assert_int_equal(startup_on(VCPU_STARTUP_INIT | VCPU_STARTUP_SIPI), 0);
    icr(0, 1, ICR_FIXED | VEC); /* the existing one still works */
    assert_int_equal(pending_on(VEC), 1u << 1);
    icr(0, 1, APIC_DM_SMI << APIC_ICR_DM_SHIFT); /* not modelled: dropped and counted too */
    assert_int_equal(vm.dev.pc.ipis_dropped, 5);
    assert_int_equal(kicked(NULL), 1u << 1); /* the fixed one's kick only */
}

/* A one-vCPU VM: a broadcast is the sender's only, and no drop. */
static void test_single_vcpu_broadcast_is_not_a_drop(void **state)
{
    (void)state;
    make_vm(1);
    icr(0, XAPIC_BROADCAST, ICR_FIXED | VEC);
    assert_int_equal(pending_on(VEC), 1u << 0);
    icr(0, 0, ICR_OTHERS | ICR_FIXED | VEC);
    assert_int_equal(vm.dev.pc.ipis_dropped, 1); /* nobody else exists */
}

/* The most vCPUs a guest may have: every local APIC (and its timer) exists, and a broadcast
   reaches them all. */
static void test_eight_vcpus(void **state)
{
    (void)state;
    make_vm(GUEST_VCPUS_MAX);
    icr(5, XAPIC_BROADCAST, ICR_FIXED | VEC);
    assert_int_equal(pending_on(VEC), 0xFFu);
    icr(0, 7, ICR_NMI);
    assert_int_equal(nmi_on(), 1u << 7);
    vlapic_mmio_write(apic(7), APIC_OFF_TDCR, 0xB);   /* divide by 1 */
    vlapic_mmio_write(apic(7), APIC_OFF_TMICT, 1000); /* its timer can be armed */
    assert_true(vdev_timers_next(&vm.dev.timers) != UINT64_MAX);
}

static void ioapic_route(unsigned gsi, uint32_t dest, uint32_t low)
{
    const struct vdev_mmio_range *r = vdev_bus_find_mmio(&vm.dev.bus, VIOAPIC_BASE, 4);
    assert_non_null(r);
    r->ops->write(r->dev, VIOAPIC_IOREGSEL, 4, VIOAPIC_REG_REDTBL + 2 * gsi + 1);
    r->ops->write(r->dev, VIOAPIC_IOWIN, 4, dest << APIC_ID_SHIFT);
    r->ops->write(r->dev, VIOAPIC_IOREGSEL, 4, VIOAPIC_REG_REDTBL + 2 * gsi);
    r->ops->write(r->dev, VIOAPIC_IOWIN, 4, low);
}

/* The IOAPIC's messages use the same destination logic: physical, logical, lowest priority. */
static void test_ioapic_reaches_other_vcpus(void **state)
{
    (void)state;
    ioapic_route(4, 3, VEC);
    vdev_irq_set(&vm.dev.irq, 4, true);
    assert_int_equal(pending_on(VEC), 1u << 3);
    assert_int_equal(kicked(NULL), 1u << 3);
    for (unsigned i = 0; i < 4; i++) {
        vlapic_mmio_write(apic(i), APIC_OFF_DFR, APIC_DFR_CLUSTER);
        vlapic_mmio_write(apic(i), APIC_OFF_LDR, (1u << i) << APIC_ID_SHIFT);
    }
    ioapic_route(5, 0x06, VIOAPIC_RTE_DESTMOD | VEC); /* cluster 0, members 1 and 2 */
    vdev_irq_set(&vm.dev.irq, 5, true);
    assert_int_equal(pending_on(VEC), 0x6u);
    ioapic_route(6, 0x0C, VIOAPIC_RTE_DESTMOD | (APIC_DM_LOWEST << APIC_ICR_DM_SHIFT) | VEC);
    vdev_irq_set(&vm.dev.irq, 6, true);
    assert_int_equal(pending_on(VEC), 1u << 2);
}

/* The xAPIC page is banked: each vCPU's access reaches its own local APIC. */
static void test_each_vcpu_sees_its_own_apic_page(void **state)
{
    (void)state;
    const struct vdev_mmio_range *r =
        vdev_bus_find_mmio(&vm.dev.bus, VLAPIC_BASE_ADDR + APIC_OFF_ID, 4);
    assert_non_null(r);
    for (unsigned i = 0; i < 4; i++) {
        void *dev = 0;
        assert_int_equal(vdev_mmio_dev(r, i, &dev), 0);
        assert_ptr_equal(dev, apic(i));
        assert_int_equal(r->ops->read(dev, APIC_OFF_ID, 4), i << APIC_ID_SHIFT);
    }
    void *none;
    assert_int_equal(vdev_mmio_dev(r, 4, &none), -1); /* no fifth vCPU */
}

#define T4(f) cmocka_unit_test_setup(f, setup4)
#define T2(f) cmocka_unit_test_setup(f, setup2)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T4(test_fixed_to_one_vcpu),
        T4(test_nmi_to_one_vcpu),
        T4(test_init_and_sipi_are_posted_and_kicked),
        T2(test_ap_start_up_sequence),
        T4(test_broadcast_reaches_everybody_once),
        T4(test_all_excluding_self),
        T4(test_self_shorthand_stays_local),
        T4(test_logical_flat_destination),
        T4(test_lowest_priority_goes_to_one_vcpu),
        T4(test_x2apic_sender),
        T2(test_nonexistent_destination_is_dropped),
        T2(test_single_vcpu_broadcast_is_not_a_drop),
        T4(test_eight_vcpus),
        T4(test_ioapic_reaches_other_vcpus),
        T4(test_each_vcpu_sees_its_own_apic_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
