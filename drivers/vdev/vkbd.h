/*
 * A virtual i8042 keyboard controller with no keyboard and no mouse attached, at the PC's
 * data port 0x60 and status / command port 0x64 (IBM PC/AT Technical Reference, "Keyboard
 * controller"; the command set Linux's drivers/input/serio/i8042.c uses).
 *
 * What it answers: the controller self-test (0xAA -> 0x55), the interface tests (0xAB and 0xA9
 * -> 0x00), the controller configuration byte ("command byte", 0x20 read / 0x60 write), the
 * port enables (0xAD/0xAE keyboard, 0xA7/0xA8 aux), the output-buffer echoes (0xD2 as keyboard
 * data, 0xD3 as aux data: Linux's AUX loop test), the output port (0xD0 / 0xD1), and the reset
 * line: command 0xFE (any 0xF0-0xFF pulse with bit 0 clear) or an output-port write with bit 0
 * clear ends the VM with "reset".
 *
 * The keyboard answers nothing: bytes written to port 0x60 outside a command go nowhere, and
 * the controller raises no interrupt (it has no IRQ line in this model), so Linux's atkbd probe
 * times out and registers no keyboard. Linux's AUX IRQ test after the loop test likewise
 * times out (250 ms) and it registers no mouse; booting with i8042.noaux or leaving the 8042
 * out of the ACPI tables avoids both waits.
 *
 * Commands are executed when written, so the input buffer is never full (IBF = 0): Linux's
 * reboot path (kb_wait, then 0xFE) and i8042_wait_write never wait.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "drivers/vdev/vdev.h"

/* ---- the hardware interface ---- */

#define VKBD_PORT_DATA   0x60
#define VKBD_PORT_STATUS 0x64 /* read: status, write: command */

/* Status register. */
#define VKBD_STR_OBF     0x01 /* output buffer full: a byte waits at 0x60 */
#define VKBD_STR_IBF     0x02 /* input buffer full (never: commands run at once) */
#define VKBD_STR_SYS     0x04 /* system flag, from the command byte */
#define VKBD_STR_CMD     0x08 /* the last write went to 0x64 */
#define VKBD_STR_UNLOCK  0x10 /* keyboard not inhibited by the keylock */
#define VKBD_STR_AUXDATA 0x20 /* the output byte comes from the aux port */

/* Controller configuration byte ("command byte"). */
#define VKBD_CTR_KBDINT 0x01
#define VKBD_CTR_AUXINT 0x02
#define VKBD_CTR_SYS    0x04
#define VKBD_CTR_KBDDIS 0x10
#define VKBD_CTR_AUXDIS 0x20
#define VKBD_CTR_XLATE  0x40
#define VKBD_CTR_RESET                                                                             \
    (VKBD_CTR_KBDINT | VKBD_CTR_SYS | VKBD_CTR_XLATE) /* as firmware leaves it                     \
                                                       */

/* Commands (written to 0x64). */
#define VKBD_CMD_READ_CTR      0x20
#define VKBD_CMD_WRITE_CTR     0x60
#define VKBD_CMD_AUX_DISABLE   0xA7
#define VKBD_CMD_AUX_ENABLE    0xA8
#define VKBD_CMD_AUX_TEST      0xA9
#define VKBD_CMD_SELF_TEST     0xAA
#define VKBD_CMD_KBD_TEST      0xAB
#define VKBD_CMD_KBD_DISABLE   0xAD
#define VKBD_CMD_KBD_ENABLE    0xAE
#define VKBD_CMD_READ_OUTPORT  0xD0
#define VKBD_CMD_WRITE_OUTPORT 0xD1
#define VKBD_CMD_KBD_LOOP      0xD2 /* next data byte comes back as keyboard data */
#define VKBD_CMD_AUX_LOOP      0xD3 /* next data byte comes back as aux data */
#define VKBD_CMD_AUX_SEND      0xD4 /* next data byte goes to the aux device */
#define VKBD_CMD_PULSE         0xF0 /* 0xF0-0xFF: pulse the output port bits that are 0 */
#define VKBD_CMD_RESET         0xFE /* pulse bit 0: the CPU reset line */

#define VKBD_SELF_TEST_OK 0x55
#define VKBD_PORT_TEST_OK 0x00

/* Output port: bit 0 = the reset line (0 resets the CPU), bit 1 = the A20 gate. */
#define VKBD_OUTPORT_RESET 0x01
#define VKBD_OUTPORT_A20   0x02

/* ---- the device ---- */

struct vkbd {
    const struct vdev_host *host;
    uint8_t ctr;
    uint8_t outport;
    uint8_t out; /* the output buffer */
    bool out_full, out_aux;
    bool last_was_cmd;
    uint8_t pending; /* a command waiting for its data byte, or 0 */
};

void vkbd_init(struct vkbd *k, const struct vdev_host *host);
/* Claims ports 0x60 and 0x64; -1 when the bus refuses them. */
int vkbd_attach(struct vkbd *k, struct vdev_bus *bus);
