/* Which machine hv runs on, and how to end it when hv's work is done. */
#pragma once
#include <stdbool.h>

enum platform { PLATFORM_HARDWARE, PLATFORM_BOCHS, PLATFORM_QEMU };

#define BOCHS_E9_PORT        0xE9   /* port_e9_hack: bytes appear on Bochs' stdout; reads 0xE9 */
#define BOCHS_SHUTDOWN_PORT  0x8900 /* writing "Shutdown" ends Bochs */
#define QEMU_DEBUG_EXIT_PORT 0xF4   /* isa-debug-exit: QEMU exits with (value << 1) | 1 */

void platform_detect(void);
enum platform platform_get(void);
const char *platform_name(void);
/* Ends the emulator (Bochs shutdown port, QEMU isa-debug-exit) or halts real hardware. */
_Noreturn void platform_end(bool ok);
