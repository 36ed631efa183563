/* Hypercalls (docs/guest-abi.md): VMCALL from CPL 0, number in EAX, result in EAX. The numbers
   and the info structure are the ABI's (kernel/abi/hv_abi.h). */
#pragma once
#include "kernel/abi/hv_abi.h"
