/* The legacy 8254 PIT and 8259 PICs: used once at boot (TSC calibration, masking). */
#pragma once
#include <stdint.h>

/* Measures the TSC against PIT channel 2 over PIT_CALIBRATION_MS; returns ticks per second. */
uint64_t pit_calibrate_tsc_hz(void);
/* Masks every line of both 8259s: hv takes no interrupts, and guests get none from them. */
void pic_mask_all(void);
