/*
 * Host-test frame allocator (tests/unit/fake_frames.c): implements mm/frame.h's
 * frame_alloc/frame_free/frame_free_count over a 64 MiB arena where a "physical" address is
 * the host pointer, plus these controls for tests.
 */
#pragma once
#include <stddef.h>

/* Frames currently allocated (a block of order k counts 2^k). */
size_t fake_frames_in_use(void);

/* The next n allocations succeed and every one after them fails (PADDR_NONE) until this is
   called again; n = -1: never fail (the default). */
void fake_frames_fail_after(long n);
