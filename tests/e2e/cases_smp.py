"""SMP (issue 14): hv on several CPUs, guests pinned (`cpus=LIST`) or spread over them, and
multi-vCPU virtual PCs (`vcpus=N`) with INIT/SIPI and IPIs between their vCPUs.

The contract these cases hold hv to (besides the usual verdict lines):
  - `hv: N CPUs in VMX root operation`, logged once (N = hvrun's --cpus: with more than one
    CPU hvrun boots Bochs' own BIOS, whose MADT lists them all);
  - one line per vCPU when a guest is created, `hv: guest NAME: vCPU V on CPU C` (after the
    `[cN tT] ` prefix of ordinary lines);
  - rejections: `cpus=5: CPU 5 is not in VMX root operation`, `vcpus=2: ...` for an hv-ABI
    (ELF) guest, `vcpus 9 out of range 1..8`.

Guests: build/guests/cpuburn.elf (guests/smp/cpuburn.c: 25M DEC/JNZ iterations, prints
`cpuburn: loops=L ticks=T`, its own TSC delta) and build/guests/ipitest.bzimage
(guests/smp/ipitest.asm: MADT, INIT-SIPI-SIPI, fixed/broadcast/NMI/logical IPIs; `storm` and
`shootdown` modes).

Timing. Under Bochs the TSC counts emulated instructions (with several CPUs every CPU's TSC
advances together, one tick per instruction each), so the ratios below do not depend on how
loaded the host is. A guest's time is hv's: from `hv: ready` (the largest line-prefix TSC
before it) to the TSC of the first line of its end report (`  NAME: exits ...`, printed
with the verdict); the guests' own `ticks=` are reported beside it. The cases that measure
write their figures to NOTE_FILE (shown after `PASS name`) and into their failure reason.

Bochs time: each boot of --cpus=2 costs about 7 s wall plus the guests' run; the Linux boot
about a minute; together a few minutes.
"""

import os
import re
import subprocess

from cases import Case, NO_CRASH, NOTE_FILE, all_of, one_boot_one_end
import cases_hostile
from cases_linux import BASE_CMDLINE, CHECKS as LINUX_CHECKS, INITRD, KERNEL

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HVRUN = os.path.join(ROOT, "tools", "hvrun")

BURN = "build/guests/cpuburn.elf"
IPITEST = "build/guests/ipitest.bzimage"
HELLO = "build/guests/hello.elf"
SELFTEST = "build/guests/selftest.elf::name=selftest"
END_OK = r"^hv: end: ok$"
SMP_TIMEOUT_S = 300        # a boot of these guests takes seconds; the timeout bounds a hang
LINUX_SMP_TIMEOUT_S = 600  # a Linux boot with 2 vCPUs on 2 CPUs: about a minute

# Two CPU-bound guests pinned to different CPUs finish together within this factor of one
# alone (issue 14: "in about the time one needs alone"; hv's own work on each CPU, the console
# and the second guest's creation are the slack).
PARALLEL_BOUND = 1.3
# A guest beside a vCPU pair that storms IPIs on the other CPU takes at most this factor of
# its time alone.
STORM_BOUND = 1.25

IPITEST_CHECKS = ["madt-lapics", "ap-startup", "ap-apic-ids", "sipi-once", "fixed-bsp-to-ap",
                  "fixed-ap-to-bsp", "broadcast-all-but-self", "broadcast-all", "nmi-ipi",
                  "logical-destination", "init-sipi-nonexistent"]


# ---------------------------------------------------------------- log parsing

PREFIX_TSC = re.compile(r"^\[c\d+ t(\d+)\] ", re.M)


def verdict(name, text):
    return r"^hv: guest %s ended: %s exits=\d+$" % (re.escape(name), text)


def rejected(name, index, reason):
    """The rejection verdict of the guest named NAME, module INDEX: a line that fails to
    parse keeps no name (the guest is then `guestINDEX`, as for module-bad-key), a check
    after parsing keeps it."""
    return r"^hv: guest (?:%s|guest%d) ended: rejected\(%s\) exits=0$" % (re.escape(name), index,
                                                                       reason)


def vmx_root(ncpus):
    return r"(?:^|\] )hv: %d CPUs in VMX root operation$" % ncpus


def vmx_root_once(log):
    n = len(re.findall(r"hv: \d+ CPUs in VMX root operation$", log, re.M))
    return None if n == 1 else "%d 'hv: N CPUs in VMX root operation' lines, expected 1" % n


def placements(log, name):
    """{vCPU: CPU} from the `hv: guest NAME: vCPU V on CPU C` lines (a list per vCPU when a
    name is used by several guests)."""
    found = {}
    for v, c in re.findall(r"(?:^|\] )hv: guest %s: vCPU (\d+) on CPU (\d+)$" % re.escape(name),
                           log, re.M):
        found.setdefault(int(v), []).append(int(c))
    return found


def ready_tsc(log):
    """The TSC at `hv: ready`: the largest line prefix before it."""
    m = re.search(r"(?:^|\] )hv: ready$", log, re.M)
    if not m:
        return None
    stamps = [int(t) for t in PREFIX_TSC.findall(log[:m.start()])]
    return max(stamps) if stamps else None


def end_tsc(log, name):
    """The TSC at guest NAME's end: the first line of its end report (vm_report prints the
    exits table right after the verdict), else the first prefixed line after the verdict."""
    v = re.search(r"^hv: guest %s ended: " % re.escape(name), log, re.M)
    if not v:
        return None
    m = re.compile(r"^\[c\d+ t(\d+)\]\s+%s: exits " % re.escape(name), re.M).search(log, v.end())
    if not m:
        m = PREFIX_TSC.search(log, v.end())
    return int(m.group(1)) if m else None


def burn_ticks(log, name):
    m = re.search(r"^\[%s\] cpuburn: loops=\d+ ticks=(\d+)$" % re.escape(name), log, re.M)
    return int(m.group(1)) if m else None


def mticks(ticks):
    return "%.1fM" % (ticks / 1e6)


# ---------------------------------------------------------------- running hvrun from a script


def hvrun(case_dir, sub, args, timeout=SMP_TIMEOUT_S):
    """One Bochs run kept in case_dir/sub: (status, serial log, stderr)."""
    keep = os.path.join(case_dir, sub)
    cmd = [HVRUN, "--emu=bochs", "--timeout=%d" % timeout, "--keep=" + keep] + args
    try:
        run = subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=dict(os.environ, HVRUN_NO_BUILD="1"),
                             text=True, errors="replace", timeout=timeout + 120)
    except subprocess.TimeoutExpired:
        return None, "", "hvrun did not finish"
    try:
        with open(os.path.join(keep, "serial.log"), "rb") as f:
            log = f.read().decode("utf-8", "replace").replace("\r", "")
    except FileNotFoundError:
        log = run.stdout
    return run.returncode, log, run.stderr


def last_stderr(stderr):
    lines = [l for l in stderr.splitlines() if l.startswith("hvrun: exit ")]
    return lines[-1] if lines else stderr.strip()[-300:]


def burn_run(case_dir, sub, guests, ncpus=2):
    """Runs the cpuburn guests `guests` ({name: CPU to pin to, or None}) on --cpus=ncpus.
    Returns (problem, figures): figures[name] = (hv time since ready, guest ticks, CPU)."""
    args = ["--cpus=%d" % ncpus]
    for name, cpu in guests.items():
        args.append("%s::name=%s%s" % (BURN, name, "" if cpu is None else " cpus=%d" % cpu))
    status, log, stderr = hvrun(case_dir, sub, args)
    return judge_burns(sub, status, log, stderr, guests, ncpus)


def judge_burns(sub, status, log, stderr, guests, ncpus):
    where = "%s run (build/e2e/.../%s)" % (sub, sub)
    for name in guests:
        m = re.search(r"^hv: guest %s ended: (.*) exits=\d+$" % re.escape(name), log, re.M)
        if m and m.group(1) != "exit(0)":
            return "%s: guest %s ended %s" % (where, name, m.group(1)), None
    if status != 0:
        return "%s: hvrun status %s: %s" % (where, status, last_stderr(stderr)), None
    for pat in (vmx_root(ncpus), END_OK):
        if not re.search(pat, log, re.M):
            return "%s: log lacks /%s/" % (where, pat), None
    reason = vmx_root_once(log)
    if reason:
        return "%s: %s" % (where, reason), None
    ready = ready_tsc(log)
    if ready is None:
        return "%s: no TSC before 'hv: ready'" % where, None
    figures = {}
    for name, pin in guests.items():
        placed = placements(log, name)
        if list(placed) != [0] or len(placed[0]) != 1:
            return "%s: guest %s: placement lines %s, want one for vCPU 0" % (
                where, name, placed), None
        cpu = placed[0][0]
        if pin is not None and cpu != pin:
            return "%s: guest %s pinned with cpus=%d runs on CPU %d" % (where, name, pin, cpu), None
        end, ticks = end_tsc(log, name), burn_ticks(log, name)
        if end is None or ticks is None:
            return "%s: guest %s: no end report or no cpuburn line" % (where, name), None
        figures[name] = (end - ready, ticks, cpu)
    return None, figures


def write_note(case_dir, text):
    with open(os.path.join(case_dir, NOTE_FILE), "w", encoding="utf-8") as f:
        f.write(text + "\n")


# ---------------------------------------------------------------- script cases


def two_guests_parallel(case_dir):
    """One cpuburn guest alone (cpus=1), then two pinned to CPUs 0 and 1: the pair ends
    within PARALLEL_BOUND of the time one takes alone (hv's time since `hv: ready`). Then the
    same two without pinning must be placed on different CPUs."""
    problem, alone = burn_run(case_dir, "alone", {"alone": 1})
    if problem:
        return problem
    t_alone, g_alone, _cpu = alone["alone"]
    problem, two = burn_run(case_dir, "pinned", {"burn0": 0, "burn1": 1})
    if problem:
        return problem
    t_two = max(t for t, _g, _c in two.values())
    ratio = t_two / t_alone
    note = ("two pinned guests took %.2fx the time of one alone (bound %.1f): alone %s ticks "
            "(its own %s), pair %s (their own %s, %s)" % (
                ratio, PARALLEL_BOUND, mticks(t_alone), mticks(g_alone), mticks(t_two),
                mticks(two["burn0"][1]), mticks(two["burn1"][1])))
    write_note(case_dir, note)
    if ratio > PARALLEL_BOUND:
        return note
    problem, spread = burn_run(case_dir, "spread", {"free0": None, "free1": None})
    if problem:
        return problem + "; " + note
    cpus = sorted(c for _t, _g, c in spread.values())
    t_spread = max(t for t, _g, _c in spread.values())
    note += "; unpinned on CPUs %s, %.2fx" % ("+".join(map(str, cpus)), t_spread / t_alone)
    write_note(case_dir, note)
    if cpus[0] == cpus[1]:
        return "two unpinned guests both placed on CPU %d; %s" % (cpus[0], note)
    return None


def storm_isolation(case_dir):
    """cpuburn alone on CPU 1, then beside ipitest's storm (vcpus=2 pinned to CPU 0, the two
    vCPUs sending each other fixed IPIs for 100M ticks): the cpuburn's time stays within
    STORM_BOUND of alone, and the storm outlasts it (else the bound would prove nothing)."""
    problem, alone = burn_run(case_dir, "alone", {"alone": 1})
    if problem:
        return problem
    t_alone, g_alone, _cpu = alone["alone"]
    args = ["--cpus=2", "%s::name=storm vcpus=2 cpus=0 cmdline=storm" % IPITEST,
            "%s::name=burn cpus=1" % BURN]
    status, log, stderr = hvrun(case_dir, "storm", args)
    where = "storm run (build/e2e/.../storm)"
    for pat in (verdict("storm", r"exit\(0\)"), r"^\[storm\] ipitest: PASS storm-bsp-to-ap$",
                r"^\[storm\] ipitest: PASS storm-ap-to-bsp$",
                r"^\[storm\] ipitest: 2 passed, 0 failed$"):
        if not re.search(pat, log, re.M):
            return "%s: log lacks /%s/; hvrun: %s" % (where, pat, last_stderr(stderr))
    placed = placements(log, "storm")
    if placed != {0: [0], 1: [0]}:
        return "%s: storm's placement lines %s, want vCPUs 0 and 1 on CPU 0" % (where, placed)
    problem, burn = judge_burns("storm", status, log, stderr, {"burn": 1}, 2)
    if problem:
        return problem
    t_burn, g_burn, _cpu = burn["burn"]
    storm_end = end_tsc(log, "storm")
    m = re.search(r"^\[storm\] ipitest: storm sent bsp (\d+) ap (\d+), received bsp (\d+) "
                  r"ap (\d+), ticks (\d+)$", log, re.M)
    sent = "sent %s+%s IPIs" % (m.group(1), m.group(2)) if m else "no storm figures"
    ratio = t_burn / t_alone
    note = ("cpuburn beside the IPI storm took %.2fx its time alone (bound %.2f): alone %s "
            "ticks (its own %s), beside %s (its own %s); the storm %s" % (
                ratio, STORM_BOUND, mticks(t_alone), mticks(g_alone), mticks(t_burn),
                mticks(g_burn), sent))
    write_note(case_dir, note)
    ready = ready_tsc(log)
    if storm_end is None or storm_end - ready <= t_burn:
        return "the storm guest ended before the cpuburn guest: nothing measured; " + note
    if ratio > STORM_BOUND:
        return note
    return None


# ---------------------------------------------------------------- log-checked cases


def selftest_on_every_cpu(ncpus):
    """One selftest per CPU, pinned: each passed (no FAIL line), ended exit(0), and the
    placement lines name every CPU once."""

    def check(log):
        n = len(re.findall(r"^\[selftest\] selftest: \d+ passed, 0 failed$", log, re.M))
        if n != ncpus:
            return "%d clean selftest summaries, want %d (one per CPU)" % (n, ncpus)
        n = len(re.findall(verdict("selftest", r"exit\(0\)"), log, re.M))
        if n != ncpus:
            return "%d selftest exit(0) verdicts, want %d" % (n, ncpus)
        placed = placements(log, "selftest")
        if sorted(placed.get(0, [])) != list(range(ncpus)) or len(placed) != 1:
            return "selftest placement lines %s, want vCPU 0 once on each CPU 0..%d" % (
                placed, ncpus - 1)
        return None

    check.__name__ = "selftest_on_every_cpu(%d)" % ncpus
    return check


def selftest_cpus_case(ncpus):
    guests = ["%s cpus=%d" % (SELFTEST, cpu) for cpu in range(ncpus)]
    return Case("smp-cpus-%d" % ncpus, ["--emu=bochs", "--cpus=%d" % ncpus] + guests, 0,
                log=[vmx_root(ncpus), END_OK],
                not_log=NO_CRASH + [r"^\[selftest\] FAIL "],
                check=all_of(one_boot_one_end, vmx_root_once, selftest_on_every_cpu(ncpus)),
                timeout=SMP_TIMEOUT_S)


def vcpus_spread(name, vcpus, ncpus):
    """Guest NAME has one placement line per vCPU 0..vcpus-1, on min(vcpus, ncpus) distinct
    CPUs (the default placement spreads vCPUs)."""

    def check(log):
        placed = placements(log, name)
        if sorted(placed) != list(range(vcpus)) or any(len(c) != 1 for c in placed.values()):
            return "guest %s: placement lines %s, want one per vCPU 0..%d" % (
                name, placed, vcpus - 1)
        used = {c[0] for c in placed.values()}
        if len(used) != min(vcpus, ncpus):
            return "guest %s: its %d vCPUs on CPUs %s only" % (name, vcpus, sorted(used))
        return None

    check.__name__ = "vcpus_spread(%s)" % name
    return check


def ipitest_case(vcpus, ncpus, pingpong=False):
    """ipitest's checks with `vcpus` vCPUs on --cpus=ncpus. With pingpong, a second ipitest
    guest (`ping`, vcpus=2, cmdline=pingpong) runs beside it: its round trips must all come
    back, and neither guest may see the other's IPIs (a stray vector halts ipitest's CPU with
    `unexpected vector`, and would upset the counts)."""
    name = "ipi%d" % vcpus
    g = re.escape(name)
    log = [r"^\[%s\] ipitest: madt lists %d local APICs$" % (g, vcpus)]
    log += [r"^\[%s\] ap %d up apic-id %d$" % (g, i, i) for i in range(1, vcpus)]
    log += [r"^\[%s\] ipitest: PASS %s$" % (g, c) for c in IPITEST_CHECKS]
    log += [r"^\[%s\] ipitest: %d passed, 0 failed$" % (g, len(IPITEST_CHECKS)),
            verdict(name, r"exit\(0\)"), vmx_root(ncpus), END_OK,
            # init-sipi-nonexistent's INIT and two SIPIs to APIC ID 7 reached nobody: counted
            r"  %s: interrupt messages dropped: (?:[3-9]|\d{2,}) IPIs, \d+ IOAPIC messages$" % g]
    guests = ["%s::name=%s vcpus=%d" % (IPITEST, name, vcpus)]
    if pingpong:
        guests.append("%s::name=ping vcpus=2 cmdline=pingpong" % IPITEST)
        log += [r"^\[ping\] ipitest: ipi round trip median \d+ ticks min=\d+ max=\d+ samples=101$",
                r"^\[ping\] ipitest: PASS pingpong$", r"^\[ping\] ipitest: 1 passed, 0 failed$",
                verdict("ping", r"exit\(0\)")]
    return Case("smp-ipitest-%d" % vcpus, ["--emu=bochs", "--cpus=%d" % ncpus] + guests, 0, log=log,
                not_log=NO_CRASH + [r"ipitest: FAIL", r"ipitest: unexpected vector"],
                check=all_of(one_boot_one_end, vmx_root_once, vcpus_spread(name, vcpus, ncpus)),
                timeout=SMP_TIMEOUT_S)


def hostile_spread_case():
    """Every guest of the hostile suite (tests/e2e/cases_hostile.py, but hostile-lifecycle,
    which needs hv's debug.lifecycle) in one boot on --cpus=2 without pinning: each ends with
    the verdict and the lines its own one-CPU case wants, and the guests use both CPUs."""
    hello = cases_hostile.HELLO
    guests, log, not_log = [], [], list(NO_CRASH)
    for case in cases_hostile.CASES:
        if any(a.startswith("--hv-args") for a in case.args):
            continue
        guests += [a for a in case.args if not a.startswith("--") and a != hello]
        log += [p for p in case.log if p not in log]
        not_log += [p for p in case.not_log if p not in not_log]

    def both_cpus_used(text):
        cpus = set()
        for arg in guests + [hello]:
            name = re.search(r"name=(\S+)", arg).group(1)
            for cs in placements(text, name).values():
                cpus.update(cs)
        return None if cpus == {0, 1} else "the hostile guests ran on CPUs %s, want 0 and 1" % (
            sorted(cpus))

    image = cases_hostile.hv_image_holds(cases_hostile.SMALL_MEM_END, cases_hostile.HV_TEXT_GPA,
                                         cases_hostile.HV_DATA_GPA)
    return Case("smp-hostile-spread", ["--emu=bochs", "--cpus=2", "--mem=256"] + guests + [hello],
                3, log=log + [vmx_root(2)], not_log=not_log,
                stderr=[r"^hvrun: exit 3 \(guest \S+ ended "],
                check=all_of(one_boot_one_end, vmx_root_once, image, both_cpus_used),
                timeout=SMP_TIMEOUT_S)


def linux_smp_case():
    """Linux with vcpus=2 on 2 CPUs: every check of cases_linux.CHECKS plus tests/linux/init's
    hvtest.cpus=2 checks (smp-cpus: /proc/cpuinfo lists 2 processors; smp-parallel: two
    CPU-bound loops at once, each CPU's user time in /proc/stat grows by 0.4 s or more). The
    guest's idle vCPUs halt (no idle=poll), so waking a halted vCPU (timer, IPI) is tested too.
    The same initramfs on bare Bochs with 2 CPUs (Bochs' BIOS) passed all 13 checks with and
    without idle=poll (2026-12-03: the two loops gained 1.71 and 1.71 s of user time in 1.75 s);
    should sleep-1s turn flaky under hv because a halted Bochs CPU wakes late
    (../shared/bochs/NOTES.md), idle=poll in the cmdline is the knob."""
    name = "lsmp"
    cmdline = "%s hvtest.mem=256 hvtest.marker=cmdline-ok hvtest.cpus=2" % BASE_CMDLINE
    args = ["--emu=bochs", "--cpus=2", "--mem=512",
            '%s::name=%s mem=256M vcpus=2 cmdline="%s"' % (KERNEL, name, cmdline),
            "%s::initrd-for=%s" % (INITRD, name)]
    checks = LINUX_CHECKS + ["smp-cpus", "smp-parallel"]
    log = [r"^\[%s\] linux-check: PASS %s$" % (name, re.escape(c)) for c in checks]
    log += [r"^\[%s\] linux-check: %d passed, 0 failed$" % (name, len(checks)),
            r"^\[%s\] linux-smp: user time gained " % name,
            verdict(name, r"exit\(0\)"), vmx_root(2), END_OK]
    return Case("smp-linux-vcpus-2", args, 0, log=log,
                not_log=NO_CRASH + [r"linux-check: FAIL", r"Kernel panic"],
                check=all_of(one_boot_one_end, vmx_root_once, vcpus_spread(name, 2, 2)),
                timeout=LINUX_SMP_TIMEOUT_S)


CASES = [
    # hv brings every CPU into VMX root; a selftest pinned to each CPU passes there.
    selftest_cpus_case(2),
    selftest_cpus_case(4),
    # Two CPU-bound guests on two CPUs take about the time of one (bound PARALLEL_BOUND).
    Case("smp-two-guests-parallel", [], script=two_guests_parallel, timeout=3 * SMP_TIMEOUT_S),
    # INIT/SIPI and IPIs between vCPUs: 2 vCPUs on 2 CPUs (every IPI crosses CPUs), 4 vCPUs
    # on 2 CPUs (IPIs to vCPUs on the same CPU and on the other one) beside a second SMP
    # guest measuring IPI round trips (IPIs stay inside their guest).
    ipitest_case(2, 2),
    ipitest_case(4, 2, pingpong=True),
    # ipitest's shootdown mode (make bench's EPT shootdown figure): the BSP leaves xAPIC mode
    # while the AP spins in guest mode on the other CPU; hv unmaps the APIC-access page and
    # makes that one vCPU exit.
    Case("smp-ipitest-shootdown",
         ["--emu=bochs", "--cpus=2", "%s::name=sd vcpus=2 cmdline=shootdown" % IPITEST], 0,
         log=[r"^\[sd\] ipitest: shootdown bsp in x2apic mode, ap released$",
              r"^\[sd\] ipitest: PASS shootdown$", r"^\[sd\] ipitest: 1 passed, 0 failed$",
              r"(?:^|\] )ept: guest sd: shootdown took \d+ TSC ticks, 1 vCPU\(s\) in guest "
              r"mode elsewhere made to exit$", verdict("sd", r"exit\(0\)"), vmx_root(2), END_OK],
         not_log=NO_CRASH + [r"ipitest: FAIL", r"ipitest: unexpected vector"],
         check=all_of(one_boot_one_end, vmx_root_once), timeout=SMP_TIMEOUT_S),
    # An IPI storm on CPU 0 does not slow a guest on CPU 1 (bound STORM_BOUND).
    Case("smp-ipi-storm-isolation", [], script=storm_isolation, timeout=2 * SMP_TIMEOUT_S),
    # The hostile suite spread over two CPUs: the same verdicts as on one.
    hostile_spread_case(),
    # Bad placements and vCPU counts are refused by name; good ones beside them run.
    Case("smp-rejections",
         ["--emu=bochs", "--cpus=2",
          "%s::name=badcpu cpus=5" % HELLO, "%s::name=elfsmp vcpus=2" % HELLO,
          "%s::name=toomany vcpus=9" % IPITEST, "%s::name=pinned cpus=1" % HELLO,
          "%s::name=ranged cpus=0-1" % HELLO], 3,
         log=[rejected("badcpu", 0, r"cpus=5: CPU 5 is not in VMX root operation \(2 CPUs\)"),
              rejected("elfsmp", 1, r"vcpus=2: .+"),
              rejected("toomany", 2, r"vcpus 9 out of range 1\.\.8"),
              verdict("pinned", r"exit\(0\)"), verdict("ranged", r"exit\(0\)"),
              r"(?:^|\] )hv: guest pinned: vCPU 0 on CPU 1$",
              r"(?:^|\] )hv: guest ranged: vCPU 0 on CPU [01]$", vmx_root(2), END_OK],
         not_log=NO_CRASH + [r"^\[(badcpu|elfsmp|toomany)\] ",
                             r"hv: guest (badcpu|elfsmp|toomany): vCPU"],
         stderr=[r"^hvrun: exit 3 \(guest (badcpu|guest0) ended rejected\("],
         check=all_of(one_boot_one_end, vmx_root_once), timeout=SMP_TIMEOUT_S),
    # Linux sees 2 CPUs and runs a parallel workload on both.
    linux_smp_case(),
]
