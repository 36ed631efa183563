"""Data modules (issue 18): a module whose command line holds `initrd-for=NAME` is not a guest;
hv copies it into guest NAME's RAM and lists it in the Multiboot 1 information (docs/guest-abi.md
§4). The `modreader` guest (guests/modreader.asm) prints each module's string and contents and
checks their placement; these cases check what it printed, hv's line per data module, and the
rejections (a module naming no guest, a module that does not fit)."""

import re

from cases import Case, NO_CRASH, one_boot_one_end

MODREADER = "build/guests/modreader.elf"
TEXT = "tests/e2e/data/module.txt"  # two lines of text
TINY = "tests/e2e/data/tiny.txt"    # "tiny", no newline
HELLO = "build/guests/hello.elf::name=hello"


def verdict(name, text):
    return r"^hv: guest %s ended: %s exits=\d+$" % (re.escape(name), text)


def lines_in_order(*patterns):
    """The patterns match lines of the log in this order (the module contents come in GRUB's
    order, each between its header and its end line)."""

    def check(log):
        pos = 0
        for pat in patterns:
            m = re.compile(pat, re.M).search(log, pos)
            if not m:
                return "no line matching %r after offset %d" % (pat, pos)
            pos = m.end()
        return one_boot_one_end(log)

    check.__name__ = "lines_in_order"
    return check


CASES = [
    # Two modules for guest mr, one before its module in GRUB's list and one after, plus one
    # naming no guest: that one is reported as rejected under the name module3.
    Case("module-mb1-initrd",
         ["--emu=bochs", TEXT + "::initrd-for=mr first file", MODREADER + "::name=mr",
          TINY + "::initrd-for=mr", TINY + "::initrd-for=nobody x"], 3,
         log=[r'hv: module 0 \("initrd-for=mr first file"\) is the initrd of guest mr$',
              r'hv: module 2 \("initrd-for=mr"\) is the initrd of guest mr$',
              r'hv: module 3 \("initrd-for=nobody x"\) is no guest\'s initrd: '
              r"initrd-for=nobody names no guest$",
              verdict("module3", r"rejected\(initrd-for=nobody names no guest\)"),
              verdict("mr", r"exit\(0\)"), r"^hv: end: ok$"],
         not_log=NO_CRASH + [r"\[mr\] modreader: FAIL"],
         # module3's rejection makes hvrun's status 3; the data modules of mr count as used.
         stderr=[r"^hvrun: exit 3 \(guest module3 ended rejected\(initrd-for=nobody"],
         check=lines_in_order(
             r"^\[mr\] modreader: 2 module\(s\)$",
             r"^\[mr\] module 0: string 'first file', 0x00104000-0x00104024$",
             r"^\[mr\] hv module test file$", r"^\[mr\] second line: 42$",
             r"^\[mr\] module 0: end$",
             r"^\[mr\] module 1: string '', 0x00105000-0x00105004$",
             r"^\[mr\] tiny$", r"^\[mr\] module 1: end$", r"^\[mr\] modreader: PASS$")),
    # A module larger than the guest's RAM after its kernel: the guest is rejected with the
    # module named; its neighbour runs.
    Case("module-mb1-initrd-too-big",
         ["--emu=bochs", MODREADER + "::name=small mem=1088K", "build/hv.elf::initrd-for=small",
          HELLO], 3,
         log=[r'hv: module 1 \("initrd-for=small"\) is the initrd of guest small$',
              verdict("small", r"rejected\(module 1 \(\d+ bytes\) at \[0x104000,0x[0-9a-f]+\) "
                               r"does not fit in guest RAM \(1088 KiB\)\)"),
              r"mm: guest small teardown: every frame returned",
              verdict("hello", r"exit\(0\)"), r"^hv: end: ok$"],
         not_log=NO_CRASH, check=one_boot_one_end,
         stderr=[r"^hvrun: exit 3 \(guest small ended rejected\(module 1"]),
]
