"""End-to-end cases for hv's console input (issue 13, hv part): typed keys reach the guest with
the focus (its virtual 16550's receive FIFO), Ctrl-A three times moves the focus, and while hv
has it the debug keys answer. Under Bochs, with Linux guests whose /init runs a shell
(tests/linux/init, `hvtest=shell`)."""

import os
import re

from cases import Case, NO_CRASH, one_boot_one_end, all_of
from cases_console_input import Terminal, raw_mode_problem  # hvrun in a pseudo-terminal

import termios

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT_DIR = os.path.join(ROOT, "build", "e2e")
KERNEL = "build/linux/vmlinuz"
INITRD = "build/linux/initrd.cpio.gz"
SHELL_CMDLINE = "console=ttyS0,115200 quiet cryptomgr.notests init_on_alloc=0 hvtest=shell"
LINUX_S = 900
CTRL_A3 = b"\x01\x01\x01"


def shell_guest(name, mem_mib=256, extra=""):
    return ["%s::name=%s mem=%dM %s cmdline=\"%s\"" % (KERNEL, name, mem_mib, extra,
                                                     SHELL_CMDLINE),
            "%s::initrd-for=%s" % (INITRD, name)]


# ---------------------------------------------------------------- --input, typed ahead

# Keys typed before the guest reads them wait in hv's queue for the guest's UART: the padding
# lines cover what Linux's 8250 driver throws away when it clears its FIFOs (probe, open).
PADDING = b"\n" * 48
SCRIPT_42 = PADDING + b"echo $((6*7)); poweroff -f\n"


def write_input(name, data):
    def setup(case_dir):
        with open(os.path.join(case_dir, "input.txt"), "wb") as f:
            f.write(data)
    setup.__name__ = "write_input"
    return setup


def input_path(name):
    return os.path.join(OUT_DIR, name, "input.txt")


def answer_once(name, text):
    """`[name] text` appears, and no other guest printed it."""

    def check(log):
        mine = re.findall(r"^\[%s\] %s$" % (re.escape(name), re.escape(text)), log, re.M)
        others = re.findall(r"^\[(?!%s\])[^\]]+\] %s$" % (re.escape(name), re.escape(text)),
                            log, re.M)
        if not mine:
            return "no '[%s] %s' line" % (name, text)
        if others:
            return "another guest printed %r: %r" % (text, others)
        return None

    check.__name__ = "answer_once(%s)" % name
    return check


# ---------------------------------------------------------------- two guests, in a terminal


def two_guests_focus(case_dir):
    """Two Linux shells in a terminal: a command typed while la has the focus reaches la only,
    Ctrl-A x3 gives lb the focus and its command reaches lb only, Ctrl-A x3 again gives hv the
    focus: `g` lists both guests, `k 0` ends la killed(console) while lb goes on; Ctrl-A x3
    returns the focus to lb, whose shell still answers and then powers off."""
    args = ["--emu=bochs", "--mem=768", "--timeout=%d" % LINUX_S,
            "--keep=" + os.path.join(case_dir, "run")] + shell_guest("la") + shell_guest("lb")
    t = Terminal(args, case_dir)

    def expect(pattern, what, timeout=LINUX_S):
        if not t.read_until(pattern, timeout):
            raise AssertionError("no %s on the terminal" % what)

    try:
        expect(rb"^hv: console focus la\r?$", "'hv: console focus la' (the first guest)")
        problem = raw_mode_problem(termios.tcgetattr(t.slave))
        if problem:
            raise AssertionError(problem)
        # Both shells are up before anything is typed (la and lb boot side by side).
        seen_ready = set()
        while len(seen_ready) < 2:
            m = t.read_until(rb"^\[(la|lb)\] linux-shell: ready\r?$", LINUX_S)
            if not m:
                raise AssertionError("the shells did not both start (%r)" % sorted(seen_ready))
            seen_ready.add(m.group(1))
        t.type(b"echo a-$((2+3))\r")
        expect(rb"^\[la\] a-5\r?$", "la's answer '[la] a-5'")
        t.type(CTRL_A3)
        expect(rb"^hv: console focus lb\r?$", "'hv: console focus lb' after Ctrl-A x3")
        t.type(b"echo b-$((3+4))\r")
        expect(rb"^\[lb\] b-7\r?$", "lb's answer '[lb] b-7'")
        t.type(CTRL_A3)
        expect(rb"^hv: console focus hv\r?$", "'hv: console focus hv' after the last guest")
        t.type(b"g")
        expect(rb"hv: guest 0 la: (halted|running)", "debug key g listing la")
        expect(rb"hv:   la vcpu0: rip 0x[0-9a-f]+ cpl 0 64-bit mode, exits \d+\r?$",
               "la's vCPU (RIP, CPL, mode) under g")
        expect(rb"hv: guest 1 lb: (halted|running)", "debug key g listing lb")
        expect(rb"hv:   lb vcpu0: rip 0x[0-9a-f]+ cpl 0 64-bit mode, exits \d+\r?$",
               "lb's vCPU (RIP, CPL, mode) under g")
        t.type(b"k0")
        expect(rb"^hv: guest la ended: killed\(console\) exits=\d+\r?$",
               "la ended killed(console) by debug key k")
        t.type(CTRL_A3)
        expect(rb"^hv: console focus lb\r?$", "the focus back on lb")
        t.type(b"echo still-$((4+4))\r")
        expect(rb"^\[lb\] still-8\r?$", "lb going on after la was killed")
        t.type(b"poweroff -f\r")
        expect(rb"^hv: guest lb ended: exit\(0\) exits=\d+\r?$", "lb's poweroff", 300)
        expect(rb"^hv: end: ok\r?$", "'hv: end: ok'", 120)
    except AssertionError as err:
        t.type(b"\x1dq")
        t.finish(10)
        return str(err)
    status, modes = t.finish()
    if status != 3:
        return "hvrun status %d, expected 3 (la was killed)" % status
    if modes != t.modes_before:
        return "terminal modes after the run differ from before"
    log = open(os.path.join(case_dir, "run", "serial.log"), encoding="utf-8",
               errors="replace").read()
    for name, text in (("la", "a-5"), ("lb", "b-7"), ("lb", "still-8")):
        problem = answer_once(name, text)(log)
        if problem:
            return problem
    return None


CASES = [
    Case("console-input-linux-42",
         ["--emu=bochs", "--mem=512", "--input=" + input_path("console-input-linux-42"),
          "--input-delay=0"] + shell_guest("linux"),
         0, setup=write_input("console-input-linux-42", SCRIPT_42),
         log=[r"^hv: console focus linux$", r"^\[linux\] linux-shell: ready$",
              r"^\[linux\] 42$", r"^hv: guest linux ended: exit\(0\) exits=\d+$",
              r"^hv: end: ok$"],
         not_log=NO_CRASH, check=all_of(one_boot_one_end, answer_once("linux", "42")),
         timeout=LINUX_S),
    # console=focus picks the first focus; an hv-ABI guest's COM1 receives nothing (said once);
    # Ctrl-A x3 after the last guest gives hv the focus, where every debug key answers: h, t,
    # e, m, an unknown key, v 1 (chosen's VMCS), k 0 (first ends killed(console)), k with no
    # such guest, and k cancelled by another key.
    Case("console-focus-key",
         ["--emu=bochs", "--input=" + input_path("console-focus-key"), "--input-delay=0",
          "build/guests/hostile/spin.elf::name=first mem=2M timeout=10",
          "build/guests/hostile/spin.elf::name=chosen mem=2M timeout=10 console=focus"],
         3, setup=write_input("console-focus-key",
                              b"typed\n" + CTRL_A3 + b"htemxv1k0k7kq"),
         log=[r"^hv: console focus chosen$",
              r"console: guest chosen's COM1 receives nothing \(hv-ABI guest\): typed keys "
              r"are dropped$",
              r"^hv: console focus hv$",
              r"hv: debug keys \(hv has the console", r"hv:   k N: end guest N, verdict killed", r"hv:   g: every guest",
              r"hv: TSC \d+, uptime \d+\.\d{3} s",
              r"hv: exits by reason, live guests:", r"hv:   VMX-preemption timer expired +(first|chosen) \d+",
              r"hv: memory: \d+ free frames", r"hv:   chosen: RAM 512 frames \(2 MiB\)",
              r"hv: key 0x78 is not a debug key", r"hv: v: guest chosen vcpu0's VMCS:",
              r"  guest +GUEST_RIP +0x[0-9a-f]+$",
              r"hv: k: ending guest first$",
              r"^hv: guest first ended: killed\(console\) exits=\d+$",
              r"hv: k: no live guest 7$", r"hv: k: cancelled$",
              r"^hv: guest chosen ended: killed\(timeout\) exits=\d+$",
              r"^hv: end: ok$"],
         not_log=NO_CRASH + [r"^hv: console focus first$"], timeout=300),
    Case("console-two-linux-focus", [], script=two_guests_focus, timeout=LINUX_S + 300),
]
