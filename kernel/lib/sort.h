/* Sorting small arrays of samples (hv's bench.native and the bench guest share it). */
#pragma once
#include <stdint.h>

/* Insertion sort, ascending: benchmark samples are nearly all equal, so this is close to
   linear and needs no memory. */
void sort_u64(uint64_t *v, unsigned n);
