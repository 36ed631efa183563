#include "drivers/pit.h"
#include "kernel/lib/hw.h"

#define PIT_HZ             1193182u
#define PIT_CALIBRATION_MS 10u
#define PIT_CH2_DATA       0x42
#define PIT_COMMAND        0x43
#define PIT_CMD_CH2_MODE0  0xB0 /* channel 2, lobyte/hibyte, mode 0, binary */
#define PORT_B             0x61
#define PORT_B_GATE2       0x01
#define PORT_B_SPEAKER     0x02
#define PORT_B_OUT2        0x20
#define PIC1_DATA          0x21
#define PIC2_DATA          0xA1
#define PIC_MASK_ALL       0xFF
#define PIT_WAIT_LIMIT     100000000ull /* TSC ticks: a PIT that never counts cannot hang us */

uint64_t pit_calibrate_tsc_hz(void)
{
    const uint32_t count = PIT_HZ * PIT_CALIBRATION_MS / 1000;
    uint8_t b = hw_inb(PORT_B);
    hw_outb(PORT_B, (uint8_t)((b & ~PORT_B_SPEAKER) | PORT_B_GATE2));
    hw_outb(PIT_COMMAND, PIT_CMD_CH2_MODE0);
    hw_outb(PIT_CH2_DATA, count & 0xFF);
    hw_outb(PIT_CH2_DATA, (uint8_t)(count >> 8));
    uint64_t start = hw_rdtsc(), now = start;
    while (!(hw_inb(PORT_B) & PORT_B_OUT2) && now - start < PIT_WAIT_LIMIT)
        now = hw_rdtsc();
    hw_outb(PORT_B, b);
    return (now - start) * (1000 / PIT_CALIBRATION_MS);
}

void pic_mask_all(void)
{
    hw_outb(PIC1_DATA, PIC_MASK_ALL);
    hw_outb(PIC2_DATA, PIC_MASK_ALL);
}
