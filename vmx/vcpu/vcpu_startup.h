/* Virtual INIT and SIPI (SDM vol. 3 §9.4): placeholder interface, the full one is being built. */
#pragma once
#include <stdbool.h>
#include "vmx/vcpu/vcpu.h"

void vcpu_take_startup(struct vcpu *v);
bool vcpu_runnable(const struct vcpu *v);
