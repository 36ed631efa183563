/* Decoding MMIO moves (vmx/exit/mmio_decode.h). */
#include "vmx/exit/mmio_decode.h"
#include "kernel/lib/string.h"

#define PREFIX_OPSIZE   0x66
#define PREFIX_ADDRSIZE 0x67
#define REX_FIRST       0x40
#define REX_LAST        0x4F
#define REX_W           0x8
#define REX_R           0x4
#define OP_TWO_BYTE     0x0F
#define OP_MOV_RM8_R8   0x88
#define OP_MOV_RM_R     0x89
#define OP_MOV_R8_RM8   0x8A
#define OP_MOV_R_RM     0x8B
#define OP_MOV_RM8_IMM  0xC6
#define OP_MOV_RM_IMM   0xC7
#define OP2_MOVZX_8     0xB6
#define OP2_MOVZX_16    0xB7
#define MODRM_MOD(m)    ((m) >> 6)
#define MODRM_REG(m)    (((m) >> 3) & 7)
#define MODRM_RM(m)     ((m)&7)
#define MOD_REGISTER    3
#define RM_SIB          4
#define RM_DISP_ONLY    5 /* mod 0: disp32 (RIP-relative in 64-bit mode) */
#define SIB_BASE(s)     ((s)&7)
#define BASE_NONE       5 /* with mod 0: no base, disp32 */
#define HIGH8_FIRST     4 /* AH, CH, DH, BH without REX */

static bool is_segment_override(uint8_t b)
{
    return b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x64 || b == 0x65;
}

struct cursor {
    const uint8_t *b;
    size_t n, i;
};

static int take(struct cursor *c, uint8_t *v)
{
    if (c->i >= c->n)
        return -1;
    *v = c->b[c->i++];
    return 0;
}

/* Length of the ModRM memory operand after the ModRM byte (SIB and displacement). */
static int skip_memory_operand(struct cursor *c, uint8_t modrm, bool addr16)
{
    unsigned mod = MODRM_MOD(modrm), rm = MODRM_RM(modrm);
    size_t disp;
    if (mod == MOD_REGISTER)
        return -1; /* a register operand cannot be the faulting access */
    if (addr16) {  /* 16-bit addressing (Table 2-1): no SIB, disp16 for rm 6 with mod 0 */
        disp = mod == 1 ? 1 : mod == 2 ? 2 : (rm == 6 ? 2 : 0);
    } else {
        if (rm == RM_SIB) {
            uint8_t sib;
            if (take(c, &sib))
                return -1;
            if (mod == 0 && SIB_BASE(sib) == BASE_NONE)
                disp = 4;
            else
                disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
        } else {
            disp = mod == 1 ? 1 : mod == 2 ? 4 : (rm == RM_DISP_ONLY ? 4 : 0);
        }
    }
    if (c->i + disp > c->n)
        return -1;
    c->i += disp;
    return 0;
}

static uint64_t sign_extend(uint64_t v, unsigned from_bytes)
{
    unsigned shift = 64 - 8 * from_bytes;
    return (uint64_t)((int64_t)(v << shift) >> shift);
}

static int take_imm(struct cursor *c, unsigned bytes, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned k = 0; k < bytes; k++) {
        uint8_t b;
        if (take(c, &b))
            return -1;
        x |= (uint64_t)b << (8 * k);
    }
    *v = sign_extend(x, bytes);
    return 0;
}

int mmio_decode(const uint8_t *bytes, size_t n, bool long64, bool op32, struct mmio_insn *out)
{
    struct cursor c = {bytes, n < MMIO_INSN_MAX ? n : MMIO_INSN_MAX, 0};
    bool opsize = false, addrsize = false;
    uint8_t rex = 0, op, modrm;
    memset(out, 0, sizeof(*out));
    for (;;) { /* legacy prefixes, then REX last (64-bit mode only) */
        if (take(&c, &op))
            return -1;
        if (op == PREFIX_OPSIZE)
            opsize = true;
        else if (op == PREFIX_ADDRSIZE)
            addrsize = true;
        else if (!is_segment_override(op))
            break;
    }
    if (long64 && op >= REX_FIRST && op <= REX_LAST) {
        rex = op;
        if (take(&c, &op))
            return -1;
    }
    bool two_byte = op == OP_TWO_BYTE;
    if (two_byte && take(&c, &op))
        return -1;
    unsigned wide = (rex & REX_W) ? 8 : (opsize == (long64 || op32)) ? 2 : 4;
    if (two_byte) {
        if (op != OP2_MOVZX_8 && op != OP2_MOVZX_16)
            return -1;
        out->size = op == OP2_MOVZX_8 ? 1 : 2;
        out->zero_extend = true;
        out->dest_size = wide;
    } else {
        switch (op) {
        case OP_MOV_RM8_R8:
        case OP_MOV_R8_RM8:
        case OP_MOV_RM8_IMM:
            out->size = 1;
            break;
        case OP_MOV_RM_R:
        case OP_MOV_R_RM:
        case OP_MOV_RM_IMM:
            out->size = wide;
            break;
        default:
            return -1;
        }
        out->write =
            op == OP_MOV_RM8_R8 || op == OP_MOV_RM_R || op == OP_MOV_RM8_IMM || op == OP_MOV_RM_IMM;
        out->dest_size = out->size;
    }
    if (take(&c, &modrm))
        return -1;
    bool addr16 = !long64 && (addrsize == op32);
    if (skip_memory_operand(&c, modrm, addr16))
        return -1;
    out->reg = MODRM_REG(modrm) | ((rex & REX_R) ? 8 : 0);
    /* Byte registers 4-7 without a REX prefix are AH, CH, DH, BH: bits 15:8 of registers 0-3. */
    out->reg_high8 = out->size == 1 && !rex && !out->zero_extend && out->reg >= HIGH8_FIRST;
    if (out->reg_high8)
        out->reg -= HIGH8_FIRST;
    if (!two_byte && (op == OP_MOV_RM8_IMM || op == OP_MOV_RM_IMM)) {
        if (MODRM_REG(modrm) != 0)
            return -1; /* C6/C7 with reg != 0 is not MOV */
        out->has_imm = true;
        if (take_imm(&c, out->size == 8 ? 4 : out->size, &out->imm))
            return -1;
    }
    out->len = (unsigned)c.i;
    return 0;
}

static uint64_t mask_bytes(unsigned bytes)
{
    return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

uint64_t mmio_read_result(const struct mmio_insn *in, uint64_t old, uint64_t value)
{
    value &= mask_bytes(in->size);
    if (in->zero_extend || in->dest_size == 4) /* 32-bit destinations zero bits 63:32 */
        return in->dest_size == 2 ? (old & ~0xFFFFull) | value : value;
    if (in->dest_size == 8)
        return value;
    if (in->reg_high8)
        return (old & ~0xFF00ull) | (value << 8);
    return (old & ~mask_bytes(in->dest_size)) | value;
}

uint64_t mmio_write_value(const struct mmio_insn *in, uint64_t reg_value)
{
    if (in->has_imm)
        return in->imm & mask_bytes(in->size);
    if (in->reg_high8)
        return (reg_value >> 8) & 0xFF;
    return reg_value & mask_bytes(in->size);
}
