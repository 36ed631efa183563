/*
 * The guest ABI's constants (docs/guest-abi.md), in one place: hv, the C guests and the NASM
 * guests all use these. Only `#define NAME VALUE` lines with plain numeric values are turned into
 * the NASM include (tools/gen-abi-inc writes build/abi/hv_abi.inc from this file), so keep the
 * values literal here; C-only parts go below the line that starts with the HV_ABI_C_ONLY marker.
 */
#pragma once

/* ---- ports (§5) ---- */
#define HV_ABI_COM1            0x3F8  /* the 16550 console */
#define HV_ABI_COM1_LSR        0x3FD  /* its line status register */
#define HV_ABI_DEBUG_EXIT_PORT 0xF4   /* isa-debug-exit: OUT V ends the guest with exit(V) */
#define HV_ABI_ACPI_PM1A_CNT   0x604  /* ACPI PM1a control block: power-off */
#define HV_ABI_ACPI_SLEEP_S5   0x2000 /* SLP_EN with SLP_TYP 0, as QEMU's q35 */

/* ---- hypercalls (§6): VMCALL from CPL 0, number in EAX, arguments in EBX and ECX ---- */
#define HC_EXIT          0
#define HC_CONSOLE_WRITE 1
#define HC_INFO          2
#define HC_CONSOLE_MAX   4096 /* bytes one console-write call may pass */
#define HC_ABI_VERSION   1

/* ---- CPUID (§3): hypervisor leaves ---- */
#define HV_ABI_CPUID_BASE   0x40000000 /* EAX: highest leaf; EBX ECX EDX: the signature */
#define HV_ABI_CPUID_TIMING 0x40000010 /* EAX: TSC frequency in kHz (0: unknown) */
#define HV_ABI_CPUID_LAST   0x400000FF

/* HV_ABI_C_ONLY: nothing below is copied into the NASM include. */
#include <stdint.h>

#define HC_ENOSYS          ((uint64_t)-1)
#define HC_EINVAL          ((uint64_t)-2)
#define HV_CPUID_SIGNATURE "hvHypervisor" /* 12 bytes: EBX, ECX, EDX of HV_ABI_CPUID_BASE */

/* Filled by HC_INFO at the guest-physical address in EBX. */
struct hc_info {
    uint32_t abi_version;
    uint32_t vcpu_id;
    uint64_t tsc_khz; /* 0 when unknown */
    char hv_version[16];
    char name[32];
} __attribute__((packed));
