"""Linux guests on the virtual PC (issue 12): Debian 12's cloud kernel with a busybox initramfs
whose /init (tests/linux/init) checks, from inside Linux, that userspace runs, the RAM and command
line it was given, the 16550A on ttyS0 with IRQ 4, a userspace write to ttyS0 (it needs the
transmit interrupt), `sleep 1` against the kernel's TSC clock, LAPIC timer interrupts, the RTC's
date, SSE arithmetic, 64 MiB allocated and touched, a dmesg without WARNING/BUG/Oops/Call
Trace, and then powers off. tools/fetch-linux downloads the kernel and busybox-static with
`apt-get download` into build/linux/ (cached) and builds the initramfs; `make e2e` runs it first.
"""

import os
import re
import subprocess

from cases import Case, NO_CRASH, one_boot_one_end

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

KERNEL = "build/linux/vmlinuz"
INITRD = "build/linux/initrd.cpio.gz"
# quiet: the console carries the checks, not the boot log (it costs time at 115200 baud).
BASE_CMDLINE = "console=ttyS0,115200 quiet cryptomgr.notests init_on_alloc=0"
CHECKS = ["userspace", "ram", "cmdline", "uart-16550a-irq4", "ttyS0-write", "sleep-1s",
          "lapic-timer", "rtc-date", "sse", "alloc-64m", "dmesg-clean"]
LINUX_TIMEOUT = 900


def linux(name, mem_mib=256, extra=""):
    """The two modules of one Linux guest: the kernel and its initrd."""
    cmdline = "%s hvtest.mem=%d hvtest.marker=cmdline-ok %s" % (BASE_CMDLINE, mem_mib, extra)
    return ["%s::name=%s mem=%dM cmdline=\"%s\"" % (KERNEL, name, mem_mib, cmdline.strip()),
            "%s::initrd-for=%s" % (INITRD, name)]


def all_checks_pass(name):
    pats = [r"^\[%s\] linux-check: PASS %s$" % (name, re.escape(c)) for c in CHECKS]
    pats.append(r"^\[%s\] linux-check: %d passed, 0 failed$" % (name, len(CHECKS)))
    pats.append(r"^hv: guest %s ended: exit\(0\) exits=\d+$" % name)
    return pats


NO_LINUX_FAIL = [r"linux-check: FAIL", r"Kernel panic"]


def damaged_kernels(case_dir):
    """Damaged bzImages are refused with a reason, never a crash, and the guest beside them
    runs: one cut after its setup code (kernel truncated), one whose "HdrS" says protocol 2.01
    (too old), and one whose command line is over the 2047 characters a Linux guest takes."""
    with open(os.path.join(ROOT, KERNEL), "rb") as f:
        image = f.read()
    cut = os.path.join(case_dir, "vmlinuz-cut")
    with open(cut, "wb") as f:
        f.write(image[:256 * 1024])
    old = os.path.join(case_dir, "vmlinuz-old")
    with open(old, "wb") as f:
        f.write(image[:0x206] + bytes([0x01, 0x02]) + image[0x208:])
    long_cmdline = "x" * 2040 + " " + "y" * 40
    args = ["--emu=bochs", "--mem=512", "--timeout=300", "--keep=" + os.path.join(case_dir, "run"),
            cut + "::name=cut mem=256M", old + "::name=old mem=256M",
            KERNEL + "::name=long mem=256M cmdline=\"%s\"" % long_cmdline,
            "build/guests/hello.elf::name=hello"]
    run = subprocess.run([os.path.join(ROOT, "tools", "hvrun")] + args, cwd=ROOT,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, HVRUN_NO_BUILD="1"), text=True, timeout=600)
    log = run.stdout
    want = [r"^hv: guest cut ended: rejected\(.*\) exits=0$",
            r"^hv: guest old ended: rejected\(.*2\.01.*\) exits=0$",
            r"^hv: guest \S+ ended: rejected\(bad command line: value too long\) exits=0$",
            r"^hv: guest hello ended: exit\(0\) exits=\d+$", r"^hv: end: ok$"]
    for pat in want:
        if not re.search(pat, log, re.M):
            return "log lacks /%s/; hvrun status %d: %s" % (pat, run.returncode, run.stderr[-400:])
    if run.returncode != 3:
        return "hvrun status %d, expected 3: %s" % (run.returncode, run.stderr[-400:])
    return None

CASES = [
    # Haswell has APIC-register virtualization: hv takes that path, and the guest's EOIs and
    # timer writes are APIC-write exits.
    Case("linux-boot", ["--emu=bochs", "--mem=512"] + linux("linux"),
         log=all_checks_pass("linux") + [r"^hv: end: ok$",
              r"vm linux: xAPIC page through APIC-register virtualization$",
              r"  linux: exits APIC write +[1-9]\d*$"],
         not_log=NO_CRASH + NO_LINUX_FAIL, check=one_boot_one_end, timeout=LINUX_TIMEOUT),
    # A guest's reboot ends it with the verdict `reset` (the FADT reset register at 0xCF9).
    Case("linux-reboot", ["--emu=bochs", "--mem=512"] + linux("lr", extra="hvtest.reboot=1"), 3,
         log=[r"^\[lr\] linux-check: %d passed, 0 failed$" % len(CHECKS),
              r"^hv: guest lr ended: reset exits=\d+$", r"^hv: end: ok$"],
         not_log=NO_CRASH, stderr=[r"^hvrun: exit 3 \(guest lr ended reset"],
         timeout=LINUX_TIMEOUT),
    # A kernel panic (no init to run: rdinit= names none, and there is no root device) ends
    # only that guest, its text on the console; with
    # panic=-1 the kernel reboots at once, which ends it `reset`. The hello guest beside it
    # finishes normally.
    Case("linux-panic",
         ["--emu=bochs", "--mem=512",
          KERNEL + "::name=lp mem=256M cmdline=\"%s rdinit=/nonexistent panic=-1\"" % BASE_CMDLINE,
          INITRD + "::initrd-for=lp", "build/guests/hello.elf::name=hello"], 3,
         log=[r"^\[lp\] .*Kernel panic - not syncing", r"^hv: guest lp ended: reset exits=\d+$",
              r"^hv: guest hello ended: exit\(0\) exits=\d+$", r"^hv: end: ok$"],
         not_log=NO_CRASH, timeout=LINUX_TIMEOUT),
    # Two Linux guests side by side, each on its own virtual PC.
    Case("linux-two-guests", ["--emu=bochs", "--mem=768"] + linux("la") + linux("lb"),
         log=all_checks_pass("la") + all_checks_pass("lb") + [r"^hv: end: ok$"],
         not_log=NO_CRASH + NO_LINUX_FAIL, check=one_boot_one_end, timeout=LINUX_TIMEOUT),
    # Sandy Bridge: no APIC-register virtualization, no EPT A/D bits, no x2APIC on the host (the
    # guest's x2APIC is hv's own); the same checks pass.
    Case("linux-sandy-bridge",
         ["--emu=bochs", "--mem=512", "--cpu-model=corei7_sandy_bridge_2600k"] + linux("ls"),
         log=all_checks_pass("ls") + [r"^hv: end: ok$",
              r"vm ls: xAPIC accesses decoded from EPT violations \(no APIC-register "
              r"virtualization\)$"],
         not_log=NO_CRASH + NO_LINUX_FAIL, check=one_boot_one_end, timeout=LINUX_TIMEOUT),
    Case("linux-damaged-kernels", [], script=damaged_kernels, timeout=600),
    # A Linux guest beside the selftest guest: neither disturbs the other.
    Case("linux-beside-selftest",
         ["--emu=bochs", "--mem=512"] + linux("lx") + ["build/guests/selftest.elf::name=selftest"],
         log=all_checks_pass("lx") + [r"^\[selftest\] selftest: \d+ passed, 0 failed$",
                                      r"^hv: guest selftest ended: exit\(0\)", r"^hv: end: ok$"],
         not_log=NO_CRASH + NO_LINUX_FAIL, timeout=LINUX_TIMEOUT),
]
