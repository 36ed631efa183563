/*
 * ACPI table layouts (ACPI Specification 6.3 chapter 5): the hardware format shared by hv's
 * reader of the machine's tables (kernel/acpi_madt.c) and the builder of a guest's tables
 * (vmx/loader/acpi.c). Little-endian, packed, named as in the specification.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define ACPI_RSDP_SIGNATURE "RSD PTR "
#define ACPI_SIG_RSDT       "RSDT"
#define ACPI_SIG_XSDT       "XSDT"
#define ACPI_SIG_MADT       "APIC"
#define ACPI_SIG_LEN        4u

struct acpi_rsdp {     /* §5.2.5.3, revision 2 */
    char signature[8]; /* "RSD PTR " */
    uint8_t checksum;  /* first 20 bytes sum to 0 */
    char oem_id[6];
    uint8_t revision; /* 2: ACPI 2.0+, XSDT present */
    uint32_t rsdt_address;
    uint32_t length; /* 36 */
    uint64_t xsdt_address;
    uint8_t extended_checksum; /* all 36 bytes sum to 0 */
    uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP v2 is 36 bytes");
#define ACPI_RSDP_V1_LEN 20u /* the ACPI 1.0 part, covered by checksum */
/* Revision 0 is ACPI 1.0 (RSDT only); from revision 2 on the RSDP has Length and the XSDT. */
#define ACPI_RSDP_REVISION_XSDT 2u

struct acpi_header { /* §5.2.6 */
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum; /* the whole table sums to 0 */
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    char creator_id[4];
    uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "SDT header is 36 bytes");

struct acpi_gas {     /* §5.2.3.2 Generic Address Structure */
    uint8_t space_id; /* 1 = system I/O */
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size; /* 1 = byte, 2 = word, 3 = dword */
    uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS is 12 bytes");
#define ACPI_GAS_SYSTEM_IO   1u
#define ACPI_GAS_ACCESS_BYTE 1u
#define ACPI_GAS_ACCESS_WORD 2u

struct acpi_fadt {             /* §5.2.9, Table 5-34: revision 6 */
    struct acpi_header header; /* "FACP" */
    uint32_t firmware_ctrl;    /* 36: FACS */
    uint32_t dsdt;             /* 40 */
    uint8_t reserved0;         /* 44 */
    uint8_t preferred_pm_profile;
    uint16_t sci_int; /* 46 */
    uint32_t smi_cmd; /* 48: 0 = no SMI command port, always in ACPI mode */
    uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
    uint32_t pm1a_evt_blk; /* 56 */
    uint32_t pm1b_evt_blk;
    uint32_t pm1a_cnt_blk; /* 64 */
    uint32_t pm1b_cnt_blk;
    uint32_t pm2_cnt_blk;
    uint32_t pm_tmr_blk; /* 76 */
    uint32_t gpe0_blk;
    uint32_t gpe1_blk;
    uint8_t pm1_evt_len; /* 88 */
    uint8_t pm1_cnt_len;
    uint8_t pm2_cnt_len;
    uint8_t pm_tmr_len;
    uint8_t gpe0_blk_len;
    uint8_t gpe1_blk_len;
    uint8_t gpe1_base;
    uint8_t cst_cnt;
    uint16_t p_lvl2_lat; /* 96 */
    uint16_t p_lvl3_lat;
    uint16_t flush_size;
    uint16_t flush_stride;
    uint8_t duty_offset; /* 104 */
    uint8_t duty_width;
    uint8_t day_alrm;
    uint8_t mon_alrm;
    uint8_t century;                /* 108 */
    uint16_t iapc_boot_arch;        /* 109 */
    uint8_t reserved1;              /* 111 */
    uint32_t flags;                 /* 112 */
    struct acpi_gas reset_reg;      /* 116 */
    uint8_t reset_value;            /* 128 */
    uint16_t arm_boot_arch;         /* 129 */
    uint8_t minor_version;          /* 131 */
    uint64_t x_firmware_ctrl;       /* 132 */
    uint64_t x_dsdt;                /* 140 */
    struct acpi_gas x_pm1a_evt_blk; /* 148 */
    struct acpi_gas x_pm1b_evt_blk;
    struct acpi_gas x_pm1a_cnt_blk; /* 172 */
    struct acpi_gas x_pm1b_cnt_blk;
    struct acpi_gas x_pm2_cnt_blk;
    struct acpi_gas x_pm_tmr_blk; /* 208 */
    struct acpi_gas x_gpe0_blk;
    struct acpi_gas x_gpe1_blk;
    struct acpi_gas sleep_control_reg; /* 244 */
    struct acpi_gas sleep_status_reg;
    uint64_t hypervisor_vendor_id; /* 268 */
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6 is 276 bytes");
_Static_assert(offsetof(struct acpi_fadt, pm1a_cnt_blk) == 64, "PM1a_CNT_BLK at 64");
_Static_assert(offsetof(struct acpi_fadt, century) == 108, "CENTURY at 108");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "Flags at 112");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "RESET_REG at 116");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "X_DSDT at 140");
_Static_assert(offsetof(struct acpi_fadt, x_pm1a_cnt_blk) == 172, "X_PM1a_CNT_BLK at 172");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "SLEEP_CONTROL_REG");
#define ACPI_FADT_REVISION       6u
#define ACPI_FADT_MINOR_REVISION 0u
/* FADT flags (Table 5-35) */
#define ACPI_FADT_WBINVD        (1u << 0)
#define ACPI_FADT_PROC_C1       (1u << 2)
#define ACPI_FADT_PWR_BUTTON    (1u << 4) /* 1: no fixed-feature power button */
#define ACPI_FADT_SLP_BUTTON    (1u << 5) /* 1: no fixed-feature sleep button */
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_HW_REDUCED    (1u << 20)
/* IA-PC boot architecture flags (Table 5-36) */
#define ACPI_IAPC_LEGACY_DEVICES  (1u << 0)
#define ACPI_IAPC_8042            (1u << 1)
#define ACPI_IAPC_VGA_NOT_PRESENT (1u << 2)

struct acpi_facs {     /* §5.2.10, version 2 */
    char signature[4]; /* "FACS" (no checksum) */
    uint32_t length;   /* 64 */
    uint32_t hardware_signature;
    uint32_t firmware_waking_vector;
    uint32_t global_lock;
    uint32_t flags;
    uint64_t x_firmware_waking_vector;
    uint8_t version;
    uint8_t reserved0[3];
    uint32_t ospm_flags;
    uint8_t reserved1[24];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS is 64 bytes");
#define ACPI_FACS_ALIGN 64u

struct acpi_madt {             /* §5.2.12 */
    struct acpi_header header; /* "APIC" */
    uint32_t lapic_address;
    uint32_t flags; /* PCAT_COMPAT */
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT fixed part is 44 bytes");
#define ACPI_MADT_REVISION    3u /* what hv's guest tables claim (ACPI 5.0 layout) */
#define ACPI_MADT_PCAT_COMPAT (1u << 0)

/* Interrupt Controller Structure types (Table 5-45) */
#define ACPI_MADT_LAPIC          0u /* §5.2.12.2 */
#define ACPI_MADT_IOAPIC         1u /* §5.2.12.3 */
#define ACPI_MADT_ISO            2u /* §5.2.12.5 */
#define ACPI_MADT_LAPIC_NMI      4u /* §5.2.12.7 */
#define ACPI_MADT_LAPIC_OVERRIDE 5u /* §5.2.12.8 */
#define ACPI_MADT_X2APIC         9u /* §5.2.12.12 */

/* Every Interrupt Controller Structure starts with its type and its length in bytes. */
struct acpi_madt_entry_header {
    uint8_t type, length;
} __attribute__((packed));

struct acpi_madt_lapic {
    uint8_t type, length; /* 0, 8 */
    uint8_t processor_uid;
    uint8_t apic_id;
    uint32_t flags; /* Local APIC Flags (Table 5-47) */
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "Processor Local APIC entry");
/* Local APIC Flags (Table 5-47), also those of the x2APIC entry */
#define ACPI_MADT_ENABLED        (1u << 0)
#define ACPI_MADT_ONLINE_CAPABLE (1u << 1) /* ACPI 6.3: may be enabled at run time */
/* The MADT revision that defines Online Capable (ACPI 6.3); bit 1 is reserved before it. */
#define ACPI_MADT_REVISION_ONLINE_CAPABLE 5u

struct acpi_madt_ioapic {
    uint8_t type, length; /* 1, 12 */
    uint8_t ioapic_id;
    uint8_t reserved;
    uint32_t address;
    uint32_t gsi_base;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "I/O APIC entry");

struct acpi_madt_iso {
    uint8_t type, length; /* 2, 10 */
    uint8_t bus;          /* 0 = ISA */
    uint8_t source;       /* ISA IRQ */
    uint32_t gsi;
    uint16_t flags; /* MPS INTI flags */
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_iso) == 10, "Interrupt Source Override entry");

struct acpi_madt_lapic_nmi {
    uint8_t type, length;  /* 4, 6 */
    uint8_t processor_uid; /* 0xFF = all processors */
    uint16_t flags;
    uint8_t lint; /* LINT0 or LINT1 */
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "Local APIC NMI entry");

struct acpi_madt_lapic_override {
    uint8_t type, length; /* 5, 12 */
    uint16_t reserved;
    uint64_t lapic_address; /* replaces the MADT's 32-bit Local Interrupt Controller Address */
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_lapic_override) == 12, "Local APIC Address Override");

struct acpi_madt_x2apic {
    uint8_t type, length; /* 9, 16 */
    uint16_t reserved;
    uint32_t x2apic_id;
    uint32_t flags; /* Local APIC Flags (Table 5-47) */
    uint32_t processor_uid;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_x2apic) == 16, "Processor Local x2APIC entry");
#define ACPI_ALL_PROCESSORS 0xFFu

/* MPS INTI flags (Table 5-50): polarity bits 1:0, trigger mode bits 3:2. */
#define ACPI_INTI_ACTIVE_HIGH 0x1u
#define ACPI_INTI_EDGE        (0x1u << 2)
#define ACPI_INTI_LEVEL       (0x3u << 2)

/* The ACPI checksum rule: the bytes sum to 0 modulo 256 (returns the sum). */
uint8_t acpi_checksum(const void *p, size_t len);
