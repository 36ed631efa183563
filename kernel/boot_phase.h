/* Boot-cost stamps: TSC ticks since hv's first instruction, one log line per phase. Under
   Bochs the TSC counts instructions, so these are exact instruction counts (make bench). */
#pragma once

void boot_phase(const char *name);
