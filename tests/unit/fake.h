/*
 * Host-test support: the fake kernel environment (panic, log) that hv's pure logic links
 * against in tests/unit. Include after cmocka's prerequisites.
 */
#pragma once
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

extern jmp_buf *fake_panic_jmp; /* where panic() longjmps to; NULL = a panic fails the test */
extern char fake_panic_msg[1024];
extern char fake_log[1 << 16]; /* every log line, newline-terminated */
extern size_t fake_log_len;
void fake_log_reset(void); /* also makes hv's console take guest lines again */
/* hv's console holds CONSOLE_GUEST_BACKLOG bytes: guest lines wait (guest_console_drain). */
extern bool fake_console_full;

/* Runs stmt and asserts that it panics with a message containing substr. */
#define EXPECT_PANIC(stmt, substr)                                                                 \
    do {                                                                                           \
        jmp_buf jb_;                                                                               \
        fake_panic_jmp = &jb_;                                                                     \
        if (setjmp(jb_) == 0) {                                                                    \
            stmt;                                                                                  \
            fake_panic_jmp = NULL;                                                                 \
            fail_msg("expected a panic containing \"%s\"", substr);                                \
        }                                                                                          \
        fake_panic_jmp = NULL;                                                                     \
        if (!strstr(fake_panic_msg, substr))                                                       \
            fail_msg("panic \"%s\" lacks \"%s\"", fake_panic_msg, substr);                         \
    } while (0)
