/*
 * Decoding the instruction behind an MMIO access. An EPT violation names the guest-physical
 * address but not the operand: the VM-exit instruction length and information fields are not
 * valid for it (SDM vol. 3 "Information for VM Exits Due to Instruction Execution"), so hv reads
 * the instruction bytes and decodes them. Only the moves a kernel uses for device registers are
 * accepted (Linux's readl/writel and the local APIC/IOAPIC accessors compile to these):
 *   88 /r MOV r/m8, r8        89 /r MOV r/m, r        8A /r MOV r8, r/m8     8B /r MOV r, r/m
 *   C6 /0 MOV r/m8, imm8      C7 /0 MOV r/m, imm32    0F B6/B7 MOVZX r, r/m8/16
 * with the operand-size (66), address-size (67), segment-override and REX prefixes (SDM vol. 2
 * chapter 2 "Instruction Format"). Anything else is refused: the caller ends the guest.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MMIO_INSN_MAX 15 /* the architectural instruction length limit */

struct mmio_insn {
    unsigned len;       /* instruction length in bytes */
    unsigned size;      /* access size: 1, 2, 4 or 8 */
    bool write;         /* memory is the destination */
    bool has_imm;       /* write: the value is `imm`, not a register */
    uint64_t imm;       /* sign-extended to `size` */
    unsigned reg;       /* the register operand (x86 number 0-15) */
    bool reg_high8;     /* AH, CH, DH, BH: byte register 4-7 without REX */
    unsigned dest_size; /* read: bytes of the register written (MOVZX: 2, 4 or 8) */
    bool zero_extend;   /* read: MOVZX */
};

/* Decodes `bytes` (n available, n <= MMIO_INSN_MAX) for a CPU in 64-bit mode (`long64`) or a
   16/32-bit code segment with default operand size 32 (`op32`) or 16. Returns 0, or -1 for an
   instruction that is not one of the moves above or is longer than n. */
int mmio_decode(const uint8_t *bytes, size_t n, bool long64, bool op32, struct mmio_insn *out);

/* The register value after a read of `value` into it (merging bytes for 8- and 16-bit moves,
   zeroing the upper half for 32-bit ones, as the CPU does). */
uint64_t mmio_read_result(const struct mmio_insn *in, uint64_t old_reg, uint64_t value);
/* The value a write stores, from the register's value (ignored when has_imm). */
uint64_t mmio_write_value(const struct mmio_insn *in, uint64_t reg_value);
