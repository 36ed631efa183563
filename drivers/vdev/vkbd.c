/* A virtual i8042 keyboard controller with nothing attached (drivers/vdev/vkbd.h). */
#include "drivers/vdev/vkbd.h"
#include "kernel/lib/string.h"

void vkbd_init(struct vkbd *k, const struct vdev_host *host)
{
    memset(k, 0, sizeof(*k));
    k->host = host;
    k->ctr = VKBD_CTR_RESET;
    k->outport = VKBD_OUTPORT_RESET | VKBD_OUTPORT_A20;
}

static void output(struct vkbd *k, uint8_t byte, bool aux)
{
    k->out = byte;
    k->out_full = true;
    k->out_aux = aux;
}

static void reset_line(const struct vkbd *k)
{
    k->host->end_vm(k->host->ctx, "reset");
}

static uint8_t read_status(const struct vkbd *k)
{
    uint8_t s = VKBD_STR_UNLOCK;
    s |= k->out_full ? VKBD_STR_OBF : 0;
    s |= (k->out_full && k->out_aux) ? VKBD_STR_AUXDATA : 0;
    s |= (k->ctr & VKBD_CTR_SYS) ? VKBD_STR_SYS : 0;
    s |= k->last_was_cmd ? VKBD_STR_CMD : 0;
    return s;
}

static uint8_t read_data(struct vkbd *k)
{
    k->out_full = false; /* the byte stays readable, as on the chip */
    return k->out;
}

/* Commands with no data byte. */
static void run_command(struct vkbd *k, uint8_t cmd)
{
    switch (cmd) {
    case VKBD_CMD_READ_CTR:
        output(k, k->ctr, false);
        break;
    case VKBD_CMD_AUX_DISABLE:
        k->ctr |= VKBD_CTR_AUXDIS;
        break;
    case VKBD_CMD_AUX_ENABLE:
        k->ctr &= (uint8_t)~VKBD_CTR_AUXDIS;
        break;
    case VKBD_CMD_AUX_TEST:
    case VKBD_CMD_KBD_TEST:
        output(k, VKBD_PORT_TEST_OK, false);
        break;
    case VKBD_CMD_SELF_TEST:
        k->ctr |= VKBD_CTR_SYS; /* a passed self-test sets the system flag */
        output(k, VKBD_SELF_TEST_OK, false);
        break;
    case VKBD_CMD_KBD_DISABLE:
        k->ctr |= VKBD_CTR_KBDDIS;
        break;
    case VKBD_CMD_KBD_ENABLE:
        k->ctr &= (uint8_t)~VKBD_CTR_KBDDIS;
        break;
    case VKBD_CMD_READ_OUTPORT:
        output(k, k->outport, false);
        break;
    default:
        /* 0xF0-0xFF pulse the output-port bits that are 0 in the low nibble: bit 0 is reset */
        if ((cmd & VKBD_CMD_PULSE) == VKBD_CMD_PULSE && !(cmd & VKBD_OUTPORT_RESET))
            reset_line(k);
        break; /* other commands: not implemented, ignored */
    }
}

static bool takes_data(uint8_t cmd)
{
    return cmd == VKBD_CMD_WRITE_CTR || cmd == VKBD_CMD_WRITE_OUTPORT || cmd == VKBD_CMD_KBD_LOOP ||
           cmd == VKBD_CMD_AUX_LOOP || cmd == VKBD_CMD_AUX_SEND;
}

static void write_command(struct vkbd *k, uint8_t cmd)
{
    k->last_was_cmd = true;
    k->pending = takes_data(cmd) ? cmd : 0;
    if (!k->pending)
        run_command(k, cmd);
}

static void write_data(struct vkbd *k, uint8_t value)
{
    uint8_t cmd = k->pending;
    k->last_was_cmd = false;
    k->pending = 0;
    switch (cmd) {
    case VKBD_CMD_WRITE_CTR:
        k->ctr = value;
        break;
    case VKBD_CMD_WRITE_OUTPORT:
        k->outport = value;
        if (!(value & VKBD_OUTPORT_RESET))
            reset_line(k);
        break;
    case VKBD_CMD_KBD_LOOP:
        output(k, value, false);
        break;
    case VKBD_CMD_AUX_LOOP:
        output(k, value, true);
        break;
    default: /* to the keyboard or (0xD4) the mouse: nothing is attached to answer */
        break;
    }
}

static uint32_t vkbd_io_in(void *dev, uint16_t port, unsigned size)
{
    struct vkbd *k = dev;
    (void)size;
    return port == VKBD_PORT_STATUS ? read_status(k) : read_data(k);
}

static void vkbd_io_out(void *dev, uint16_t port, unsigned size, uint32_t value)
{
    struct vkbd *k = dev;
    (void)size;
    if (port == VKBD_PORT_STATUS)
        write_command(k, (uint8_t)value);
    else
        write_data(k, (uint8_t)value);
}

static const struct vdev_io_ops vkbd_ops = {vkbd_io_in, vkbd_io_out};

int vkbd_attach(struct vkbd *k, struct vdev_bus *bus)
{
    if (vdev_bus_add_io(bus, "i8042-data", VKBD_PORT_DATA, 1, &vkbd_ops, k) < 0)
        return -1;
    return vdev_bus_add_io(bus, "i8042-cmd", VKBD_PORT_STATUS, 1, &vkbd_ops, k);
}
