/* Hypercalls (docs/guest-abi.md): VMCALL from CPL 0, number in EAX, result in EAX. */
#pragma once
#include <stdint.h>

#define HC_EXIT          0
#define HC_CONSOLE_WRITE 1
#define HC_INFO          2
#define HC_ENOSYS        ((uint64_t)-1)
#define HC_EINVAL        ((uint64_t)-2)
#define HC_CONSOLE_MAX   4096 /* bytes one console-write call may pass */
#define HC_ABI_VERSION   1

/* Filled by HC_INFO at the guest-physical address in EBX. */
struct hc_info {
    uint32_t abi_version;
    uint32_t vcpu_id;
    uint64_t tsc_khz; /* 0 when unknown */
    char hv_version[16];
    char name[32];
} __attribute__((packed));
