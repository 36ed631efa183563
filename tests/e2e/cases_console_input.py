"""End-to-end cases for hvrun's console input (issue 13, hvrun part): --input's lines reach the
emulator's COM1 receive side after `hv: ready`, paced by --input-delay, under Bochs (a pty in
mode=term) and QEMU (-serial stdio on a pipe); the option errors; the pacing and key logic.

hv itself reads no console input yet, so the receiver is tests/e2e/data/echo-kernel.asm, booted
instead of hv through HVRUN_KERNEL: it prints `hv: ready` and answers every line it reads from
COM1 with `echo: LINE`."""

import fcntl
import importlib.machinery
import importlib.util
import os
import re
import select
import subprocess
import sys
import termios
import time

from cases import Case

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HVRUN = os.path.join(ROOT, "tools", "hvrun")
ECHO_ASM = os.path.join(HERE, "data", "echo-kernel.asm")
HELLO = "build/guests/hello.elf"
SPIN = "build/guests/hostile/spin.elf"
RUN_S = 180
# The module hvrun is given (any file): the echo kernel names it `echo` in its verdict line.
ECHO_MODULE = HELLO + "::name=echo"

SCRIPT = b"hello there\nsecond line\nquit\n"


def load_hvrun():
    """tools/hvrun as a module (it has no .py suffix), for its pure logic."""
    loader = importlib.machinery.SourceFileLoader("hvrun", HVRUN)
    spec = importlib.util.spec_from_loader("hvrun", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def build_echo_kernel(case_dir):
    """Assembles and links the echo kernel into case_dir; returns its path."""
    obj = os.path.join(case_dir, "echo-kernel.o")
    elf = os.path.join(case_dir, "echo-kernel.elf")
    subprocess.run(["nasm", "-f", "elf32", "-o", obj, ECHO_ASM], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-Ttext=0x100000", "-o", elf, obj], check=True)
    return elf


def hvrun(args, case_dir, kernel=None, timeout=RUN_S):
    env = dict(os.environ, HVRUN_NO_BUILD="1")
    if kernel:
        env["HVRUN_KERNEL"] = kernel
    proc = subprocess.run([HVRUN] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, cwd=ROOT, timeout=timeout, text=True)
    for name, text in (("hvrun.out", proc.stdout), ("hvrun.err", proc.stderr)):
        with open(os.path.join(case_dir, name), "w", encoding="utf-8") as f:
            f.write(text)
    return proc


def input_reaches_com1(emu):
    """--input's lines reach COM1: the echo kernel answers each, in order, `quit` ends it, and
    hvrun's input line says every byte was written and read by the emulator."""

    def script(case_dir):
        kernel = build_echo_kernel(case_dir)
        path = os.path.join(case_dir, "input.txt")
        with open(path, "wb") as f:
            f.write(SCRIPT)
        proc = hvrun(["--emu=" + emu, "--input=" + path, "--input-delay=100",
                      "--keep=" + os.path.join(case_dir, "run"), ECHO_MODULE], case_dir, kernel)
        if proc.returncode != 0:
            return "status %d, expected 0: %s" % (proc.returncode, proc.stderr[-400:])
        answers = re.findall(r"^echo: (.*)$", proc.stdout, re.M)
        if answers != ["hello there", "second line"]:
            return "the echo kernel answered %r, expected the two lines of input.txt" % answers
        want = (r"^hvrun: input: wrote %d of %d bytes of \S+/input\.txt to COM1, the emulator "
                r"read %d of them$" % (len(SCRIPT), len(SCRIPT), len(SCRIPT)))
        if not re.search(want, proc.stderr, re.M):
            return "no line matching %r on stderr: %s" % (want, proc.stderr[-400:])
        serial = open(os.path.join(case_dir, "run", "serial.log"), "rb").read()
        if b"echo: second line" not in serial:
            return "serial.log lacks the echo kernel's answers"
        return None

    script.__name__ = "input_reaches_com1_%s" % emu.replace("-", "_")
    return script


def input_with_hv(case_dir):
    """With hv itself (which reads no console input yet): the input goes out only after
    `hv: ready`, and Bochs takes every byte from the pty."""
    path = os.path.join(case_dir, "input.txt")
    with open(path, "wb") as f:
        f.write(SCRIPT)
    proc = hvrun(["--emu=bochs", "--input=" + path, "--input-delay=0",
                  "--keep=" + os.path.join(case_dir, "run"),
                  SPIN + "::name=spin mem=2M timeout=3"], case_dir)
    if proc.returncode != 3:
        return "status %d, expected 3 (spin is killed on its timeout): %s" % (
            proc.returncode, proc.stderr[-400:])
    n = len(SCRIPT)
    want = r"^hvrun: input: wrote %d of %d bytes of \S+ to COM1, the emulator read %d of them$" % (
        n, n, n)
    if not re.search(want, proc.stderr, re.M):
        return "no line matching %r on stderr: %s" % (want, proc.stderr[-400:])
    return None


def input_logic(_case_dir):
    """hvrun's ScriptedInput and KeyFilter on a fake clock and a fake channel."""
    h = load_hvrun()
    taken = []

    def channel(capacity):
        def write(data):
            part = data[:capacity]
            taken.append(part)
            return len(part)
        return write

    s = h.ScriptedInput(b"ab\ncd\n", 0.5)
    s.pump(10.0, channel(100))
    if taken or s.wake_time() is not None:
        return "ScriptedInput wrote %r / wants to wake before hv is ready" % taken
    s.ready(10.0)
    s.ready(11.0)  # a second ready line does not move the start
    s.pump(10.4, channel(100))
    if taken:
        return "first line written before --input-delay passed: %r" % taken
    s.pump(10.5, channel(1))  # a full channel takes one byte: the rest is kept
    s.pump(10.5, channel(100))
    if taken != [b"a", b"b\n"] or s.sent != 3:
        return "partial write: %r, sent %d" % (taken, s.sent)
    s.pump(10.9, channel(100))
    if len(taken) != 2:
        return "second line written less than the delay after the first: %r" % taken
    s.pump(11.0, channel(100))
    if taken[2:] != [b"cd\n"] or not s.done() or s.sent != s.total:
        return "second line: %r, done %r, sent %d of %d" % (taken, s.done(), s.sent, s.total)
    s = h.ScriptedInput(b"last line without newline", 0)
    s.ready(0)
    s.pump(0, channel(100))
    if taken[-1] != b"last line without newline" or not s.done():
        return "a last line without newline: %r" % taken[-1]

    gs = bytes([h.ESCAPE_KEY])
    cases = [
        (b"ls\r", (b"ls\r", False)),
        (b"\x01\x01\x01x\x03", (b"\x01\x01\x01x\x03", False)),  # Ctrl-A and Ctrl-C pass
        (gs + gs, (gs, False)),  # Ctrl-] Ctrl-] is one Ctrl-]
        (gs + b"x", (gs + b"x", False)),  # Ctrl-] x sends both
        (b"ab" + gs + b"q" + b"ignored", (b"ab", True)),
    ]
    for typed, want in cases:
        got = h.KeyFilter().feed(typed)
        if got != want:
            return "KeyFilter.feed(%r) = %r, expected %r" % (typed, got, want)
    k = h.KeyFilter()  # the escape key at the end of one read, q at the start of the next
    if k.feed(b"a" + gs) != (b"a", False) or k.feed(b"q") != (b"", True):
        return "Ctrl-] and q in two reads did not quit"
    if h.EXIT_QUIT != 130:
        return "quitting exits %d, documented as 130" % h.EXIT_QUIT
    return None


def input_with_iso_only(case_dir):
    """--iso-only runs nothing, so --input is refused (the harness' own --timeout would be
    refused first, so hvrun is run here without it)."""
    proc = hvrun(["--iso-only=" + os.path.join(case_dir, "x.iso"), "--input=README.md", HELLO],
                 case_dir)
    want = "hvrun: --iso-only runs nothing: --input does not apply"
    if proc.returncode != 2 or want not in proc.stderr:
        return "status %d, stderr %r" % (proc.returncode, proc.stderr[-300:])
    return None


def option_error(name, args, message):
    return Case(name, args, 2, keep=False,
                stderr=[r"^hvrun: " + message, r"^hvrun: exit 2 \(usage error\)$"])


CASES = [
    Case("hvrun-input-logic", [], script=input_logic),
    Case("hvrun-input-bochs", [], script=input_reaches_com1("bochs")),
    Case("hvrun-input-qemu", [], script=input_reaches_com1("qemu-tcg")),
    Case("hvrun-input-after-hv-ready", [], script=input_with_hv),
    option_error("hvrun-input-missing", ["--emu=bochs", "--input=/nonexistent/in.txt", HELLO],
                 r"--input=/nonexistent/in\.txt: no such file$"),
    option_error("hvrun-input-directory", ["--emu=bochs", "--input=/", HELLO],
                 r"--input=/: no such file$"),
    option_error("hvrun-input-delay-range", ["--emu=bochs", "--input=README.md",
                                              "--input-delay=60001", HELLO],
                 r"--input-delay wants an integer from 0 to 60000, not '60001'$"),
    option_error("hvrun-input-delay-alone", ["--emu=bochs", "--input-delay=10", HELLO],
                 r"--input-delay applies to --input only$"),
    Case("hvrun-input-iso-only", [], script=input_with_iso_only),
]


# ---------------------------------------------------------------- interactive, in a pty


class Terminal:
    """hvrun run as a person would: in a pseudo-terminal that is its controlling terminal."""

    def __init__(self, args, case_dir, kernel=None, transcript="terminal.txt"):
        self.master, self.slave = os.openpty()
        self.modes_before = termios.tcgetattr(self.slave)
        env = dict(os.environ, HVRUN_NO_BUILD="1", TERM="dumb")
        if kernel:
            env["HVRUN_KERNEL"] = kernel

        def controlling_tty():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen([HVRUN] + args, stdin=self.slave, stdout=self.slave,
                                     stderr=self.slave, env=env, cwd=ROOT,
                                     preexec_fn=controlling_tty)
        self.seen = b""
        self.transcript = open(os.path.join(case_dir, transcript), "wb")

    def read_until(self, pattern, timeout=RUN_S):
        """Reads the terminal until `pattern` (bytes regex) appears after what was matched
        before; returns the match or None."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern, re.M)
        while True:
            m = regex.search(self.seen)
            if m:
                self.seen = self.seen[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0 or not self.read_some(left):
                return None

    def read_some(self, timeout):
        ready, _, _ = select.select([self.master], [], [], min(timeout, 1.0))
        if not ready:
            return self.proc.poll() is None or timeout > 1.0
        try:
            data = os.read(self.master, 4096)
        except OSError:  # EIO: no process has the terminal open any more
            return False
        self.transcript.write(data)
        self.transcript.flush()
        self.seen += data
        return bool(data)

    def type(self, data):
        os.write(self.master, data)

    def finish(self, timeout=60):
        """Waits for hvrun; returns (status, the terminal's modes now), closes the pty."""
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            status = self.proc.wait()
        while self.read_some(0.2):
            pass
        modes = termios.tcgetattr(self.slave)
        os.close(self.master)
        os.close(self.slave)
        self.transcript.close()
        return status, modes


def raw_mode_problem(modes):
    lflag = modes[3]
    if lflag & (termios.ICANON | termios.ECHO | termios.ISIG):
        return "terminal not in raw mode while hvrun runs (lflag %#x)" % lflag
    return None


def interactive_echo(emu):
    """In a terminal: the banner names the keys, the terminal is raw while hvrun runs, a typed
    line reaches COM1 (the echo kernel answers it), Ctrl-] Ctrl-] sends one Ctrl-], Ctrl-] q
    quits with status 130, and the terminal's modes are as before. Then again with SIGTERM
    instead of the key: status 143, modes restored."""

    def script(case_dir):
        kernel = build_echo_kernel(case_dir)
        args = ["--emu=" + emu, "--timeout=%d" % RUN_S, ECHO_MODULE]
        t = Terminal(args, case_dir, kernel)
        if not t.read_until(rb"^hvrun: interactive: .*Ctrl-\] q quits hvrun"):
            t.finish(5)
            return "no banner naming Ctrl-] q"
        if not t.read_until(rb"^hv: ready\r?$"):
            t.finish(5)
            return "no 'hv: ready' on the terminal"
        problem = raw_mode_problem(termios.tcgetattr(t.slave))
        if problem:
            t.finish(5)
            return problem
        t.type(b"typed in a pty\r")
        if not t.read_until(rb"^echo: typed in a pty\r?$", 60):
            t.finish(5)
            return "the typed line did not reach COM1 (no echo)"
        t.type(b"a\x1d\x1db\r")
        if not t.read_until(rb"^echo: a\x1db\r?$", 60):
            t.finish(5)
            return "Ctrl-] Ctrl-] did not arrive as one Ctrl-]"
        t.type(b"\x1dq")
        status, modes = t.finish()
        if status != 130:
            return "status %d after Ctrl-] q, expected 130" % status
        if b"hvrun: quit by the user (Ctrl-] q)" not in t.seen:
            return "no 'quit by the user' line"
        if modes != t.modes_before:
            return "terminal modes after Ctrl-] q differ from before: %r vs %r" % (
                modes, t.modes_before)

        t = Terminal(args, case_dir, kernel, "terminal-sigterm.txt")
        if not t.read_until(rb"^hv: ready\r?$"):
            t.finish(5)
            return "second run: no 'hv: ready'"
        t.proc.terminate()
        status, modes = t.finish()
        if status != 143:
            return "status %d after SIGTERM, expected 143" % status
        if modes != t.modes_before:
            return "terminal modes after SIGTERM differ from before"
        return None

    script.__name__ = "interactive_echo_%s" % emu.replace("-", "_")
    return script


CASES += [
    Case("hvrun-interactive-qemu", [], script=interactive_echo("qemu-tcg")),
    Case("hvrun-interactive-bochs", [], script=interactive_echo("bochs")),
]


# ---------------------------------------------------------------- a Linux shell, in a pty

LINUX_KERNEL = "build/linux/vmlinuz"
LINUX_INITRD = "build/linux/initrd.cpio.gz"
LINUX_INIT = os.path.join(ROOT, "tests", "linux", "init")
# The contract with tests/linux/init (console branch, issue 13): `hvtest=shell` on the kernel
# command line makes /init start a shell on ttyS0 instead of powering off.
SHELL_CMDLINE = "console=ttyS0,115200 quiet cryptomgr.notests init_on_alloc=0 hvtest=shell"
LINUX_S = 900
# How long the case waits between tries of the command while Linux boots (keys typed before
# the shell reads them are dropped by the UART or eaten by the kernel's early console).
RETYPE_S = 20


def linux_shell(case_dir):
    """As a person would: hvrun in a terminal with a Linux guest running a shell, type
    `echo $((6*7))`, read `42`, quit with Ctrl-] q (status 130), terminal modes as before."""
    args = ["--emu=bochs", "--mem=512M", "--timeout=%d" % LINUX_S,
            "--keep=" + os.path.join(case_dir, "run"),
            "%s::name=linux mem=256M cmdline=\"%s\"" % (LINUX_KERNEL, SHELL_CMDLINE),
            "%s::initrd-for=linux" % LINUX_INITRD]
    t = Terminal(args, case_dir)
    if not t.read_until(rb"^hv: ready\r?$", LINUX_S):
        t.finish(5)
        return "no 'hv: ready' on the terminal"
    problem = raw_mode_problem(termios.tcgetattr(t.slave))
    answer = None
    deadline = time.monotonic() + LINUX_S
    while not problem and answer is None and time.monotonic() < deadline:
        t.type(b"echo $((6*7))\r")
        # The answer on a line of its own (the echoed command holds 6*7, not 42), possibly
        # behind hv's [linux] prefix.
        answer = t.read_until(rb"^(\[linux\] )?42\r?$", RETYPE_S)
        if t.proc.poll() is not None:
            problem = "hvrun ended (status %d) before the shell answered" % t.proc.returncode
    if problem is None and answer is None:
        problem = "no '42' from the guest's shell within %d s" % LINUX_S
    t.type(b"\x1dq")
    status, modes = t.finish()
    if problem:
        return problem
    if status != 130:
        return "status %d after Ctrl-] q, expected 130" % status
    if modes != t.modes_before:
        return "terminal modes after Ctrl-] q differ from before"
    return None


def init_has_shell_mode():
    try:
        with open(LINUX_INIT, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return False
    # `hvtest=shell` literally, or read through init's arg() helper (`$(arg hvtest)` = shell).
    return "hvtest=shell" in text or bool(re.search(r"arg hvtest\b.*\bshell\b", text, re.S))


if init_has_shell_mode():
    CASES.append(Case("hvrun-interactive-linux-shell", [], script=linux_shell))
else:
    sys.stderr.write("e2e: NOTE hvrun-interactive-linux-shell is not registered: "
                     "tests/linux/init has no hvtest=shell mode yet (issue 13, console part)\n")
