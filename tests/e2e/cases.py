"""End-to-end test cases for tests/e2e/run: each boots hv with tools/hvrun and checks the result.

To add a case, append a Case to CASES. Fields:
  name          unique; also the --keep directory build/e2e/NAME (ISO, grub.cfg, serial.log, ...)
  args          tools/hvrun arguments (a list of strings, no shell quoting)
  status        expected hvrun exit status (0 ok and every guest exit(0), 1 hv error/no end,
                2 usage error, 3 a guest did not end exit(0) or a module never became one,
                124 timeout)
  log           regexes that must match the serial log (re.MULTILINE: ^ and $ match at lines)
  not_log       regexes that must NOT match the serial log
  stderr        regexes that must match hvrun's stderr (its `hvrun: ...` messages)
  not_stderr    regexes that must NOT match hvrun's stderr
  stdout        regexes that must match hvrun's stdout (the live console)
  check         optional function(log_text) -> None when fine, or a failure reason (str)
  check_dir     optional function(case_dir, stderr_text) -> None or a failure reason
  setup         optional function(case_dir), run before hvrun (the folder exists and is empty)
  script        optional function(case_dir) -> None or a failure reason: the case runs
                hvrun itself (args, status and the regexes are then unused)
  keep          pass --keep=build/e2e/NAME (default True)
  (a case that measures something, e.g. a ratio, may write it to NOTE_FILE in its folder:
  the harness shows it after `PASS name`; a failure's reason should carry it too)
  timeout       seconds; passed as --timeout=SEC unless args already hold a --timeout

The serial log has \\r removed. GRUB's output comes first, then hv's. Ordinary hv lines may
carry a prefix such as `[c0 t123456] `; the contract lines `hv: end: ...` and
`hv: guest NAME ended: ...` always start the line.
"""

import re
from dataclasses import dataclass, field
from typing import Callable, List, Optional

DEFAULT_TIMEOUT_S = 300
# The figures a case measured, in its build/e2e/NAME folder (shown after `PASS name`).
NOTE_FILE = "note.txt"


@dataclass
class Case:
    name: str
    args: List[str]
    status: int = 0
    log: List[str] = field(default_factory=list)
    not_log: List[str] = field(default_factory=list)
    stderr: List[str] = field(default_factory=list)
    check: Optional[Callable[[str], Optional[str]]] = None
    timeout: int = DEFAULT_TIMEOUT_S
    not_stderr: List[str] = field(default_factory=list)
    stdout: List[str] = field(default_factory=list)
    check_dir: Optional[Callable[[str, str], Optional[str]]] = None
    setup: Optional[Callable[[str], None]] = None
    script: Optional[Callable[[str], Optional[str]]] = None
    keep: bool = True


# ---------------------------------------------------------------- check functions


def one_boot_one_end(log):
    """hv booted once and printed exactly one `hv: end:` line."""
    boots = len(re.findall(r"hv: booting", log))
    ends = len(re.findall(r"^hv: end: ", log, re.M))
    if boots != 1:
        return "%d 'hv: booting' lines, expected 1" % boots
    if ends != 1:
        return "%d 'hv: end:' lines, expected 1" % ends
    return None


KIB_PER_FRAME = 4


def subtract(intervals, cut_start, cut_end):
    """intervals minus [cut_start, cut_end), as a new list of (start, end)."""
    out = []
    for a, b in intervals:
        if cut_end <= a or b <= cut_start:
            out.append((a, b))
            continue
        if a < cut_start:
            out.append((a, cut_start))
        if cut_end < b:
            out.append((cut_end, b))
    return out


PAGE = 4096


def expected_usable_kib(log):
    """Free RAM as hv must compute it: `available` map rows, minus every other map row, minus the
    ranges hv reserves (first MiB, its image, the boot information, modules), each piece then
    shrunk to whole 4 KiB pages."""
    rows = re.findall(r"mb2:\s+0x([0-9a-f]+) 0x([0-9a-f]+)\s+\d+\s+(\S+)$", log, re.M)
    reserved = re.findall(r"mm: reserved 0x([0-9a-f]+)-0x([0-9a-f]+) ", log)
    pieces = [(int(b, 16), int(e, 16)) for b, e, t in rows if t == "available"]
    for b, e, t in rows:
        if t != "available":
            pieces = subtract(pieces, int(b, 16), int(e, 16))
    for b, e in reserved:
        pieces = subtract(pieces, int(b, 16), int(e, 16))
    total = 0
    for a, b in pieces:
        a, b = (a + PAGE - 1) // PAGE * PAGE, b // PAGE * PAGE
        total += max(0, b - a)
    return total // 1024, len(reserved)


def memory_figures(mem_mib):
    """Recomputes hv's memory figures from its own memory-map dump (mb2: / mm: lines):
    each row's KiB matches its range, the `available` rows add up to `usable memory`, the
    usable figure after reservations equals the map minus every reservation (exactly), and
    the free figure equals that minus the allocator metadata and the page-table frames."""

    def check(log):
        rows = re.findall(r"mb2:\s+0x([0-9a-f]+) 0x([0-9a-f]+)\s+(\d+)\s+available$", log, re.M)
        usable = re.search(r"mb2: usable memory: (\d+) KiB", log)
        after = re.search(r"mm: usable (\d+) KiB after reservations .*metadata (\d+) KiB", log)
        tables = re.search(r"paging: .* (\d+) table frames", log)
        free = re.search(r"mm: free (\d+) KiB in (\d+) frames", log)
        if not rows or not usable or not after or not tables or not free:
            return "memory figures missing (mb2: rows, usable, mm: usable/free, paging: tables)"
        for base, end, kib in rows:
            if (int(end, 16) - int(base, 16)) // 1024 != int(kib):
                return "memory map row 0x%s-0x%s says %s KiB" % (base, end, kib)
        total = sum(int(kib) for _b, _e, kib in rows)
        if total != int(usable.group(1)):
            return "available rows add up to %d KiB, hv says usable %s KiB" % (total, usable.group(1))
        want, nres = expected_usable_kib(log)
        if nres < 3:
            return "only %d reserved ranges logged (first MiB, image, boot info expected)" % nres
        if int(after.group(1)) != want:
            return "mm: usable %s KiB after reservations, the map says %d KiB" % (after.group(1), want)
        free_kib, frames = int(free.group(1)), int(free.group(2))
        if free_kib != frames * KIB_PER_FRAME:
            return "mm: free %d KiB but %d frames of 4 KiB" % (free_kib, frames)
        expect_free = want - int(after.group(2)) - int(tables.group(1)) * KIB_PER_FRAME
        if free_kib != expect_free:
            return "mm: free %d KiB, expected %d (usable - metadata - page tables)" % (
                free_kib, expect_free)
        if free_kib > mem_mib * 1024:
            return "mm: free %d KiB is more than the machine's %d MiB" % (free_kib, mem_mib)
        return None

    check.__name__ = "memory_figures(%d)" % mem_mib
    return check


def all_of(*checks):
    """A check that runs several checks and reports the first failure."""

    def run(log):
        for check in checks:
            reason = check(log)
            if reason:
                return reason
        return None

    return run


# ---------------------------------------------------------------- cases

# Lines a run that did not mean to crash must not contain.
NO_CRASH = [r"PANIC", r"^hv: end: error: panic", r"hv: exception #"]

FAULT_DUMP = [r"RIP", r"CR2", r"RAX", r"backtrace", r"^hv: end: error: "]

CASES = [
    # Boot to `hv: ready` under Bochs (VT-x available) with several memory sizes.
    Case("bochs-mem-64", ["--emu=bochs", "--mem=64"], 0,
         log=[r"hv: ready", r"^hv: end: ok$"], not_log=NO_CRASH,
         check=all_of(one_boot_one_end, memory_figures(64))),
    Case("bochs-mem-256", ["--emu=bochs", "--mem=256"], 0,
         log=[r"hv: ready", r"^hv: end: ok$"], not_log=NO_CRASH,
         check=all_of(one_boot_one_end, memory_figures(256))),
    Case("bochs-mem-1024", ["--emu=bochs", "--mem=1024"], 0,
         log=[r"hv: ready", r"^hv: end: ok$"], not_log=NO_CRASH,
         check=all_of(one_boot_one_end, memory_figures(1024))),
    # QEMU TCG has no VMX: hv must say so and end with an error, not crash.
    Case("qemu-tcg-novmx", ["--emu=qemu-tcg"], 1,
         log=[r"VMX not supported", r"^hv: end: error: "], not_log=NO_CRASH,
         check=all_of(one_boot_one_end, memory_figures(128))),
    # Same under UEFI firmware (GRUB EFI, a fragmented memory map, modules below 1 MiB).
    Case("qemu-uefi", ["--emu=qemu-uefi"], 1,
         log=[r"VMX not supported", r"^hv: end: error: "], not_log=NO_CRASH,
         check=all_of(one_boot_one_end, memory_figures(128))),
    # Deliberate faults inside hv: the exception handler dumps state and ends the run.
    Case("fault-pf", ["--emu=qemu-tcg", "--hv-args=debug.fault=pf"], 1,
         log=[r"exception #PF"] + FAULT_DUMP, check=one_boot_one_end),
    Case("fault-ud", ["--emu=qemu-tcg", "--hv-args=debug.fault=ud"], 1,
         log=[r"exception #UD"] + FAULT_DUMP, check=one_boot_one_end),
    # hvrun's own contract.
    Case("hvrun-missing-guest", ["--emu=qemu-tcg", "/nonexistent.elf"], 2,
         stderr=[r"^hvrun: .*nonexistent\.elf"]),
    Case("hvrun-bad-option", ["--emu=nope"], 2, stderr=[r"^hvrun: .*--emu"]),
    Case("hvrun-timeout", ["--emu=bochs", "--timeout=1"], 124,
         stderr=[r"^hvrun: timeout after 1 s$"]),

    # ---- issue 2: boot failure paths
    # A 32-bit-only CPU: the 32-bit entry code names the reason and stops (no triple fault).
    Case("boot-no-long-mode", ["--emu=bochs", "--cpu-model=core_duo_t2400_yonah"], 1,
         log=[r"^hv: end: error: CPU lacks long mode"], not_log=[r"hv: booting"]),
    Case("fault-panic", ["--emu=qemu-tcg", "--hv-args=debug.fault=panic"], 1,
         log=[r"PANIC: debug.fault=panic requested", r"backtrace:",
              r"^hv: end: error: panic: debug.fault=panic requested$"], check=one_boot_one_end),
    # A console UART that is not there (QEMU has no COM2): hv stays silent, never hangs, and still
    # ends the machine (status 1: no `hv: end:` line can be read).
    Case("console-missing-uart", ["--emu=qemu-tcg", "--hv-args=console=com2"], 1,
         log=[r"hv: booting"], not_log=[r"hv: end:", r"mb2: loader", r"mm: "],
         stderr=[r"^hvrun: exit 1 \("], timeout=120),
    # ---- issue 3: a stack overflow hits the guard page below the stack, not other data
    Case("fault-stack-overflow", ["--emu=qemu-tcg", "--hv-args=debug.fault=stack"], 1,
         log=[r"PANIC: stack overflow: boot stack hit its guard page at 0x",
              r"^hv: end: error: panic: stack overflow"], check=one_boot_one_end),
    # ---- issue 4: VMX core
    # First light: the default guest runs under EPT; each exit is logged by name.
    Case("vmx-first-light", ["--emu=bochs", "--hv-args=loglevel=debug"], 0,
         log=[r"vmx: revision 0x[0-9a-f]+, .*offers: EPT", r"vm hello: exit CPUID at RIP",
              r"vm hello: exit VMCALL at RIP", r"vm hello: exit I/O instruction at RIP",
              r"^\[hello\] hello from a guest, through COM1$",
              r"^\[hello\] hello from a guest, through a hypercall$",
              r"^hv: guest hello ended: exit\(0\) exits=\d+$",
              r"mm: guest hello teardown: every frame returned", r"^hv: end: ok$"],
         not_log=NO_CRASH, check=one_boot_one_end),
    # A VM entry that fails stops that guest (VMCS dumped by field name), never hv or the others.
    # hvrun's status is 3: guest hello did not end exit(0).
    Case("vmx-entry-fail-control", ["--emu=bochs", "--hv-args=debug.vmentry=control"], 3,
         log=[r"VM-instruction error 7 \(VM entry with invalid control field\(s\)\)",
              r"VMCS dump:", r"control\s+PIN_BASED_CTLS\s+0x0$", r"guest\s+GUEST_RIP\s+0x",
              r"^hv: guest hello ended: killed\(VM entry failed: VM-instruction error 7 .*\) exits=0$",
              r"^hv: guest selftest ended: exit\(0\) exits=\d+$", r"^hv: end: ok$"],
         not_log=NO_CRASH, stderr=[r"^hvrun: exit 3 \(guest hello ended killed\(VM entry failed"]),
    Case("vmx-entry-fail-guest-state", ["--emu=bochs", "--hv-args=debug.vmentry=guest-state"], 3,
         log=[r"VMCS dump:", r"guest\s+GUEST_RFLAGS\s+0x0$",
              r"^hv: guest hello ended: killed\(VM-entry failure: invalid guest state, "
              r"qualification 0\) exits=1$",
              r"^hv: guest selftest ended: exit\(0\) exits=\d+$", r"^hv: end: ok$"],
         not_log=NO_CRASH, stderr=[r"^hvrun: exit 3 \(guest hello ended killed\(VM-entry failure"]),
    # A CPU without unrestricted guest: a named error, no crash.
    Case("vmx-no-unrestricted-guest", ["--emu=bochs", "--cpu-model=corei5_lynnfield_750"], 1,
         log=[r"^hv: end: error: VMX lacks unrestricted guest$"], not_log=NO_CRASH),
    # No EPT A/D bits, no 1 GiB EPT pages: optional features off, the guest still runs.
    Case("vmx-sandy-bridge", ["--emu=bochs", "--cpu-model=corei7_sandy_bridge_2600k"], 0,
         log=[r"optional feature '1 GiB EPT pages' not available, turned off",
              r"optional feature 'EPT accessed/dirty bits' not available, turned off",
              r"^hv: guest hello ended: exit\(0\) exits=\d+$", r"^hv: end: ok$"],
         not_log=NO_CRASH),
    # ---- issue 6: modules and their arguments; a bad module is rejected, the others run
    # (hvrun's status is 3 for a rejected guest: issue 17)
    Case("module-bad-key", ["--emu=bochs", "build/guests/hello.elf::name=good",
                            "build/guests/hello.elf::bogus=1"], 3,
         log=[r"^hv: guest guest1 ended: rejected\(unknown key 'bogus'\) exits=0$",
              r"^hv: guest good ended: exit\(0\) exits=\d+$", r"^hv: end: ok$"],
         not_log=NO_CRASH,
         stderr=[r"^hvrun: exit 3 \(guest guest1 ended rejected\(unknown key 'bogus'\); "
                 r"hv: end: ok, bochs, "]),
    Case("module-not-elf", ["--emu=bochs", "tools/deps::name=notelf"], 3,
         log=[r"^hv: guest notelf ended: rejected\(bad ELF magic: not an ELF image.*\) exits=0$",
              r"^hv: end: ok$"], not_log=NO_CRASH,
         stderr=[r"^hvrun: exit 3 \(guest notelf ended rejected\(bad ELF magic"]),
    Case("module-too-much-memory", ["--emu=bochs", "build/guests/hello.elf::name=big mem=64G"], 3,
         log=[r"^hv: guest big ended: rejected\(cannot allocate 65536 MiB of guest RAM\) exits=0$",
              r"mm: guest big teardown: every frame returned", r"^hv: end: ok$"],
         not_log=NO_CRASH, stderr=[r"^hvrun: exit 3 \(guest big ended rejected\(cannot allocate"]),
    # vcpus=N on an hv-ABI guest (no local APIC to start an AP with) is refused, never silently
    # ignored: a rejected guest makes hvrun's status 3.
    Case("module-vcpus-rejected", ["--emu=bochs", "build/guests/hello.elf::name=smp vcpus=2"], 3,
         log=[r"^hv: guest smp ended: rejected\(vcpus=2: an hv-ABI guest has one vCPU \(only "
              r"virtual-PC guests have more\)\) exits=0$", r"^hv: end: ok$"],
         not_log=NO_CRASH + [r"\[smp\]"],
         stderr=[r"^hvrun: exit 3 \(guest smp ended rejected\(vcpus=2"]),
    # Real mode with unrestricted guest: CS comes from the entry address, not fixed at 0.
    # The guests end `halted`, not exit(0): hvrun's status is 3.
    Case("module-real-mode", ["--emu=bochs",
                              "build/guests/flat/realmode.bin::name=real mode=real "
                              "entry=0x7c00 load=0x7c00",
                              "build/guests/flat/realmode.bin::name=real_high mode=real "
                              "entry=0x17c00 load=0x17c00"], 3,
         log=[r"^\[real\] hello from real mode, CS=0000$",
              r"^\[real_high\] hello from real mode, CS=1000$",
              r"^hv: guest real ended: halted exits=\d+$",
              r"^hv: guest real_high ended: halted exits=\d+$",
              r"vm real: exit CPUID|real: exits CPUID\s+1", r"^hv: end: ok$"],
         not_log=NO_CRASH, stderr=[r"^hvrun: exit 3 \(guest real ended halted; "]),
    # A value with spaces survives GRUB's quoting (it arrives as "cmdline=a b c").
    Case("module-quoted-cmdline", ["--emu=bochs",
                                   'build/guests/hello.elf::name=q cmdline="a b c"'], 0,
         log=[r'module 0: .*"cmdline=a b c"', r"^hv: guest q ended: exit\(0\) exits=\d+$"],
         not_log=NO_CRASH),
]


# Further case lists live in tests/e2e/cases_*.py (one per area), each defining CASES.
def _load_more_cases():
    import importlib
    import pathlib
    import sys
    here = pathlib.Path(__file__).resolve().parent
    if str(here) not in sys.path:
        sys.path.insert(0, str(here))
    for path in sorted(here.glob("cases_*.py")):
        CASES.extend(importlib.import_module(path.stem).CASES)


_load_more_cases()
