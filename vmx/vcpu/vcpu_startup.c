#include "vmx/vcpu/vcpu_startup.h"

void vcpu_take_startup(struct vcpu *v)
{
    __atomic_store_n(&v->startup_pending, 0, __ATOMIC_RELEASE);
}

bool vcpu_runnable(const struct vcpu *v)
{
    return !v->wait_for_sipi;
}
