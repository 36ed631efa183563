/* CPU exceptions taken by hv itself (not by guests). */
#pragma once
#include <stdint.h>

/* Layout pushed by kernel/isr.asm, lowest address first. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

void trap_init(void); /* builds and loads the IDT (all 32 exception vectors) */
void trap_load(void); /* loads it on an AP (one IDT for every CPU: it is read-only) */
void trap_dispatch(struct trap_frame *f);
const char *exception_name(unsigned vector);
/* Prints "backtrace:" and the return addresses of the frame-pointer chain starting at rbp. */
void backtrace_from(uint64_t rbp);
