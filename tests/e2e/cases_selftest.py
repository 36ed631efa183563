"""End-to-end cases for the `selftest` guest (guests/selftest): it tests, from inside a guest,
every exit hv handles and prints `PASS name` / `FAIL name: why` lines, then
`selftest: N passed, N failed`, and exits with status 0 only when nothing failed. Besides the
verdict these cases check the console lines the guest produces through paths it cannot observe
itself (string OUT, hypercalls, real mode)."""

import re

from cases import Case, NO_CRASH, one_boot_one_end

SELFTEST = "build/guests/selftest.elf::name=selftest"
MODE_TRIPS = 3  # st_mode.c: CPU-driven, CPU-driven with PAE, hv-emulated with PAE

SELFTEST_DONE = [
    r"^\[selftest\] selftest: \d+ passed, 0 failed$",
    r"^hv: guest selftest ended: exit\(0\) exits=\d+$",
    r"^hv: end: ok$",
]

# Lines that reach hv's console only if hv handled the exit the way the guest ABI says.
SELFTEST_CONSOLE = [
    r"^\[selftest\] io: rep outsb to COM1 THR$",
    r"^\[selftest\] io: rep outsb with an FS override$",
    r"^\[selftest\] hypercall: console write$",
    r"^\[selftest\] joined: hypercall\+com1$",
    r"^\[selftest\] hypercall: a 4096-byte console write$",
    r"^\[selftest\] real mode: rep outsb from DS base 0x8000$",
    r"^\[selftest\] real mode: console hypercall$",
]


def selftest_consistent(log):
    """One boot; the PASS lines add up to the summary's count; no FAIL line; each mode trip
    printed its two real-mode lines; no hypercall text was lost or doubled."""
    reason = one_boot_one_end(log)
    if reason:
        return reason
    summary = re.search(r"^\[selftest\] selftest: (\d+) passed, (\d+) failed$", log, re.M)
    if not summary:
        return "no selftest summary line"
    passes = len(re.findall(r"^\[selftest\] PASS \S+$", log, re.M))
    fails = re.findall(r"^\[selftest\] FAIL .*$", log, re.M)
    if passes != int(summary.group(1)):
        return "%d PASS lines but the summary says %s passed" % (passes, summary.group(1))
    if fails:
        return "%d FAIL lines, first: %s" % (len(fails), fails[0])
    for line in (r"^\[selftest\] real mode: rep outsb from DS base 0x8000$",
                 r"^\[selftest\] real mode: console hypercall$"):
        count = len(re.findall(line, log, re.M))
        if count != MODE_TRIPS:
            return "%d lines matching %s, want %d (one per mode trip)" % (count, line, MODE_TRIPS)
    for line in (r"^\[selftest\] hypercall: console write$",
                 r"^\[selftest\] hypercall: a 4096-byte console write$"):
        count = len(re.findall(line, log, re.M))
        if count != 1:
            return "%d lines matching %s, want 1" % (count, line)
    return None


def both_selftests_passed(log):
    """One boot; each of the two guests named selftest (HC_INFO's name check wants that name)
    printed every debug-register line and a clean summary, and ended exit(0)."""
    reason = one_boot_one_end(log)
    if reason:
        return reason
    for line in (r"^\[selftest\] PASS debug.reset_dr0_3$",
                 r"^\[selftest\] PASS debug.switch_seen$",
                 r"^\[selftest\] PASS debug.dr0_kept_across_switch$",
                 r"^\[selftest\] selftest: \d+ passed, 0 failed$",
                 r"^hv: guest selftest ended: exit\(0\) exits=\d+$"):
        count = len(re.findall(line, log, re.M))
        if count != 2:
            return "%d lines matching %s, want 2 (one per guest)" % (count, line)
    return None


def selftest_case(name, cpu_model):
    return Case(name, ["--emu=bochs", "--cpu-model=" + cpu_model, SELFTEST], 0,
                log=SELFTEST_DONE + SELFTEST_CONSOLE,
                not_log=NO_CRASH + [r"^\[selftest\] FAIL "],
                check=selftest_consistent)


CASES = [
    # The selftest guest alone on three CPU models: AVX only (Sandy Bridge, no TSC_ADJUST),
    # AVX (Haswell), AVX-512 (Skylake-X).
    selftest_case("selftest-haswell", "corei7_haswell_4770"),
    selftest_case("selftest-sandy-bridge", "corei7_sandy_bridge_2600k"),
    selftest_case("selftest-skylake", "corei7_skylake_x"),
    # The default modules (grub.cfg): hello and selftest side by side, both end with exit(0).
    Case("selftest-with-hello", ["--emu=bochs"], 0,
         log=SELFTEST_DONE + [r"^hv: guest hello ended: exit\(0\) exits=\d+$",
                              r"^\[hello\] hello from a guest, through COM1$"],
         not_log=NO_CRASH + [r"^\[selftest\] FAIL ", r"^hv: guest \S+ ended: (?!exit\(0\))"],
         check=selftest_consistent),
    # Issue 16: two selftests side by side with 1 ms slices. Each writes its own DR0 first
    # thing, spins until the other one ran, and must find DR0 still its own; the second one
    # must start with DR0-3 = 0 although the first had written DR0 (hv switches DR0-3/DR6).
    Case("selftest-side-by-side-debug-regs",
         ["--emu=bochs", "--hv-args=slice_us=1000",
          SELFTEST + " cmdline=dr0=0x11110000", SELFTEST + " cmdline=dr0=0x22220000"], 0,
         log=[r"^hv: end: ok$"], not_log=NO_CRASH + [r"^\[selftest\] FAIL "],
         check=both_selftests_passed),
]
