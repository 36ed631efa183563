/* panic(): only for broken hypervisor invariants, never for guest actions. */
#pragma once

_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
