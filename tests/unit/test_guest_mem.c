/* Unit tests for mm/guest_mem.c: guest RAM over several host chunks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "mm/guest_mem.h"
#include "tests/unit/fake.h"

#define CHUNK_A_SIZE 0x2000u /* GPA [0, 0x2000) */
#define CHUNK_B_SIZE 0x1000u /* GPA [0x2000, 0x3000) */
#define RAM_SIZE     (CHUNK_A_SIZE + CHUNK_B_SIZE)

static uint8_t chunk_a[CHUNK_A_SIZE], chunk_b[CHUNK_B_SIZE];

/* Two chunks, deliberately listed in reverse GPA order. */
static struct guest_mem two_chunks(void)
{
    struct guest_mem m;
    memset(&m, 0, sizeof(m));
    memset(chunk_a, 0, sizeof(chunk_a));
    memset(chunk_b, 0, sizeof(chunk_b));
    m.size = RAM_SIZE;
    m.nchunks = 2;
    m.chunk[0] = (struct guest_mem_chunk){CHUNK_A_SIZE, 0x200000, chunk_b, CHUNK_B_SIZE, 0};
    m.chunk[1] = (struct guest_mem_chunk){0, 0x100000, chunk_a, CHUNK_A_SIZE, 1};
    return m;
}

/* The same RAM with the chunks in GPA order. */
static struct guest_mem two_chunks_forward(void)
{
    struct guest_mem m = two_chunks();
    struct guest_mem_chunk first = m.chunk[1];
    m.chunk[1] = m.chunk[0];
    m.chunk[0] = first;
    return m;
}

static void assert_all_zero(void)
{
    for (size_t i = 0; i < CHUNK_A_SIZE; i++)
        assert_int_equal(chunk_a[i], 0);
    for (size_t i = 0; i < CHUNK_B_SIZE; i++)
        assert_int_equal(chunk_b[i], 0);
}

static void test_ptr_inside_one_chunk(void **state)
{
    (void)state;
    struct guest_mem m = two_chunks();
    assert_ptr_equal(guest_mem_ptr(&m, 0, 1), chunk_a);
    assert_ptr_equal(guest_mem_ptr(&m, 0x10, CHUNK_A_SIZE - 0x10), chunk_a + 0x10);
    assert_ptr_equal(guest_mem_ptr(&m, CHUNK_A_SIZE, CHUNK_B_SIZE), chunk_b);
    assert_ptr_equal(guest_mem_ptr(&m, RAM_SIZE - 4, 4), chunk_b + CHUNK_B_SIZE - 4);
    assert_ptr_equal(guest_mem_ptr(&m, 0x123, 0), chunk_a + 0x123);
    m = two_chunks_forward();
    assert_ptr_equal(guest_mem_ptr(&m, CHUNK_A_SIZE, 1), chunk_b); /* not one past chunk A */
    assert_ptr_equal(guest_mem_ptr(&m, CHUNK_A_SIZE - 1, 1), chunk_a + CHUNK_A_SIZE - 1);
}

static void test_ptr_rejects(void **state)
{
    (void)state;
    struct guest_mem m = two_chunks();
    assert_null(guest_mem_ptr(&m, CHUNK_A_SIZE - 1, 2)); /* spans the chunk boundary */
    assert_null(guest_mem_ptr(&m, RAM_SIZE - 4, 5));     /* past the end of RAM */
    assert_null(guest_mem_ptr(&m, RAM_SIZE, 0));
    assert_null(guest_mem_ptr(&m, RAM_SIZE, 1));
    assert_null(guest_mem_ptr(&m, UINT64_MAX, 2)); /* gpa + len wraps */
    assert_null(guest_mem_ptr(&m, 1, UINT64_MAX));
    assert_null(guest_mem_ptr(&m, 0, RAM_SIZE)); /* in range but not in one chunk */
    /* RAM ends at m.size even where a chunk is larger. */
    m.size = RAM_SIZE - 0x100;
    assert_null(guest_mem_ptr(&m, RAM_SIZE - 0x80, 1));
    assert_null(guest_mem_ptr(&m, RAM_SIZE - 0x100, 0));
    assert_null(guest_mem_ptr(&m, RAM_SIZE - 0x180, 0x100));
    assert_ptr_equal(guest_mem_ptr(&m, RAM_SIZE - 0x180, 0x80), chunk_b + CHUNK_B_SIZE - 0x180);
}

static void check_write_read_across_chunks(struct guest_mem m)
{
    uint8_t src[0x100], back[0x100];
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 7 + 1);
    uint64_t gpa = CHUNK_A_SIZE - 0x40;
    assert_int_equal(guest_mem_write(&m, gpa, src, sizeof(src)), 0);
    assert_memory_equal(chunk_a + CHUNK_A_SIZE - 0x40, src, 0x40);
    assert_memory_equal(chunk_b, src + 0x40, sizeof(src) - 0x40);
    assert_int_equal(chunk_a[CHUNK_A_SIZE - 0x41], 0);
    assert_int_equal(chunk_b[sizeof(src) - 0x40], 0);
    memset(back, 0, sizeof(back));
    assert_int_equal(guest_mem_read(&m, gpa, back, sizeof(back)), 0);
    assert_memory_equal(back, src, sizeof(src));
}

static void test_write_read_across_chunks(void **state)
{
    (void)state;
    check_write_read_across_chunks(two_chunks());
    check_write_read_across_chunks(two_chunks_forward());
}

static void test_whole_ram(void **state)
{
    (void)state;
    struct guest_mem m = two_chunks();
    static uint8_t src[RAM_SIZE], back[RAM_SIZE];
    memset(src, 0x5A, sizeof(src));
    assert_int_equal(guest_mem_write(&m, 0, src, RAM_SIZE), 0);
    assert_int_equal(guest_mem_read(&m, 0, back, RAM_SIZE), 0);
    assert_memory_equal(back, src, RAM_SIZE);
    assert_int_equal(guest_mem_zero(&m, 0, RAM_SIZE), 0);
    assert_all_zero();
}

static void test_zero_across_chunks(void **state)
{
    (void)state;
    struct guest_mem m = two_chunks();
    memset(chunk_a, 0xFF, sizeof(chunk_a));
    memset(chunk_b, 0xFF, sizeof(chunk_b));
    assert_int_equal(guest_mem_zero(&m, CHUNK_A_SIZE - 3, 5), 0);
    assert_int_equal(chunk_a[CHUNK_A_SIZE - 4], 0xFF);
    assert_int_equal(chunk_a[CHUNK_A_SIZE - 3], 0);
    assert_int_equal(chunk_a[CHUNK_A_SIZE - 1], 0);
    assert_int_equal(chunk_b[0], 0);
    assert_int_equal(chunk_b[1], 0);
    assert_int_equal(chunk_b[2], 0xFF);
}

static void test_out_of_range_writes_nothing(void **state)
{
    (void)state;
    struct guest_mem m = two_chunks();
    uint8_t src[0x20];
    memset(src, 0xEE, sizeof(src));
    assert_int_equal(guest_mem_write(&m, RAM_SIZE - 0x10, src, sizeof(src)), -1);
    assert_int_equal(guest_mem_write(&m, RAM_SIZE, src, 1), -1);
    assert_int_equal(guest_mem_write(&m, UINT64_MAX - 4, src, sizeof(src)), -1);
    assert_int_equal(guest_mem_write(&m, 0x10, src, UINT64_MAX), -1);
    assert_int_equal(guest_mem_zero(&m, RAM_SIZE - 1, 2), -1);
    assert_all_zero();
    assert_int_equal(guest_mem_read(&m, RAM_SIZE - 0x10, src, sizeof(src)), -1);
    assert_int_equal(src[0], 0xEE); /* nothing read either */
}

static void test_hole_in_chunks_rejected(void **state)
{
    (void)state;
    struct guest_mem m = two_chunks();
    m.size = RAM_SIZE + CHUNK_B_SIZE; /* claims more RAM than the chunks back */
    uint8_t src[0x20];
    memset(src, 0xEE, sizeof(src));
    assert_int_equal(guest_mem_write(&m, RAM_SIZE - 0x10, src, sizeof(src)), -1);
    assert_null(guest_mem_ptr(&m, RAM_SIZE, 1));
    assert_all_zero();
}

static void test_zero_length(void **state)
{
    (void)state;
    struct guest_mem m = two_chunks();
    uint8_t b = 0;
    assert_int_equal(guest_mem_write(&m, RAM_SIZE, &b, 0), 0);
    assert_int_equal(guest_mem_read(&m, 0, &b, 0), 0);
    assert_int_equal(guest_mem_write(&m, RAM_SIZE + 1, &b, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ptr_inside_one_chunk),
        cmocka_unit_test(test_ptr_rejects),
        cmocka_unit_test(test_write_read_across_chunks),
        cmocka_unit_test(test_whole_ram),
        cmocka_unit_test(test_zero_across_chunks),
        cmocka_unit_test(test_out_of_range_writes_nothing),
        cmocka_unit_test(test_hole_in_chunks_rejected),
        cmocka_unit_test(test_zero_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
