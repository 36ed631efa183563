/* The guest page-walk context of a vCPU, read from its current VMCS. */
#pragma once
#include "vmx/vcpu/guest_walk.h"
#include "vmx/vcpu/vcpu.h"

void vcpu_walk_ctx(struct vcpu *v, struct walk_ctx *c);
/* Injects the #PF a failed walk reports (CR2 and error code) or #GP for a non-canonical address;
   ends the VM for data outside guest RAM (as the EPT violation hardware would raise, `access`
   being WALK_READ/WALK_WRITE/WALK_FETCH) or for invalid paging structures. */
void vcpu_walk_failed(struct vcpu *v, int result, const struct walk_fault *f, unsigned access);
