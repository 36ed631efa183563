"""End-to-end cases for tools/hvrun itself (issue 17, "hvrun as a daily tool"): guest verdicts in
the exit status (3), --results JSON against docs/hvrun-results.schema.json, GRUB's errors shown,
option ranges checked before anything runs (status 2, no emulator), --keep never replacing a
file hvrun did not create, no grub.XXXXXX left in $TMPDIR after Ctrl-C, --iso-only, the
heartbeat, and the emulator's own error shown."""

import json
import os
import re
import signal
import subprocess
import sys
import time

from cases import Case, NO_CRASH, one_boot_one_end

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HVRUN = os.path.join(ROOT, "tools", "hvrun")
E2E = "build/e2e/"  # case folders, relative to the repo root (the harness runs hvrun there)
SCHEMA = os.path.join(ROOT, "docs", "hvrun-results.schema.json")
HELLO = "build/guests/hello.elf"
SPIN = "build/guests/hostile/spin.elf"
SHORT_S = 180

sys.path.insert(0, HERE)
import schema_check  # noqa: E402  (tests/e2e/schema_check.py)


def case_path(case, name):
    return os.path.join(ROOT, E2E, case, name)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


# ---------------------------------------------------------------- --results


def results(status, guests, missing=(), grub_error=None):
    """check_dir: results.json is valid against the documented schema and says what the serial
    log and hvrun's exit line say. guests: {name: (verdict, exit_status, module_index)}."""

    def check(case_dir, stderr):
        problem = schema_check.self_test()
        if problem:
            return problem
        with open(SCHEMA, encoding="utf-8") as f:
            schema = json.load(f)
        path = os.path.join(case_dir, "results.json")
        if not os.path.exists(path):
            return "no results.json written"
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        errs = schema_check.errors(doc, schema)
        if errs:
            return "results.json violates the schema: %s" % "; ".join(errs[:5])
        if doc["status"] != status:
            return "results.json status %r, expected %d" % (doc["status"], status)
        last = [l for l in stderr.splitlines() if l.startswith("hvrun: exit ")]
        if not last or last[-1] != "hvrun: exit %d (%s)" % (doc["status"], doc["reason"]):
            return "results.json status/reason %r/%r differ from %r" % (
                doc["status"], doc["reason"], last[-1:] or None)
        log = read(os.path.join(case_dir, "serial.log")).replace("\r", "")
        lines = re.findall(r"^hv: guest (\S+) ended: (.*) exits=(\d+)$", log, re.M)
        got = [(g["name"], g["verdict"], g["exits"]) for g in doc["guests"]]
        if got != [(n, v, int(e)) for n, v, e in lines]:
            return "results.json guests %r differ from the log's verdict lines %r" % (got, lines)
        if sorted(g["name"] for g in doc["guests"]) != sorted(guests):
            return "results.json guests %r, expected %r" % (got, sorted(guests))
        for g in doc["guests"]:
            verdict, exit_status, index = guests[g["name"]]
            if (g["verdict"], g["exit_status"], g["module_index"]) != (verdict, exit_status, index):
                return "guest %s: %r, expected %r" % (
                    g["name"], (g["verdict"], g["exit_status"], g["module_index"]),
                    (verdict, exit_status, index))
            if g["exits"] and sum(g["exit_stats"].values()) != g["exits"]:
                return "guest %s: exit_stats %r do not add up to exits=%d" % (
                    g["name"], g["exit_stats"], g["exits"])
        if doc["end_line"] != "hv: end: ok":
            return "end_line %r" % doc["end_line"]
        if [m["module_index"] for m in doc["missing_modules"]] != list(missing):
            return "missing_modules %r, expected indexes %r" % (doc["missing_modules"], missing)
        if grub_error and grub_error not in doc["grub_errors"]:
            return "grub_errors %r lack %r" % (doc["grub_errors"], grub_error)
        if doc["emulator"] != "bochs" or doc["cpu_model"] != "corei7_haswell_4770":
            return "emulator/cpu_model %r/%r" % (doc["emulator"], doc["cpu_model"])
        return None

    check.__name__ = "results(%d)" % status
    return check


def all_dir_checks(*checks):
    def run(case_dir, stderr):
        for check in checks:
            reason = check(case_dir, stderr)
            if reason:
                return reason
        return None

    run.__name__ = "+".join(c.__name__ for c in checks)
    return run


def bochs_megs(mib):
    def check(case_dir, _stderr):
        rc = read(os.path.join(case_dir, "bochsrc"))
        if not re.search(r"^megs: %d$" % mib, rc, re.M):
            return "bochsrc lacks 'megs: %d'" % mib
        return None

    check.__name__ = "bochs_megs(%d)" % mib
    return check


def nothing_run(case_dir, _stderr):
    """Option errors are found before anything is built or booted."""
    left = sorted(set(os.listdir(case_dir)) - {"hvrun.out", "hvrun.err"})
    if left:
        return "hvrun created %s although the options were bad" % ", ".join(left)
    return None


# ---------------------------------------------------------------- GRUB cannot load a module

BIG = "big.bin"
BIG_MIB = 100  # more than the machine's 64 MiB: GRUB says "error: out of memory."


def make_big_module(case_dir):
    with open(os.path.join(case_dir, BIG), "wb") as f:
        f.truncate(BIG_MIB << 20)


def drop_big_files(case_dir, _stderr):
    """Not a check: frees the 100 MiB module and the ISO holding it (always passes)."""
    for name in (BIG, "hv.iso"):
        try:
            os.unlink(os.path.join(case_dir, name))
        except FileNotFoundError:
            pass
    return None


# ---------------------------------------------------------------- --keep

FOREIGN = "my own grub.cfg: hvrun must not touch it\n"


def make_foreign_keep_dir(case_dir):
    os.makedirs(os.path.join(case_dir, "kept"))
    with open(os.path.join(case_dir, "kept", "grub.cfg"), "w", encoding="utf-8") as f:
        f.write(FOREIGN)


def foreign_file_intact(case_dir, _stderr):
    kept = os.path.join(case_dir, "kept")
    if read(os.path.join(kept, "grub.cfg")) != FOREIGN:
        return "the foreign kept/grub.cfg was changed"
    if os.listdir(kept) != ["grub.cfg"]:
        return "hvrun wrote into the refused folder: %s" % sorted(os.listdir(kept))
    return None


def run_hvrun(args, env=None, timeout=SHORT_S):
    env = dict(os.environ if env is None else env, HVRUN_NO_BUILD="1")
    return subprocess.run([HVRUN] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, cwd=ROOT, timeout=timeout,
                          text=True)


def keep_reuse_and_iso_only(case_dir):
    """--iso-only twice into one --keep folder: the second run replaces hvrun's own files (listed
    in .hvrun-files) and leaves a foreign file of another name alone; the ISO is a hybrid
    (MBR boot signature and an ISO 9660 volume) whose GRUB keeps the screen and adds COM1."""
    keep = os.path.join(case_dir, "k")
    iso = os.path.join(case_dir, "usb.iso")
    args = ["--iso-only=" + iso, "--keep=" + keep, "--hv-args=loglevel=debug",
            HELLO + "::name=mine mem=2M"]
    first = run_hvrun(args)
    if first.returncode != 0:
        return "first --iso-only run: status %d: %s" % (first.returncode, first.stderr[-500:])
    manifest = read(os.path.join(keep, ".hvrun-files")).split()
    for name in ("grub.cfg", "hv.iso", "grub-mkrescue.log"):
        if name not in manifest:
            return ".hvrun-files lacks %s: %r" % (name, manifest)
    with open(os.path.join(keep, "notes.txt"), "w", encoding="utf-8") as f:
        f.write("mine\n")
    os.unlink(iso)
    second = run_hvrun(args)
    if second.returncode != 0:
        return "second --iso-only run into the same --keep: status %d: %s" % (
            second.returncode, second.stderr[-500:])
    if read(os.path.join(keep, "notes.txt")) != "mine\n":
        return "notes.txt (not hvrun's) was changed"
    cfg = read(os.path.join(keep, "grub.cfg"))
    for want in ("terminal_output --append serial", "multiboot2 /boot/hv.elf 'loglevel=debug'",
                 "module2 /boot/guests/0-hello.elf 'name=mine' 'mem=2M'"):
        if want not in cfg:
            return "grub.cfg for --iso-only lacks %r" % want
    with open(iso, "rb") as f:
        head = f.read(0x8006)
    if head[510:512] != b"\x55\xaa" or head[0x8001:0x8006] != b"CD001":
        return "%s is not a hybrid ISO (no MBR signature or no ISO 9660 volume)" % iso
    if os.path.exists(os.path.join(keep, ".hvrun-tmp")):
        return "grub-mkrescue's folder .hvrun-tmp was left behind"
    # One more option error: --iso-only runs nothing, so emulator options are refused.
    bad = run_hvrun(["--iso-only=" + iso, "--mem=64", HELLO])
    if bad.returncode != 2 or "--iso-only runs nothing: --mem does not apply" not in bad.stderr:
        return "--iso-only with --mem: status %d, %r" % (bad.returncode, bad.stderr[-300:])
    return None


# ---------------------------------------------------------------- Ctrl-C during grub-mkrescue


def interrupt_during_mkrescue(case_dir):
    """SIGINT while grub-mkrescue runs: status 130, and nothing left in $TMPDIR (neither
    hvrun's work folder nor grub-mkrescue's grub.XXXXXX), three times in a row."""
    for attempt in range(3):
        tmp = os.path.join(case_dir, "tmp%d" % attempt)
        os.makedirs(tmp)
        env = dict(os.environ, TMPDIR=tmp, HVRUN_NO_BUILD="1")
        proc = subprocess.Popen([HVRUN, "--iso-only=" + os.path.join(case_dir, "x.iso"), HELLO],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env, cwd=ROOT, text=True)
        seen = None
        deadline = time.monotonic() + 120
        while seen is None and time.monotonic() < deadline and proc.poll() is None:
            for dirpath, dirnames, _files in os.walk(tmp):
                grub = [d for d in dirnames if d.startswith("grub.")]
                if grub:
                    seen = os.path.join(dirpath, grub[0])
                    break
            time.sleep(0.02)
        if seen is None:
            proc.kill()
            proc.wait()
            return "attempt %d: never saw grub-mkrescue's grub.XXXXXX folder" % attempt
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        if proc.returncode != 130:
            return "attempt %d: status %d after SIGINT, expected 130: %s" % (
                attempt, proc.returncode, err[-300:])
        if "hvrun: interrupted by SIGINT" not in err:
            return "attempt %d: no 'interrupted by SIGINT' message" % attempt
        left = os.listdir(tmp)
        if left:
            return "attempt %d: left in $TMPDIR after SIGINT: %s (seen %s)" % (attempt, left, seen)
        if os.path.exists(os.path.join(case_dir, "x.iso")):
            return "attempt %d: an ISO was written although hvrun was interrupted" % attempt
    return None


# ---------------------------------------------------------------- Bochs' VNC display


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid), encoding="ascii") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def listening_pids():
    """PIDs owning a listening TCP socket in hvrun's network namespace (ss -ltnp)."""
    out = subprocess.run(["ss", "-H", "-ltnp"], stdout=subprocess.PIPE, text=True).stdout
    return {int(p) for p in re.findall(r"pid=(\d+)", out)}


def bochs_opens_no_port(case_dir):
    """While Bochs runs under hvrun, it owns no listening socket in hvrun's network namespace
    (its rfb display listens inside a namespace of its own, where nothing can reach it)."""
    proc = subprocess.Popen([HVRUN, "--emu=bochs", "--timeout=%d" % SHORT_S,
                             "--keep=" + os.path.join(case_dir, "run"), HELLO],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=dict(os.environ, HVRUN_NO_BUILD="1"),
                            cwd=ROOT, text=True)
    bochs, checks = None, 0
    deadline = time.monotonic() + SHORT_S
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            for child in children(proc.pid):
                try:
                    comm = read("/proc/%d/comm" % child).strip()
                except OSError:
                    continue
                if comm.startswith("bochs"):
                    bochs = child
            if bochs:
                try:
                    own_ns = os.readlink("/proc/self/ns/net")
                    its_ns = os.readlink("/proc/%d/ns/net" % bochs)
                except OSError:
                    break  # Bochs is gone
                if its_ns == own_ns:
                    return "Bochs (pid %d) shares hvrun's network namespace" % bochs
                if bochs in listening_pids():
                    return "Bochs (pid %d) listens on a TCP port: %s" % (bochs, subprocess.run(
                        ["ss", "-H", "-ltnp"], stdout=subprocess.PIPE, text=True).stdout)
                checks += 1
            time.sleep(0.2)
    finally:
        # The checks are done: let hvrun finish the (short) run by itself, however slowly a
        # loaded machine runs Bochs; hvrun's own --timeout bounds it.
        try:
            proc.wait(timeout=SHORT_S + 120)
        except subprocess.TimeoutExpired:
            proc.terminate()
        _out, err = proc.communicate(timeout=60)
    if not bochs or checks < 3:
        return "Bochs seen %s, checked %d times while it ran" % (bochs, checks)
    if proc.returncode != 0:
        return "hvrun status %d: %s" % (proc.returncode, err[-300:])
    return None


# ---------------------------------------------------------------- option errors


def option_error(name, args, message):
    """Status 2 with `message` on stderr, and nothing built or run."""
    return Case(name, args, 2, stderr=[r"^hvrun: " + message, r"^hvrun: exit 2 \(usage error\)$"],
                check_dir=nothing_run)


def kvm_with_vmx():
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            return any(l.startswith("flags") and " vmx" in l for l in f)
    except OSError:
        return False


CASES = [
    # Exit status 3: a rejected guest (the other one ends exit(0)); the exit line names it; the
    # guest table lists both; --results is valid against its schema and says the same.
    Case("hvrun-rc3-rejected",
         ["--emu=bochs", "--results=" + E2E + "hvrun-rc3-rejected/results.json",
          HELLO + "::name=good", HELLO + "::bogus=1"], 3,
         log=[r"^hv: guest guest1 ended: rejected\(unknown key 'bogus'\) exits=0$",
              r"^hv: guest good ended: exit\(0\) exits=\d+$", r"^hv: end: ok$"],
         not_log=NO_CRASH, check=one_boot_one_end,
         stderr=[r"^hvrun: guest1 +rejected\(unknown key 'bogus'\) +0  build/guests/hello\.elf$",
                 r"^hvrun: good +exit\(0\) +\d+  build/guests/hello\.elf$",
                 r"^hvrun: exit 3 \(guest guest1 ended rejected\(unknown key 'bogus'\); "
                 r"hv: end: ok, bochs, [0-9.]+ s\)$"],
         check_dir=results(3, {"good": ("exit(0)", 0, 0),
                               "guest1": ("rejected(unknown key 'bogus')", None, 1)}),
         timeout=SHORT_S),
    # Exit status 3: a guest killed on its own timeout.
    Case("hvrun-rc3-killed", ["--emu=bochs", SPIN + "::name=spin mem=2M timeout=1"], 3,
         log=[r"^hv: guest spin ended: killed\(timeout\) exits=\d+$", r"^hv: end: ok$"],
         not_log=NO_CRASH, check=one_boot_one_end,
         stderr=[r"^hvrun: exit 3 \(guest spin ended killed\(timeout\); hv: end: ok, bochs, "],
         timeout=SHORT_S),
    # Exit status 0: every guest ended exit(0). Also: --mem=512M, and hv warns about an
    # unknown key of its own command line (and still runs).
    Case("hvrun-rc0-all-exit0",
         ["--emu=bochs", "--mem=512M", "--hv-args=foo=bar",
          "--results=" + E2E + "hvrun-rc0-all-exit0/results.json",
          HELLO + "::name=a", HELLO + "::name=b"], 0,
         log=[r"cmdline: unknown key 'foo' ignored$", r"^hv: guest a ended: exit\(0\) exits=\d+$",
              r"^hv: guest b ended: exit\(0\) exits=\d+$", r"^hv: end: ok$"],
         not_log=NO_CRASH, check=one_boot_one_end,
         stdout=[r"^firmware: SeaBIOS \(version ", r"^  Booting `hv'$", r"^hv: end: ok$"],
         stderr=[r"^hvrun: a +exit\(0\) ", r"^hvrun: b +exit\(0\) ",
                 r"^hvrun: exit 0 \(hv: end: ok, bochs, [0-9.]+ s\)$"],
         check_dir=all_dir_checks(bochs_megs(512), results(0, {"a": ("exit(0)", 0, 0),
                                                               "b": ("exit(0)", 0, 1)})),
         timeout=SHORT_S),
    # A module too large for GRUB (100 MiB in a 64 MiB machine): GRUB's error is shown live
    # (stdout) and again on stderr, hv boots with the other module only, status 3.
    Case("hvrun-grub-module-too-large",
         ["--emu=bochs", "--mem=64", HELLO + "::name=hello",
          E2E + "hvrun-grub-module-too-large/" + BIG + "::name=big"], 3,
         setup=make_big_module,
         log=[r"^error: out of memory\.", r"mb2: modules: 1$",
              r"^hv: guest hello ended: exit\(0\) exits=\d+$", r"^hv: end: ok$"],
         not_log=[r"^hv: guest big "],
         stdout=[r"^\s*error: out of memory\.$", r"^hv: end: ok$"],
         stderr=[r"^hvrun: GRUB: error: out of memory\.$",
                 r"^hvrun: - +never became a guest +- +build/e2e/hvrun-grub-module-too-large/big\.bin$",
                 r"^hvrun: exit 3 \(hv saw 1 of 2 modules; module "
                 r"build/e2e/hvrun-grub-module-too-large/big\.bin never became a guest; "
                 r"GRUB: error: out of memory\.; hv: end: ok, bochs, "],
         check_dir=drop_big_files, timeout=SHORT_S),
    # --keep into a folder holding a file hvrun did not create: refused, the file intact.
    Case("hvrun-keep-foreign",
         ["--emu=bochs", "--keep=" + E2E + "hvrun-keep-foreign/kept", HELLO], 2, keep=False,
         setup=make_foreign_keep_dir,
         stderr=[r"^hvrun: --keep=\S+/kept holds grub\.cfg, which hvrun did not create"],
         check_dir=foreign_file_intact),
    # --keep reused; --iso-only's hybrid ISO and its GRUB configuration.
    Case("hvrun-keep-reuse-iso-only", [], script=keep_reuse_and_iso_only),
    # Bochs' VNC display opens no port on the host.
    Case("hvrun-bochs-no-vnc-port", [], script=bochs_opens_no_port),
    # Ctrl-C during grub-mkrescue leaves nothing in $TMPDIR.
    Case("hvrun-interrupt-mkrescue", [], script=interrupt_during_mkrescue),
    # The heartbeat: a guest that spins silently for 60 emulated seconds (Bochs runs at most
    # ~70M of its 50M-per-second instructions per wall second: over 40 s of silence).
    Case("hvrun-heartbeat", ["--emu=bochs", SPIN + "::name=spin mem=2M timeout=60"], 3,
         log=[r"^hv: guest spin ended: killed\(timeout\) exits=\d+$"],
         stderr=[r"^hvrun: still running after \d+ s: no console output for 3\d s "
                 r"\(timeout in \d+ s\)$"], timeout=600),
    # Option ranges, checked before anything is built or booted (status 2).
    option_error("hvrun-timeout-inf", ["--emu=bochs", "--timeout=inf"],
                 r"--timeout wants seconds, more than 0 and at most 86400, not 'inf'$"),
    option_error("hvrun-timeout-1e10", ["--emu=bochs", "--timeout=1e10"],
                 r"--timeout wants seconds, more than 0 and at most 86400, not '1e10'$"),
    option_error("hvrun-timeout-3000000", ["--emu=bochs", "--timeout=3000000"],
                 r"--timeout wants seconds, more than 0 and at most 86400, not '3000000'$"),
    option_error("hvrun-timeout-nan", ["--emu=bochs", "--timeout=nan"], r"--timeout wants "),
    option_error("hvrun-mem-bochs-4096", ["--emu=bochs", "--mem=4096"],
                 r"--mem=4096 is 4096 MiB: bochs takes 8\.\.2048 MiB$"),
    option_error("hvrun-mem-bochs-4G", ["--emu=bochs", "--mem=4G"],
                 r"--mem=4G is 4096 MiB: bochs takes 8\.\.2048 MiB$"),
    option_error("hvrun-mem-small", ["--emu=qemu-tcg", "--mem=4"],
                 r"--mem=4 is 4 MiB: qemu-tcg takes 8\.\.2048 MiB$"),
    option_error("hvrun-mem-syntax", ["--emu=bochs", "--mem=1.5G"], r"--mem wants a size "),
    option_error("hvrun-cpus-9", ["--emu=bochs", "--cpus=9"],
                 r"--cpus wants an integer from 1 to 8, not '9'$"),
    option_error("hvrun-65-guests", ["--emu=bochs"] + [HELLO] * 65,
                 r"65 guests: hv takes at most 64 modules$"),
    option_error("hvrun-results-bad-dir", ["--emu=bochs", "--results=/nonexistent/r.json"],
                 r"--results=/nonexistent/r\.json: folder /nonexistent does not exist"),
    # The manual and the version.
    Case("hvrun-help", ["--help"], 0, keep=False,
         stdout=[r"^EXIT STATUS$", r"^  3 +hv ended ok, but a guest", r"^  124 ", r"HVRUN_KERNEL",
                 r"HVRUN_NO_BUILD", r"--results=FILE", r"--iso-only=FILE", r"^EXAMPLES$",
                 r"emulator\.stderr", r"default 600", r"8 MiB\.\.2 GiB"]),
    Case("hvrun-version", ["--version"], 0, keep=False, stdout=[r"^hvrun \d+\.\d+$"]),
]

# QEMU with KVM on a host whose CPU has no VMX (all of this project's machines): without a usable
# /dev/kvm the emulator's own error is shown (it fails at once); with one (an AMD host's KVM), hv
# boots and names what it lacks. Either way hvrun says why it exits 1.
def kvm_usable():
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


if not kvm_with_vmx() and kvm_usable():
    CASES.append(Case("hvrun-qemu-error", ["--emu=qemu-kvm", HELLO], 1,
                      log=[r"^hv: end: error: VMX not supported by this CPU \(CPUID\.1:ECX\.VMX = 0\)$"],
                      stderr=[r"^hvrun: exit 1 \(hv: end: error: VMX not supported by this CPU "
                              r"\(CPUID\.1:ECX\.VMX = 0\), qemu-kvm, "], timeout=SHORT_S))
elif not kvm_with_vmx():
    CASES.append(Case("hvrun-qemu-error", ["--emu=qemu-kvm", HELLO], 1,
                      stderr=[r"^hvrun: last lines of qemu's stderr", r"^hvrun:   qemu: \S",
                              r"^hvrun: exit 1 \(no 'hv: end:' line in the serial log; "
                              r"qemu-kvm exited with status -?\d+: "], timeout=SHORT_S))
