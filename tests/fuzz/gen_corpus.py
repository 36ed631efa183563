#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/NAME/ for the libFuzzer harnesses.

Seeds mirror the valid and malformed cases of the unit tests (tests/unit/test_mb2.c,
test_cmdline.c, test_modargs.c, test_loader.c, test_bzimage.c, test_guest_walk.c,
test_exit_cr.c, test_acpi_madt.c) in each harness's input format (described at the top of
tests/fuzz/fuzz_NAME.c). Deterministic: re-running rewrites the same files; inputs named
regress-* (minimised crashes, added by hand) are kept. Usage: tests/fuzz/gen_corpus.py [OUTDIR]
"""
import os
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
seeds = {}


def seed(harness, name, data):
    if isinstance(data, str):
        data = data.encode()
    seeds.setdefault(harness, {})[name] = bytes(data)


def u16(v):
    return struct.pack("<H", v & 0xFFFF)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


# ---------------------------------------------------------------- mb2 (Multiboot2 §3.6)

def pad8(b):
    return b + b"\0" * (-len(b) % 8)


def tag(t, payload, size=None):
    size = 8 + len(payload) if size is None else size
    return pad8(u32(t) + u32(size) + payload)


def string_tag(t, s):
    return tag(t, s.encode() + b"\0")


def module(start, end, cmdline):
    return tag(3, u32(start) + u32(end) + cmdline.encode() + b"\0")


def meminfo(lower, upper):
    return tag(4, u32(lower) + u32(upper))


def mmap(regions, entry_size=24):
    body = u32(entry_size) + u32(0)
    for base, length, typ in regions:
        e = u64(base) + u64(length) + u32(typ) + u32(0)
        body += e + b"\xee" * (entry_size - len(e))
    return tag(6, body)


def rsdp(t, n):
    return tag(t, bytes(0x40 + i for i in range(n)))


END = u32(0) + u32(8)


def blob(*tags, total=None, end=True, extra=b""):
    body = b"".join(tags) + (END if end else b"")
    size = 8 + len(body) if total is None else total
    return u32(size) + u32(0) + body + extra


FULL_REGIONS = [(0x0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0xF0000, 0x10000, 2),
                (0x100000, 0x7FEE0000, 1), (0x7FFE0000, 0x20000, 3), (0xFEC00000, 0x1000, 4),
                (0x100000000, 2 << 30, 1), (0x200000000, 0x1000, 5), (0x300000000, 0x1000, 9)]

seed("mb2", "valid_full", blob(string_tag(1, "loglevel=debug console=com1"),
                               string_tag(2, "GRUB 2.06"), meminfo(639, 2096000),
                               mmap(FULL_REGIONS), tag(21, u32(0x100000)),
                               module(0x200000, 0x201234, "linux"),
                               module(0x300000, 0x300000, 'initrd name="x y"'),
                               rsdp(14, 20), rsdp(15, 36)))
seed("mb2", "valid_rsdp_v2_then_v1", blob(rsdp(15, 36), rsdp(14, 20)))
seed("mb2", "valid_rsdp_v1_only", blob(rsdp(14, 20)))
seed("mb2", "valid_minimal", blob())
seed("mb2", "valid_trailing_after_end", blob(string_tag(1, "a"), extra=b"\xcc" * 16,
                                             total=8 + 16 + 8 + 16))
seed("mb2", "valid_wide_mmap_entries", blob(mmap([(0x1000, 0x2000, 1), (0x5000, 0x3000, 2)], 32)))
seed("mb2", "valid_max_mmap_and_modules",
     blob(mmap([(i * 0x1000, 0x1000, 1) for i in range(128)]),
          *[module(i * 0x1000, i * 0x1000 + 1, "m") for i in range(64)]))
seed("mb2", "valid_unknown_tags", blob(tag(21, u32(1)), tag(99, b"xyz"), tag(0xFFFFFFFF, b"")))
seed("mb2", "bad_avail_below_fixed", blob()[:7])
seed("mb2", "bad_truncated", blob(string_tag(1, "abc"))[:-8])
seed("mb2", "bad_total_too_small", u32(8) + u32(0) + END)
seed("mb2", "bad_total_not_multiple_of_8", u32(20) + u32(0) + END + b"\0" * 4)
seed("mb2", "bad_zero_size_tag", blob(u32(1) + u32(0)))
seed("mb2", "bad_tag_below_header", blob(u32(77) + u32(7)))
seed("mb2", "bad_oversize_tag", blob(u32(1) + u32(0x100) + b"ab\0\0\0\0\0\0"))
seed("mb2", "bad_missing_end", blob(string_tag(1, "a"), end=False))
seed("mb2", "bad_end_tag_size", blob(u32(0) + u32(16) + b"\0" * 8, end=False))
seed("mb2", "bad_unterminated_cmdline", blob(tag(1, b"abcdefgh")))
seed("mb2", "bad_unterminated_loader_name", blob(tag(2, b"grub")))
seed("mb2", "bad_empty_string_tag", blob(tag(1, b"")))
seed("mb2", "bad_unterminated_module_string", blob(tag(3, u32(1) + u32(2) + b"mod")))
seed("mb2", "bad_module_too_short", blob(tag(3, u32(1))))
seed("mb2", "bad_module_end_below_start", blob(module(0x2000, 0x1000, "m")))
seed("mb2", "bad_too_many_modules", blob(*[module(i, i, "") for i in range(65)]))
seed("mb2", "bad_duplicate_cmdline", blob(string_tag(1, "a"), string_tag(1, "b")))
seed("mb2", "bad_meminfo_too_short", blob(tag(4, u32(1))))
seed("mb2", "bad_mmap_entry_size_small", blob(mmap([], 16)))
seed("mb2", "bad_mmap_entry_size_unaligned", blob(tag(6, u32(28) + u32(0) + b"\0" * 28)))
seed("mb2", "bad_mmap_entries_do_not_fit", blob(tag(6, u32(24) + u32(0) + b"\0" * 36)))
seed("mb2", "bad_mmap_too_short", blob(tag(6, u32(24))))
seed("mb2", "bad_mmap_too_many", blob(mmap([(i * 0x1000, 0x1000, 1) for i in range(129)])))
seed("mb2", "bad_mmap_wraps", blob(mmap([(0xFFFFFFFFFFFFF000, 0x2000, 1)])))
seed("mb2", "bad_rsdp_v1_short", blob(rsdp(14, 19)))
seed("mb2", "bad_rsdp_v2_short", blob(rsdp(15, 20)))

# ---------------------------------------------------------------- modargs (command lines)

for i, s in enumerate([
    "", "  \t ", "/boot/guests/0-hello.elf", "  /boot/guests/0-hello.elf name=x mem=2M",
    "name=x /boot/guests/a.elf", "/boot=x", "boot/guest.elf", "name=Az09._-",
    "name=abcdefghijklmnopqrstuvwxyz01234", "name=abcdefghijklmnopqrstuvwxyz012345", "name=",
    "name=a/b", 'name="a b"', "name", "mem=1M", "mem=1024K", "mem=64G", "mem=3g",
    "mem=1052672", "mem=0x200000", "mem=512K", "mem=0", "mem=65G", "mem=65537M",
    "mem=1048577", "mem=1026K", "mem=x", "mem=16T", "mem=16MB", "mem=99999999999999999999",
    "mem=17179869184G", "mem=0xFFFFFFFFFFFFFFFF", "mem=0x", "timeout=1", "timeout=86400",
    "timeout=030", "timeout=0", "timeout=86401", "timeout=0x10", "timeout=10s", "timeout=-1",
    'cmdline="console=ttyS0 quiet  x=" name=q', "cmdline=single", 'cmdline=""',
    "mode=real entry=0x7c00 load=0x7c00", "mode=real entry=0x7c3e load=0x7c00 mem=1M",
    "mode=real entry=0x100000 load=0", "mode=real load=0x7c00", "entry=0x7c00 load=0x7c00",
    "mode=protected", "vcpus=1", "vcpus=8", "vcpus=9", "vcpus=0", "expect=exit(0)",
    "expect=", "name=a mem=32M timeout=5 cmdline=\"a b\" vcpus=2 expect=halted",
    "name=a name=b", "foo=bar", "a=1 =x", "=", 'cmdline="console=ttyS0', 'a="', 'a="x"y',
    'a=x"y"', 'a"b"=1', '"a"=1', "loglevel=debug console=com1 serial=0x3f8",
    "a=x=y", "quiet nosmp=", "a= b", 't="a\tb  c"', 'q="x"\ty',
    'name=x "cmdline=console=ttyS0 quiet" q=it\\\'s "w=a \\"b\\""', '"flag"', '"a b=1"',
    '"k=v"x', '"k=v', "k" * 31, "k" * 32 + "=1", "k=" + "v" * 255, "k=" + "v" * 256,
    'k="' + "v" * 255 + '"', "1K", "0x10M", "18446744073709551615", "18446744073709551616",
    "16g", "0xfffffffffffffffG",
    "initrd-for=linux", "initrd-for=mb env=1 debug", "a\tinitrd-for=mb  b", "initrd-for",
    "initrd-for=", "initrd-for=a initrd-for=b", "initrd-for=a/b", "name=a initrd-for=b",
    '"initrd-for=g" x', 'initrd-for=a x="y', 'x="y initrd-for=a',
    "cpus=1", "cpus=0-3", "cpus=0,2-3", "cpus=0-7", "cpus=3-1", "cpus=9", "cpus=0-8", "cpus=1,",
    "cpus=,1", "cpus=", "cpus=x", "cpus=1-2-3", 'name=a vcpus=2 cpus="1,3"',
]):
    seed("modargs", "case_%03d" % i, s)

# ---------------------------------------------------------------- loader (ctl byte + image)

MIB = 1 << 20


def elf(cls=2, entry=0x100000, segs=(), phentsize=None, phnum=None, etype=2, machine=None,
        version=1, ident_version=1, data=1, phoff=None, payload=b""):
    """An ELF image: header, program headers (type, offset, vaddr, paddr, filesz, memsz), then
    payload at the first offset after the headers."""
    is64 = cls == 2
    ehsize, phsize = (64, 56) if is64 else (52, 32)
    machine = (62 if is64 else 3) if machine is None else machine
    phoff = ehsize if phoff is None else phoff
    ident = b"\x7fELF" + bytes([cls, data, ident_version]) + b"\0" * 9
    nph = len(segs) if phnum is None else phnum
    phe = phsize if phentsize is None else phentsize
    if is64:
        hdr = ident + struct.pack("<HHIQQQIHHHHHH", etype, machine, version, entry, phoff, 0, 0,
                                  ehsize, phe, nph, 0, 0, 0)
    else:
        hdr = ident + struct.pack("<HHIIIIIHHHHHH", etype, machine, version, entry, phoff, 0, 0,
                                  ehsize, phe, nph, 0, 0, 0)
    phdrs = b""
    for typ, off, vaddr, paddr, filesz, memsz in segs:
        if is64:
            phdrs += struct.pack("<IIQQQQQQ", typ, 7, off, vaddr, paddr, filesz, memsz, 0x1000)
        else:
            phdrs += struct.pack("<IIIIIIII", typ, off, vaddr, paddr, filesz, memsz, 7, 0x1000)
    gap = phoff - len(hdr) if len(hdr) <= phoff <= 0x10000 else 0  # a bogus phoff: no gap
    img = hdr + b"\0" * gap + phdrs
    return img + payload


CODE = bytes(range(0x90, 0xD0))  # 64 bytes of "code"
E32 = 52 + 32  # file offset of the payload with one program header
E64 = 64 + 56


def auto(img, reverse=False):
    return bytes([2 if reverse else 0]) + img


def real(load, entry, img, reverse=False):
    return bytes([1 | (2 if reverse else 0)]) + struct.pack("<I", load)[:3] + \
        struct.pack("<I", entry)[:3] + img


seed("loader", "valid_elf32", auto(elf(1, 0x100010, [(1, E32, 0x100000, 0x100000, 64, 0x100)],
                                       payload=CODE)))
seed("loader", "valid_elf64", auto(elf(2, 0x100000, [(1, E64, 0x100000, 0x100000, 64, 64)],
                                       payload=CODE)))
seed("loader", "valid_elf64_reversed_chunks",
     auto(elf(2, 0x100000, [(1, E64, 0x100000, 0xFFFC0, 64, 0x80)], payload=CODE), True))
seed("loader", "valid_elf32_high_half_entry",
     auto(elf(1, 0xC0100004, [(1, E32, 0xC0100000, 0x100000, 64, 64)], payload=CODE)))
seed("loader", "valid_elf64_high_half_entry",
     auto(elf(2, 0xFFFFFFFF80100008, [(1, E64, 0xFFFFFFFF80100000, 0x100000, 64, 64)],
              payload=CODE)))
seed("loader", "valid_elf64_two_segments_bss",
     auto(elf(2, 0x100000, [(1, E64 + 56, 0x100000, 0x100000, 32, 32),
                            (1, E64 + 56 + 32, 0x180000, 0x180000, 32, 0x2000)], payload=CODE)))
seed("loader", "valid_segment_at_zero_and_odd_types",
     auto(elf(2, 0x10, [(0, 0, 0, 0, 0, 0), (1, E64 + 112, 0, 0, 0x40, 0x800),
                        (0x6474E551, 0, 0, 0, 0, 0)], payload=CODE)))
seed("loader", "valid_segment_ends_at_ram_end",
     auto(elf(1, 0x1FFFC0, [(1, E32, 0x1FFFC0, 0x1FFFC0, 64, 64)], payload=CODE)))
seed("loader", "valid_flat_real", real(0x7C00, 0x7C3E, bytes((i ^ 0x5A) & 0xFF for i in range(512))))
seed("loader", "valid_flat_real_elf_magic", real(0x7C00, 0x7C00, b"\x7fELF" + CODE))
seed("loader", "valid_flat_real_top", real(0xFFF00, 0xFFFFF, CODE * 4, True))
seed("loader", "bad_not_elf", auto(b"MZ\x90\x00" + CODE))
seed("loader", "bad_empty", auto(b""))
seed("loader", "bad_short_magic", auto(b"\x7fEL"))
seed("loader", "bad_class", auto(elf(1, payload=CODE)[:4] + b"\x03" + elf(1)[5:]))
seed("loader", "bad_data_encoding", auto(elf(2, data=2)))
seed("loader", "bad_ident_version", auto(elf(2, ident_version=0)))
seed("loader", "bad_truncated_ident", auto(b"\x7fELF\x02\x01"))
seed("loader", "bad_truncated_header32", auto(elf(1)[:40]))
seed("loader", "bad_truncated_header64", auto(elf(2)[:60]))
seed("loader", "bad_version", auto(elf(2, version=2, segs=[(1, E64, 0x100000, 0x100000, 0, 1)])))
seed("loader", "bad_type", auto(elf(2, etype=3, segs=[(1, E64, 0x100000, 0x100000, 0, 1)])))
seed("loader", "bad_machine", auto(elf(2, machine=3, segs=[(1, E64, 0x100000, 0x100000, 0, 1)])))
seed("loader", "bad_phentsize", auto(elf(1, phentsize=56, segs=[(1, E32, 0x100000, 0x100000,
                                                                  0, 1)])))
seed("loader", "bad_phnum_zero", auto(elf(2, phnum=0)))
seed("loader", "bad_phnum_65", auto(elf(2, phnum=65, segs=[(1, 0, 0x100000, 0x100000, 0, 1)])))
seed("loader", "bad_phdrs_truncated", auto(elf(2, phnum=2, segs=[(1, E64, 0x100000, 0x100000,
                                                                  0, 1)])))
seed("loader", "bad_phoff_past_end", auto(elf(2, phoff=0xFFFFFFFFFFFFFFF0,
                                              segs=[(1, 0, 0x100000, 0x100000, 0, 1)])))
seed("loader", "bad_zero_entry", auto(elf(2, entry=0, segs=[(1, E64, 0x100000, 0x100000, 0, 1)])))
seed("loader", "bad_filesz_above_memsz", auto(elf(2, segs=[(1, E64, 0x100000, 0x100000, 64, 32)],
                                                  payload=CODE)))
seed("loader", "bad_data_past_file", auto(elf(2, segs=[(1, E64, 0x100000, 0x100000, 65, 65)],
                                              payload=CODE)))
seed("loader", "bad_offset_past_file", auto(elf(2, segs=[(1, 0xFFFFFFFFFFFFFFFF, 0x100000,
                                                          0x100000, 1, 1)])))
seed("loader", "bad_outside_ram", auto(elf(2, segs=[(1, E64, 0x100000, 0x1FFFF0, 64, 64)],
                                           payload=CODE)))
seed("loader", "bad_huge_memsz", auto(elf(2, segs=[(1, E64, 0x100000, 0x100000, 0,
                                                    0xFFFFFFFFFFFFFFFF)])))
seed("loader", "bad_elf32_past_4g", auto(elf(1, 0xFFFFF000, [(1, E32, 0xFFFFF000, 0xFFFFF000,
                                                              0, 0x2000)])))
seed("loader", "bad_reserved_overlap", auto(elf(2, 0x4000, [(1, E64, 0x4000, 0x4000, 64, 64)],
                                                payload=CODE)))
seed("loader", "bad_reserved_overlap32", auto(elf(1, 0x1000, [(1, E32, 0x0, 0x0, 0, 0x1001)])))
seed("loader", "bad_overlapping_segments",
     auto(elf(2, 0x100000, [(1, E64 + 56, 0x100000, 0x100000, 32, 0x100),
                            (1, E64 + 56, 0x1000FF, 0x1000FF, 32, 32)], payload=CODE)))
seed("loader", "bad_no_load_segment", auto(elf(2, segs=[(0, 0, 0x100000, 0x100000, 0, 1)])))
seed("loader", "bad_entry_outside_segments", auto(elf(2, 0x200000, [(1, E64, 0x100000, 0x100000,
                                                                     64, 64)], payload=CODE)))
seed("loader", "bad_flat_empty", real(0x7C00, 0x7C00, b""))
seed("loader", "bad_flat_past_1m", real(0xFFFF0, 0xFFFF0, CODE))
seed("loader", "bad_flat_reserved_overlap", real(0x1F00, 0x1F00, bytes(0x200)))
seed("loader", "bad_flat_at_zero_into_reserved", real(0x0, 0x0, bytes(0x1001)))

# Modules (ctl bit 2): count, then per module u16 length, u8 string length, u8 omit_at,
# u8 omit_len, the string, the data; then the image.
def modules(mods):
    out = bytes([len(mods)])
    for data, string, omit_at, omit_len in mods:
        out += u16(len(data)) + bytes([len(string), omit_at, omit_len]) + string.encode() + data
    return out


def mods_auto(img, mods, reverse=False):
    return bytes([4 | (2 if reverse else 0)]) + modules(mods) + img


def mods_real(load, entry, img, mods):
    return bytes([5]) + struct.pack("<I", load)[:3] + struct.pack("<I", entry)[:3] + \
        modules(mods) + img


TEXT = b"hv module test file\nsecond line: 42\n"
ELF32_OK = elf(1, 0x100010, [(1, E32, 0x100000, 0x100000, 64, 0x100)], payload=CODE)
ELF64_OK = elf(2, 0x100000, [(1, E64, 0x100000, 0x100000, 64, 64)], payload=CODE)
seed("loader", "valid_module_elf32_one", mods_auto(ELF32_OK, [(TEXT, "initrd-for=t hello", 0, 13)]))
seed("loader", "valid_module_elf64_three", mods_auto(ELF64_OK, [
    (bytes(range(256)) * 17, "a initrd-for=t b", 1, 13), (b"", "initrd-for=t", 0, 12),
    (b"tiny", "env=1 initrd-for=t", 5, 13)], True))
seed("loader", "valid_module_flat_real", mods_real(0x7C00, 0x7C00, CODE, [(TEXT, "x", 0, 0)]))
seed("loader", "valid_module_kernel_below_1m",
     mods_auto(elf(1, 0x8000, [(1, E32, 0x8000, 0x8000, 64, 64)], payload=CODE),
               [(TEXT, "low kernel", 0, 0)]))
seed("loader", "bad_module_past_ram",
     mods_auto(elf(1, 0x1FFFC0, [(1, E32, 0x1FFFC0, 0x1FFFC0, 64, 64)], payload=CODE),
               [(b"x", "", 0, 0)]))
seed("loader", "bad_module_list_past_ram",
     mods_auto(elf(2, 0x1FE000, [(1, E64, 0x1FE000, 0x1FE000, 0, 0x10)]),
               [(b"\xAB" * 0xFFF, "", 0, 0)]))
seed("loader", "bad_module_image_not_elf", mods_auto(b"MZ\x90\x00" + CODE, [(TEXT, "x", 0, 0)]))

# ---------------------------------------------------------------- guest_walk

P, RW, US, PS, XD = 1, 2, 4, 0x80, 1 << 63
URW = P | RW | US
M_OFF, M_32, M_PAE, M_4L, LA57, FORCE_LMA = 0, 1, 2, 3, 4, 8
F_WP, F_PSE, F_SMEP, F_SMAP, F_NXE, F_AC = 1, 2, 4, 8, 16, 32
A_W, A_F, A_I = 1, 2, 4


def walk(mode, flags, cpl, access, length, cr3, gla, records):
    hdr = bytes([mode, flags | (cpl << 6), access]) + u16(length) + u64(cr3) + u64(gla)
    return hdr + b"".join(u16(off) + u64(val) for off, val in records)


def la4(i4, i3, i2, i1, off):
    v = (i4 << 39) | (i3 << 30) | (i2 << 21) | (i1 << 12) | off
    return v | (0xFFFF << 48 if v & (1 << 47) else 0)


FOUR = [(0x1000 + 1 * 8, 0x2000 | URW), (0x2000 + 2 * 8, 0x3000 | URW),
        (0x3000 + 3 * 8, 0x4000 | URW), (0x4000 + 4 * 8, 0x5000 | URW),
        (0x4000 + 5 * 8, 0x6000 | URW), (0x5000, 0x1122334455667788)]
G4 = la4(1, 2, 3, 4, 0x10)
seed("guest_walk", "off_read", walk(M_OFF, 0, 0, 0, 16, 0, 0x1234, [(0x1234, 0xAABBCCDD)]))
seed("guest_walk", "off_write_long", walk(M_OFF | FORCE_LMA, 0, 0, A_W, 8, 0, 0xFFF8, []))
seed("guest_walk", "4level_read", walk(M_4L, 0, 0, 0, 16, 0x1000, G4, FOUR))
seed("guest_walk", "4level_user_write_cross_page",
     walk(M_4L, F_WP, 3, A_W, 0x20, 0x1000, la4(1, 2, 3, 4, 0xFF0), FOUR))
seed("guest_walk", "4level_fetch_nx", walk(M_4L, F_NXE | F_SMEP, 0, A_F, 4, 0x1000, G4,
                                          FOUR[:3] + [(0x4000 + 32, 0x5000 | URW | XD)]))
seed("guest_walk", "4level_smap_implicit", walk(M_4L, F_SMAP | F_AC, 0, A_I, 4, 0x1000, G4, FOUR))
seed("guest_walk", "4level_readonly_wp", walk(M_4L, F_WP, 0, A_W, 4, 0x1000, G4,
                                             FOUR[:3] + [(0x4000 + 32, 0x5000 | P | US)]))
seed("guest_walk", "4level_not_present", walk(M_4L, 0, 3, 0, 4, 0x1000, G4, FOUR[:2]))
seed("guest_walk", "4level_reserved_bit", walk(M_4L, 0, 0, 0, 4, 0x1000, G4,
                                              FOUR[:3] + [(0x4000 + 32, 0x5000 | URW | 1 << 50)]))
seed("guest_walk", "4level_2m_page", walk(M_4L, 0, 0, A_W, 8, 0x1000, la4(1, 2, 3, 0, 0x5008),
                                         FOUR[:2] + [(0x3000 + 24, 0x0 | URW | PS)]))
seed("guest_walk", "4level_1g_page", walk(M_4L, 0, 0, 0, 8, 0x1000, la4(1, 2, 0, 0, 0x5000),
                                         FOUR[:1] + [(0x2000 + 16, URW | PS)]))
seed("guest_walk", "4level_non_canonical", walk(M_4L, 0, 0, 0, 8, 0x1000, 0x0000800000000000,
                                               FOUR))
seed("guest_walk", "4level_table_outside_ram", walk(M_4L, 0, 0, 0, 8, 0x1000, G4,
                                                   [(0x1000 + 8, 0x40000000 | URW)]))
seed("guest_walk", "5level_read", walk(M_4L | LA57, 0, 0, 0, 8, 0x7000,
                                      (3 << 48) | G4 & ((1 << 48) - 1),
                                      [(0x7000 + 3 * 8, 0x1000 | URW)] + FOUR))
G32 = (3 << 22) | (5 << 12) | 0x20
seed("guest_walk", "32bit_read", walk(M_32, 0, 3, 0, 16, 0x1000, G32,
                                     [(0x1000 + 3 * 4, 0x2000 | URW), (0x2000 + 5 * 4, 0x5000 | URW),
                                      (0x5020, 0xDEADBEEF)]))
seed("guest_walk", "32bit_4m_page", walk(M_32, F_PSE, 0, A_W, 16, 0x1000, 0x10,
                                        [(0x1000, URW | PS)]))
seed("guest_walk", "32bit_4m_pse36", walk(M_32, F_PSE, 0, 0, 16, 0x1000, 0x400010,
                                         [(0x1004, URW | PS | (1 << 13))]))
seed("guest_walk", "32bit_lma_without_pae", walk(M_32 | FORCE_LMA, 0, 0, 0, 4, 0x1000, 0, []))
GPAE = (1 << 30) | (2 << 21) | (3 << 12) | 0x40
seed("guest_walk", "pae_read", walk(M_PAE, F_NXE, 0, 0, 16, 0x1000, GPAE,
                                   [(0x1008, 0x2000 | P), (0x2000 + 16, 0x3000 | URW),
                                    (0x3000 + 24, 0x5000 | URW)]))
seed("guest_walk", "pae_2m_page", walk(M_PAE, 0, 0, A_W, 16, 0x1000, GPAE,
                                      [(0x1008, 0x2000 | P), (0x2000 + 16, 0 | URW | PS)]))
seed("guest_walk", "pae_pdpte_reserved", walk(M_PAE, 0, 0, 0, 16, 0x1000, GPAE,
                                             [(0x1008, 0x2000 | P | RW)]))
seed("guest_walk", "pae_xd_without_nxe", walk(M_PAE, 0, 0, A_F, 4, 0x1000, GPAE,
                                             [(0x1008, 0x2000 | P), (0x2000 + 16, 0x3000 | URW),
                                              (0x3000 + 24, 0x5000 | URW | XD)]))

# ---------------------------------------------------------------- exit_decode

K_CR, K_IO = 0, 1
X_REAL, X_PROT, X_PROT_PG, X_PAE, X_COMPAT, X_LONG = range(6)
CR0_PE, CR0_TS, CR0_NE, CR0_WP, CR0_NW, CR0_CD, CR0_PG = 1, 8, 32, 1 << 16, 1 << 29, 1 << 30, 1 << 31
CR4_PSE, CR4_PAE, CR4_PGE, CR4_VMXE, CR4_PCIDE = 16, 32, 128, 1 << 13, 1 << 17


def qual_cr(cr, typ, gpr, lmsw_src=0):
    return cr | (typ << 4) | (gpr << 8) | (lmsw_src << 16)


def qual_io(port, size, into=False, string=False, rep=False, imm=False):
    return (size - 1) | (8 if into else 0) | (16 if string else 0) | (32 if rep else 0) | \
        (64 if imm else 0) | (port << 16)


def exit_input(kind, mode, flags, qual, info=0, length=3, cr4=0, cr3=0, rip=0x1000,
               rsp=0x8000, gpr=None, bases=(0,) * 6, ram=b""):
    gpr = gpr or {}
    regs = b"".join(u64(gpr.get(i, 0)) for i in range(16))
    return bytes([kind, mode, flags]) + u32(cr4) + u64(qual) + u32(info) + bytes([length - 1]) + \
        u64(cr3) + u64(rip) + u64(rsp) + regs + b"".join(u16(b) for b in bases) + ram


RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI = range(8)
PDPT_RAM = b"\0" * 0x40 + u64(0x3001) + u64(0) + u64(0) + u64(0)  # PAE PDPT at 0x40
for name, mode, qual, regs in [
    ("cr0_set_pg_prot", X_PROT, qual_cr(0, 0, RAX), {RAX: CR0_PE | CR0_PG | CR0_NE}),
    ("cr0_clear_pe_real", X_PROT, qual_cr(0, 0, RBX), {RBX: CR0_NE}),
    ("cr0_pg_without_pe", X_REAL, qual_cr(0, 0, RAX), {RAX: CR0_PG}),
    ("cr0_nw_without_cd", X_PROT, qual_cr(0, 0, RAX), {RAX: CR0_PE | CR0_NW}),
    ("cr0_cd_nw", X_PROT, qual_cr(0, 0, RAX), {RAX: CR0_PE | CR0_CD | CR0_NW}),
    ("cr0_high_bits", X_LONG, qual_cr(0, 0, 9), {9: 1 << 32 | CR0_PE | CR0_PG}),
    ("cr0_leave_long_compat", X_COMPAT, qual_cr(0, 0, RAX), {RAX: CR0_PE}),
    ("cr0_leave_long_64bit", X_LONG, qual_cr(0, 0, RAX), {RAX: CR0_PE}),
    ("cr0_clear_wp", X_LONG, qual_cr(0, 0, 15), {15: CR0_PE | CR0_PG}),
    ("cr0_pae_paging_on", X_PROT, qual_cr(0, 0, RAX), {RAX: CR0_PE | CR0_PG}),
    ("cr4_set_pae", X_PROT, qual_cr(4, 0, RCX), {RCX: CR4_PAE | CR4_PSE}),
    ("cr4_clear_pae_long", X_LONG, qual_cr(4, 0, RCX), {RCX: 0}),
    ("cr4_vmxe", X_PROT, qual_cr(4, 0, RCX), {RCX: CR4_VMXE}),
    ("cr4_pcide_long", X_LONG, qual_cr(4, 0, RDX), {RDX: CR4_PAE | CR4_PCIDE}),
    ("cr4_pcide_legacy", X_PROT, qual_cr(4, 0, RDX), {RDX: CR4_PCIDE}),
    ("cr4_pae_with_paging", X_PROT_PG, qual_cr(4, 0, RDX), {RDX: CR4_PAE}),
    ("cr3_load_pae", X_PAE, qual_cr(3, 0, RSI), {RSI: 0x40}),
    ("cr3_load_long_noflush", X_LONG, qual_cr(3, 0, RSI), {RSI: 1 << 63 | 0x5000}),
    ("cr3_reserved_long", X_LONG, qual_cr(3, 0, RSI), {RSI: 1 << 60}),
    ("cr3_outside_ram_pae", X_PAE, qual_cr(3, 0, RSI), {RSI: 0xFFFFF000}),
    ("cr8_write", X_LONG, qual_cr(8, 0, RDI), {RDI: 7}),
    ("cr8_write_reserved", X_LONG, qual_cr(8, 0, RDI), {RDI: 16}),
    ("cr_nonexistent", X_LONG, qual_cr(5, 0, RAX), {}),
    ("mov_from_cr0", X_PROT, qual_cr(0, 1, RBP), {}),
    ("mov_from_cr3_rsp", X_LONG, qual_cr(3, 1, RSP), {}),
    ("mov_from_cr8", X_LONG, qual_cr(8, 1, RAX), {}),
    ("clts", X_PROT, qual_cr(0, 2, 0), {}),
    ("lmsw_set_pe", X_REAL, qual_cr(0, 3, 0, 0xF), {}),
    ("lmsw_cannot_clear_pe", X_PROT, qual_cr(0, 3, 0, 0), {}),
]:
    seed("exit_decode", "cr_" + name,
         exit_input(K_CR, mode, 0, qual, gpr=regs, cr3=0x40 if mode == X_PAE else 0,
                    ram=PDPT_RAM))
seed("exit_decode", "cr_user_mode", exit_input(K_CR, X_PROT, 3, qual_cr(0, 0, RAX),
                                               gpr={RAX: CR0_PE}))
seed("exit_decode", "cr_wraps_rip", exit_input(K_CR, X_PROT, 0, qual_cr(0, 1, RAX), length=15,
                                               rip=0xFFFFFFFE))
TEXT = b"hello, world\n" * 4
for name, mode, flags, qual, info, regs, ram in [
    ("out_com1", X_PROT, 0, qual_io(0x3F8, 1), 0, {RAX: ord("A")}, b""),
    ("in_lsr", X_PROT, 0, qual_io(0x3FD, 1, into=True), 0, {RAX: 0xFFFFFFFFFFFFFFFF}, b""),
    ("in_dword_unclaimed", X_LONG, 0, qual_io(0x80, 4, into=True), 0, {RAX: -1}, b""),
    ("out_word_imm", X_REAL, 0, qual_io(0x70, 2, imm=True), 0, {RAX: 0x1234}, b""),
    ("out_debug_exit", X_PROT, 0, qual_io(0xF4, 1), 0, {RAX: 3}, b""),
    ("out_acpi_poweroff", X_PROT, 0, qual_io(0x604, 2), 0, {RAX: 0x2000}, b""),
    ("undecodable_size3", X_PROT, 0, qual_io(0x3F8, 3), 0, {}, b""),
    ("outsb_rep_com1", X_PROT, 0, qual_io(0x3F8, 1, string=True, rep=True), 1 << 7 | 3 << 15,
     {RSI: 0x100, RCX: len(TEXT)}, b"\0" * 0x100 + TEXT),
    ("outsb_rep_df_16bit", X_REAL, 4, qual_io(0x3F8, 1, string=True, rep=True), 3 << 15,
     {RSI: 0x130, RCX: 0x10}, b"\0" * 0x100 + TEXT),
    ("insd_rep", X_PROT, 0, qual_io(0x3FD, 4, into=True, string=True, rep=True), 1 << 7,
     {RDI: 0x200, RCX: 8}, b""),
    ("insb_outside_ram", X_LONG, 0, qual_io(0x3FD, 1, into=True, string=True), 2 << 7,
     {RDI: 0x123456789}, b""),
    ("outsw_fs_base", X_LONG, 0, qual_io(0x3F8, 2, string=True), 2 << 7 | 4 << 15,
     {RSI: 0x10}, b"xyzw" * 16),
    ("outsb_rep_huge_rcx", X_LONG, 0, qual_io(0x3F8, 1, string=True, rep=True), 2 << 7 | 3 << 15,
     {RSI: 0, RCX: 1 << 40}, b"."),
    ("outsb_user_page_fault", X_PROT_PG, 3, qual_io(0x3F8, 1, string=True), 1 << 7 | 3 << 15,
     {RSI: 0x400000}, b""),
]:
    seed("exit_decode", "io_" + name,
         exit_input(K_IO, mode, flags, qual, info, gpr=regs, bases=(0, 0, 0, 0, 0x40, 0), ram=ram))

# ---------------------------------------------------------------- hypercall


def call(rax, rbx=0, rcx=0, cpl=0):
    return bytes([cpl]) + u64(rax) + u64(rbx) + u64(rcx)


seed("hypercall", "exit_0", bytes([2]) + call(0, 0))
seed("hypercall", "exit_status_high_bits", bytes([2]) + call(0xFFFFFFFF00000000, 0x1FFFFFFFF))
seed("hypercall", "console_write", bytes([2]) + call(1, 0x100, 12) + call(1, 0x200, 1))
seed("hypercall", "console_write_max", bytes([2]) + call(1, 0, 4096))
seed("hypercall", "console_write_too_long", bytes([2]) + call(1, 0, 4097))
seed("hypercall", "console_write_past_ram", bytes([2]) + call(1, 0xFFF0, 0x20))
seed("hypercall", "console_write_wrapping", bytes([2]) + call(1, 0xFFFFFFFF, 2))
seed("hypercall", "info", bytes([2]) + call(2, 0x3000))
seed("hypercall", "info_at_ram_end", bytes([2]) + call(2, 0x10000 - 64))
seed("hypercall", "info_past_ram", bytes([2]) + call(2, 0x10000 - 63))
seed("hypercall", "unknown", bytes([2]) + call(3) + call(0xFFFFFFFF) + call(1 << 32 | 2, 0x40))
seed("hypercall", "user_mode", bytes([2]) + call(0, 1, 0, cpl=3) + call(2, 0, 0, cpl=1))
seed("hypercall", "sequence", bytes([0]) + call(1, 0x10, 100) + call(2, 0x20) + call(0, 7) +
     call(1, 0x10, 100))


# ---------------------------------------------------------------- bzimage (ctl + initrd + cmdline + image)

def bzimage(setup_sects=1, syssize=None, kernel_len=0x400, version=0x20F, boot_flag=0xAA55,
            magic=b"HdrS", jump_end=0x26C, loadflags=0x01, xloadflags=0x7F, relocatable=1,
            align=0x100000, pref=0x100000, init_size=0x100000, initrd_addr_max=0x7FFFFFFF,
            cmdline_size=2047, truncate=None):
    """A miniature bzImage (tests/unit/test_bzimage.c builds the same in C)."""
    setup = (setup_sects or 4) + 1
    img = bytearray(setup * 512 + kernel_len)
    struct.pack_into("<BHI", img, 0x1F1, setup_sects, 1,
                     kernel_len // 16 if syssize is None else syssize)
    struct.pack_into("<H", img, 0x1FE, boot_flag)
    img[0x200:0x202] = bytes([0xEB, (jump_end - 0x202) & 0xFF])
    img[0x202:0x206] = magic
    struct.pack_into("<H", img, 0x206, version)
    img[0x211] = loadflags
    struct.pack_into("<I", img, 0x214, 0x100000)
    struct.pack_into("<IIBBHI", img, 0x22C, initrd_addr_max, align, relocatable, 20, xloadflags,
                     cmdline_size)
    struct.pack_into("<QI", img, 0x258, pref, init_size)
    for i in range(kernel_len):
        img[setup * 512 + i] = (0x5A + i * 31) & 0xFF
    return bytes(img[:truncate] if truncate is not None else img)


def bz(img, initrd=0, cmdline=b"console=ttyS0 quiet", reverse=False):
    return bytes([1 if reverse else 0]) + struct.pack("<I", initrd)[:3] + bytes([len(cmdline)]) + \
        cmdline + img


seed("bzimage", "valid_minimal", bz(bzimage()))
seed("bzimage", "valid_initrd", bz(bzimage(), initrd=0x12345, reverse=True))
seed("bzimage", "valid_initrd_below_kernel",
     bz(bzimage(pref=0x200000, initrd_addr_max=0x300FFF), initrd=0x8000))
seed("bzimage", "valid_setup_sects_zero", bz(bzimage(setup_sects=0)))
seed("bzimage", "valid_protocol_212", bz(bzimage(version=0x20C, jump_end=0x268)))
seed("bzimage", "valid_not_relocatable", bz(bzimage(relocatable=0, pref=0x180000)))
seed("bzimage", "valid_unaligned_pref", bz(bzimage(pref=0x123456)))
seed("bzimage", "valid_cmdline_at_limit", bz(bzimage(cmdline_size=5), cmdline=b"abcde"))
seed("bzimage", "valid_empty_cmdline", bz(bzimage(), cmdline=b""))
seed("bzimage", "bad_empty", bz(b""))
seed("bzimage", "bad_elf", bz(b"\x7fELF" + bytes(0x400)))
seed("bzimage", "bad_boot_flag", bz(bzimage(boot_flag=0x55AA)))
seed("bzimage", "bad_magic", bz(bzimage(magic=b"HdrT")))
seed("bzimage", "bad_truncated_header", bz(bzimage(truncate=0x260)))
seed("bzimage", "bad_protocol_211", bz(bzimage(version=0x20B)))
seed("bzimage", "bad_no_kernel_64", bz(bzimage(xloadflags=0x7E)))
seed("bzimage", "bad_zimage", bz(bzimage(loadflags=0)))
seed("bzimage", "bad_header_end", bz(bzimage(jump_end=0x267)))
seed("bzimage", "bad_setup_sects", bz(bzimage(setup_sects=65)))
seed("bzimage", "bad_truncated_setup", bz(bzimage(setup_sects=8, truncate=0x800)))
seed("bzimage", "bad_syssize_small", bz(bzimage(syssize=0x20)))
seed("bzimage", "bad_truncated_kernel", bz(bzimage(syssize=0x41)))
seed("bzimage", "bad_init_size", bz(bzimage(init_size=0x3FF)))
seed("bzimage", "bad_alignment", bz(bzimage(align=0x3000)))
seed("bzimage", "bad_kernel_too_big", bz(bzimage(init_size=0x400000)))
seed("bzimage", "bad_low_pref_not_relocatable", bz(bzimage(relocatable=0, pref=0x80000)))
seed("bzimage", "bad_pref_overflow", bz(bzimage(pref=0xFFFFFFFFFFFFF000)))
seed("bzimage", "bad_cmdline_too_long", bz(bzimage(cmdline_size=4), cmdline=b"abcde"))
seed("bzimage", "bad_initrd_overlap", bz(bzimage(pref=0x200000, init_size=0x100000),
                                          initrd=0x200000))
seed("bzimage", "bad_initrd_addr_max", bz(bzimage(initrd_addr_max=0xFFFFF), initrd=0x1000))
seed("bzimage", "bad_initrd_too_big", bz(bzimage(), initrd=0x3FFFFF))

# ---------------------------------------------------------------- madt (rsdp_len + physical memory)
# Mirrors tests/unit/test_acpi_madt.c. Physical memory starts at address 0 with the RSDP; the
# tables follow at fixed offsets.
RSDT_AT, XSDT_AT, FACP_AT, MADT_AT = 0x40, 0x80, 0xC0, 0x100


def acpi_sum_fix(b, at):
    """Sets byte `at` so that b sums to 0 modulo 256 (the ACPI checksum rule)."""
    b = bytearray(b)
    b[at] = 0
    b[at] = (-sum(b)) & 0xFF
    return bytes(b)


def sdt(sig, body, rev=1, length=None, bad_sum=False):
    length = 36 + len(body) if length is None else length
    hdr = sig.encode() + u32(length) + bytes([rev, 0]) + b"TEST  " + b"TESTTBL " + u32(1) + \
        b"TEST" + u32(1)
    t = hdr + body
    n = min(length, len(t))  # the checksum covers Length bytes (the rest of memory is zero)
    t = acpi_sum_fix(t[:n], 9) + t[n:]
    if bad_sum:
        t = t[:9] + bytes([(t[9] + 1) & 0xFF]) + t[10:]
    return t


def acpi_rsdp(rsdt, xsdt=None, bad_sum=False, bad_ext=False):
    v1 = b"RSD PTR " + b"\0" + b"TEST  " + bytes([0 if xsdt is None else 2]) + u32(rsdt)
    if xsdt is None:
        r = acpi_sum_fix(v1, 8)
    else:
        r = acpi_sum_fix(acpi_sum_fix(v1, 8) + u32(36) + u64(xsdt) + b"\0" * 4, 32)
        if bad_ext:
            r = r[:32] + bytes([(r[32] + 1) & 0xFF]) + r[33:]
    if bad_sum:
        r = r[:8] + bytes([(r[8] + 1) & 0xFF]) + r[9:]
    return r


def lapic(apic_id, flags=1):
    return bytes([0, 8, apic_id, apic_id]) + u32(flags)


def x2apic(apic_id, flags=1):
    return bytes([9, 16]) + u16(0) + u32(apic_id) + u32(flags) + u32(0)


IOAPIC = bytes([1, 12, 8, 0]) + u32(0xFEC00000) + u32(0)
ISO_PIT = bytes([2, 10, 0, 0]) + u32(2) + u16(0x5)
ISO_SCI = bytes([2, 10, 0, 9]) + u32(9) + u16(0xD)
NMI_ALL = bytes([4, 6, 0xFF]) + u16(0x5) + bytes([1])


def madt(entries, flags=1, rev=5, **kw):
    return sdt("APIC", u32(0xFEE00000) + u32(flags) + b"".join(entries), rev, **kw)


def phys(rsdp_bytes, rsdp_len, madt_table, rsdt=None, xsdt=None, size=0x200):
    rsdt = sdt("RSDT", u32(FACP_AT) + u32(MADT_AT)) if rsdt is None else rsdt
    xsdt = sdt("XSDT", u64(FACP_AT) + u64(MADT_AT)) if xsdt is None else xsdt
    mem = bytearray(max(size, MADT_AT + len(madt_table)))
    for at, b in ((0, rsdp_bytes), (RSDT_AT, rsdt), (XSDT_AT, xsdt), (FACP_AT, sdt("FACP", u32(0), 6)),
                  (MADT_AT, madt_table)):
        mem[at:at + len(b)] = b
    return bytes([rsdp_len]) + bytes(mem)


V2 = acpi_rsdp(RSDT_AT, XSDT_AT)
V1 = acpi_rsdp(RSDT_AT)
ONE = madt([lapic(0), IOAPIC])
seed("madt", "valid_v1_one_cpu", phys(V1, 20, ONE))
seed("madt", "valid_v2_two_cpus", phys(V2, 36, madt([lapic(0), lapic(1), IOAPIC])))
seed("madt", "valid_v2_no_xsdt", phys(acpi_rsdp(RSDT_AT, 0), 36, madt([lapic(0), lapic(2)])))
seed("madt", "valid_v2_cut_to_v1", phys(V2, 20, ONE))
seed("madt", "valid_eight_cpus", phys(V2, 36, madt([lapic(i) for i in range(8)])))
seed("madt", "valid_nine_cpus", phys(V2, 36, madt([lapic(i) for i in range(9)])))
seed("madt", "valid_disabled", phys(V2, 36, madt([lapic(0), lapic(1, 0), lapic(2)], flags=0)))
seed("madt", "valid_online_capable", phys(V2, 36, madt([lapic(0), lapic(3, 2)])))
seed("madt", "valid_online_capable_rev4", phys(V2, 36, madt([lapic(0), lapic(3, 2)], rev=4)))
seed("madt", "valid_x2apic", phys(V2, 36, madt([lapic(0), x2apic(0x100), x2apic(0x101, 0)])))
seed("madt", "valid_override_unknown_longer",
     phys(V2, 36, madt([bytes([0x7F, 3, 0xEE]), lapic(0), bytes([5, 12]) + u16(0) +
                        u64(0x1234567000), bytes([0, 10, 1, 1]) + u32(1) + u16(0)])))
seed("madt", "valid_hv_guest_like",
     phys(V2, 36, madt([lapic(0), lapic(1), IOAPIC, ISO_PIT, ISO_SCI, NMI_ALL], rev=3)))
seed("madt", "bad_rsdp_checksum", phys(acpi_rsdp(RSDT_AT, bad_sum=True), 20, ONE))
seed("madt", "bad_rsdp_ext_checksum", phys(acpi_rsdp(RSDT_AT, XSDT_AT, bad_ext=True), 36, ONE))
seed("madt", "bad_rsdp_short", phys(V1, 19, ONE))
seed("madt", "bad_madt_checksum", phys(V2, 36, madt([lapic(0)], bad_sum=True)))
seed("madt", "bad_xsdt_checksum", phys(V2, 36, ONE, xsdt=sdt("XSDT", u64(MADT_AT), bad_sum=True)))
seed("madt", "bad_madt_truncated", phys(V2, 36, madt([lapic(0)], length=43)))
seed("madt", "bad_entry_past_end", phys(V2, 36, madt([lapic(0), bytes([1, 12, 0, 0])])))
seed("madt", "bad_zero_length_entry", phys(V2, 36, madt([lapic(0), bytes([1, 0]), lapic(1)])))
seed("madt", "bad_short_x2apic", phys(V2, 36, madt([lapic(0), bytes([9, 12]) + b"\0" * 10])))
seed("madt", "bad_duplicate_ids", phys(V2, 36, madt([lapic(0), lapic(1), lapic(1)])))
seed("madt", "bad_no_enabled_cpu", phys(V2, 36, madt([lapic(0, 0), IOAPIC])))
seed("madt", "bad_no_madt", phys(V2, 36, ONE, xsdt=sdt("XSDT", u64(FACP_AT) + u64(0))))
seed("madt", "bad_madt_past_memory", phys(V2, 36, madt([lapic(0)], length=0x1000)))
seed("madt", "bad_xsdt_entry_unmapped", phys(V2, 36, ONE, xsdt=sdt("XSDT", u64(0x10000))))


def main():
    for harness, files in sorted(seeds.items()):
        d = os.path.join(OUT, harness)
        kept = [f for f in os.listdir(d) if f.startswith("regress-")] if os.path.isdir(d) else []
        if os.path.isdir(d):
            for f in os.listdir(d):
                if f not in kept:
                    os.remove(os.path.join(d, f))
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(files.items()):
            with open(os.path.join(d, name), "wb") as fh:
                fh.write(data)
        print("%s: %d seeds%s" % (harness, len(files),
                                  " (+%d regression inputs kept)" % len(kept) if kept else ""))


main()
