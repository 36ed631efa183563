/* MMIO move decoding (vmx/exit/mmio_decode.c) against hand-assembled instructions (encodings
   from the SDM vol. 2 opcode tables; the byte strings are what GNU as emits). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "vmx/exit/mmio_decode.h"

static struct mmio_insn decode64(const uint8_t *b, size_t n)
{
    struct mmio_insn in;
    assert_int_equal(mmio_decode(b, n, true, true, &in), 0);
    return in;
}

static void test_linux_apic_write(void **state)
{
    (void)state;
    /* mov %eax,0xffffffffff5fd0b0 (native_apic_mem_write: absolute disp32 through SIB) */
    const uint8_t b[] = {0x89, 0x04, 0x25, 0xb0, 0xd0, 0x5f, 0xff};
    struct mmio_insn in = decode64(b, sizeof(b));
    assert_int_equal(in.len, 7);
    assert_true(in.write);
    assert_int_equal(in.size, 4);
    assert_int_equal(in.reg, 0);
    assert_false(in.has_imm);
}

static void test_read_with_rex_and_disp8(void **state)
{
    (void)state;
    /* mov 0x20(%r12),%r9d: 45 8b 4c 24 20 */
    const uint8_t b[] = {0x45, 0x8b, 0x4c, 0x24, 0x20, 0x90};
    struct mmio_insn in = decode64(b, sizeof(b));
    assert_int_equal(in.len, 5);
    assert_false(in.write);
    assert_int_equal(in.size, 4);
    assert_int_equal(in.reg, 9);
    /* a 32-bit load zero-extends into the 64-bit register */
    assert_int_equal(mmio_read_result(&in, 0xFFFFFFFF00000000ull, 0x12345678), 0x12345678);
}

static void test_rip_relative_and_disp32(void **state)
{
    (void)state;
    /* mov 0x1000(%rip),%eax: 8b 05 00 10 00 00 */
    const uint8_t rip[] = {0x8b, 0x05, 0x00, 0x10, 0x00, 0x00};
    assert_int_equal(decode64(rip, sizeof(rip)).len, 6);
    /* mov %edx,0x100(%rbx): 89 93 00 01 00 00 */
    const uint8_t d32[] = {0x89, 0x93, 0x00, 0x01, 0x00, 0x00};
    struct mmio_insn in = decode64(d32, sizeof(d32));
    assert_int_equal(in.len, 6);
    assert_int_equal(in.reg, 2);
}

static void test_immediate_stores(void **state)
{
    (void)state;
    /* movl $0x1,0x10(%rax): c7 40 10 01 00 00 00 */
    const uint8_t l[] = {0xc7, 0x40, 0x10, 0x01, 0x00, 0x00, 0x00};
    struct mmio_insn in = decode64(l, sizeof(l));
    assert_int_equal(in.len, 7);
    assert_true(in.write && in.has_imm);
    assert_int_equal(mmio_write_value(&in, 0xdead), 1);
    /* movq $-1,(%rdi): 48 c7 07 ff ff ff ff (imm32 sign-extended to 64) */
    const uint8_t q[] = {0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff};
    in = decode64(q, sizeof(q));
    assert_int_equal(in.size, 8);
    assert_int_equal(mmio_write_value(&in, 0), ~0ull);
    /* movb $0x5a,(%rsi): c6 06 5a */
    const uint8_t bb[] = {0xc6, 0x06, 0x5a};
    in = decode64(bb, sizeof(bb));
    assert_int_equal(in.len, 3);
    assert_int_equal(in.size, 1);
    assert_int_equal(mmio_write_value(&in, 0), 0x5a);
    /* c7 /1 is not a MOV */
    const uint8_t bad[] = {0xc7, 0x48, 0x10, 0x01, 0x00, 0x00, 0x00};
    struct mmio_insn x;
    assert_int_equal(mmio_decode(bad, sizeof(bad), true, true, &x), -1);
}

static void test_sizes_and_merging(void **state)
{
    (void)state;
    /* mov (%rdx),%ax: 66 8b 02 -> merges the low 16 bits */
    const uint8_t w[] = {0x66, 0x8b, 0x02};
    struct mmio_insn in = decode64(w, sizeof(w));
    assert_int_equal(in.size, 2);
    assert_int_equal(mmio_read_result(&in, 0x1111222233334444ull, 0xABCD), 0x111122223333ABCDull);
    /* mov (%rcx),%ah: 8a 21 -> bits 15:8 of RAX */
    const uint8_t ah[] = {0x8a, 0x21};
    in = decode64(ah, sizeof(ah));
    assert_true(in.reg_high8);
    assert_int_equal(in.reg, 0);
    assert_int_equal(mmio_read_result(&in, 0x1234, 0x56), 0x5634);
    /* mov (%rcx),%spl with REX: 40 8a 21 -> register 4 low byte, not AH */
    const uint8_t spl[] = {0x40, 0x8a, 0x21};
    in = decode64(spl, sizeof(spl));
    assert_false(in.reg_high8);
    assert_int_equal(in.reg, 4);
    /* mov %bh,(%rax): 88 38 -> writes bits 15:8 of RBX */
    const uint8_t bh[] = {0x88, 0x38};
    in = decode64(bh, sizeof(bh));
    assert_true(in.write && in.reg_high8);
    assert_int_equal(in.reg, 3);
    assert_int_equal(mmio_write_value(&in, 0x7700), 0x77);
    /* mov (%rax),%rax: 48 8b 00 */
    const uint8_t q[] = {0x48, 0x8b, 0x00};
    in = decode64(q, sizeof(q));
    assert_int_equal(in.size, 8);
    assert_int_equal(mmio_read_result(&in, 1, 0xFFFFFFFFFFFFFFFFull), ~0ull);
}

static void test_movzx(void **state)
{
    (void)state;
    /* movzbl (%rdi),%eax: 0f b6 07 */
    const uint8_t b[] = {0x0f, 0xb6, 0x07};
    struct mmio_insn in = decode64(b, sizeof(b));
    assert_int_equal(in.len, 3);
    assert_int_equal(in.size, 1);
    assert_int_equal(in.dest_size, 4);
    assert_int_equal(mmio_read_result(&in, ~0ull, 0x1FF), 0xFF);
    /* movzwl 0x4(%rsi),%ecx: 0f b7 4e 04 */
    const uint8_t w[] = {0x0f, 0xb7, 0x4e, 0x04};
    in = decode64(w, sizeof(w));
    assert_int_equal(in.len, 4);
    assert_int_equal(in.size, 2);
    assert_int_equal(in.reg, 1);
}

static void test_prefixes_and_segments(void **state)
{
    (void)state;
    /* mov %eax,%fs:(%rbx) with a segment override: 64 89 03 */
    const uint8_t fs[] = {0x64, 0x89, 0x03};
    assert_int_equal(decode64(fs, sizeof(fs)).len, 3);
    /* 32-bit code, 16-bit addressing via 67: 67 89 07 -> mov %eax,(%bx) */
    const uint8_t a16[] = {0x67, 0x89, 0x07};
    struct mmio_insn in;
    assert_int_equal(mmio_decode(a16, sizeof(a16), false, true, &in), 0);
    assert_int_equal(in.len, 3);
    /* 16-bit addressing with disp16 (rm 6, mod 0): 67 89 06 34 12 */
    const uint8_t d16[] = {0x67, 0x89, 0x06, 0x34, 0x12};
    assert_int_equal(mmio_decode(d16, sizeof(d16), false, true, &in), 0);
    assert_int_equal(in.len, 5);
    /* 32-bit code: 0x40 is INC EAX, not REX: refused */
    const uint8_t inc[] = {0x40, 0x8b, 0x00};
    assert_int_equal(mmio_decode(inc, sizeof(inc), false, true, &in), -1);
}

static void test_refusals(void **state)
{
    (void)state;
    struct mmio_insn in;
    const uint8_t add[] = {0x01, 0x03}; /* add %eax,(%rbx) */
    assert_int_equal(mmio_decode(add, sizeof(add), true, true, &in), -1);
    const uint8_t regreg[] = {0x89, 0xc3}; /* mov %eax,%ebx: no memory operand */
    assert_int_equal(mmio_decode(regreg, sizeof(regreg), true, true, &in), -1);
    const uint8_t truncated[] = {0x89, 0x04, 0x25, 0xb0}; /* disp32 cut short */
    assert_int_equal(mmio_decode(truncated, sizeof(truncated), true, true, &in), -1);
    uint8_t prefixes[16];
    for (int i = 0; i < 16; i++)
        prefixes[i] = 0x3e; /* only prefixes: longer than 15 bytes */
    assert_int_equal(mmio_decode(prefixes, sizeof(prefixes), true, true, &in), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_apic_write),
        cmocka_unit_test(test_read_with_rex_and_disp8),
        cmocka_unit_test(test_rip_relative_and_disp32),
        cmocka_unit_test(test_immediate_stores),
        cmocka_unit_test(test_sizes_and_merging),
        cmocka_unit_test(test_movzx),
        cmocka_unit_test(test_prefixes_and_segments),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
