# SPDX-License-Identifier: GPL-2.0-or-later
"""A boot-sector guest image, assembled by hand (reference/test-harness.md 5).

SeaBIOS loads the first sector of the disk at 0000:7C00 and jumps to it in
real mode. The code prints a marker to COM1 (I/O port 0x3F8, no UART set-up
needed under QEMU), then by mode:

  idle               halt in a loop with interrupts on (the timer wakes it)
  panic-now          write 1 (pvpanic bit 0, "panicked") to I/O port 0x505,
                     disable interrupts, halt forever
  panic-after-delay  halt until the BIOS tick counter at 0000:046C (18.2
                     ticks/s) has advanced by TICKS (36 is about 2 s), then
                     panic as above

The file is padded to 1 MiB: SeaBIOS cannot boot a 512-byte disk.

    python3 guestimg.py MODE [TICKS] OUT     write an image
    objdump -D -b binary -mi8086 --adjust-vma=0x7c00 OUT     inspect it
"""

import os
import struct
import sys

MODES = ("idle", "panic-now", "panic-after-delay")
DEFAULT_TICKS = 36
IMAGE_SIZE = 1 << 20
LOAD_ADDR = 0x7C00
COM1 = 0x3F8
PVPANIC_PORT = 0x505
BIOS_TICKS = 0x046C


def marker(mode):
    """The line the guest prints on COM1 once it runs (without CR LF)."""
    if mode not in MODES:
        raise ValueError(f"unknown guest mode {mode!r}; one of {', '.join(MODES)}")
    return f"KVMMCED-BOOT-OK {mode}"


class _Asm:
    """Just enough of an 8086 assembler: fixed-size instructions, labels,
    8-bit relative jumps and 16-bit absolute label addresses."""

    def __init__(self, origin):
        self.origin = origin
        self.items = []  # bytes, or (kind, label, opcode)
        self.labels = {}
        self.size = 0

    def emit(self, *bs):
        b = bytes(bs)
        self.items.append(b)
        self.size += len(b)

    def label(self, name):
        self.labels[name] = self.origin + self.size

    def jrel8(self, opcode, name):  # jmp/jcc rel8: 2 bytes
        self.items.append(("rel8", name, opcode))
        self.size += 2

    def op_addr16(self, opcode, name):  # e.g. mov si, imm16 (label address)
        self.items.append(("abs16", name, opcode))
        self.size += 3

    def data(self, b):
        self.items.append(bytes(b))
        self.size += len(b)

    def assemble(self):
        out = bytearray()
        for it in self.items:
            if isinstance(it, bytes):
                out += it
                continue
            kind, name, opcode = it
            target = self.labels[name]
            here = self.origin + len(out)
            if kind == "rel8":
                rel = target - (here + 2)
                if not -128 <= rel <= 127:
                    raise ValueError(f"jump to {name} out of range ({rel})")
                out += bytes((opcode, rel & 0xFF))
            else:
                out += bytes((opcode,)) + struct.pack("<H", target)
        return bytes(out)


def boot_sector(mode, ticks=DEFAULT_TICKS):
    """The 512-byte boot sector for mode (see the module doc)."""
    text = marker(mode)
    if not 1 <= ticks <= 0xFFFF:
        raise ValueError(f"ticks must be 1..65535, not {ticks}")
    a = _Asm(LOAD_ADDR)
    # Some BIOSes enter at 07C0:0000; normalise CS:IP to 0000:7C05.
    a.emit(0xEA, *struct.pack("<HH", LOAD_ADDR + 5, 0))  # jmp 0000:7c05
    a.emit(0xFA)                                         # cli
    a.emit(0x31, 0xC0)                                   # xor ax, ax
    a.emit(0x8E, 0xD8)                                   # mov ds, ax
    a.emit(0x8E, 0xD0)                                   # mov ss, ax
    a.emit(0xBC, *struct.pack("<H", LOAD_ADDR))          # mov sp, 0x7c00
    a.emit(0xFB)                                         # sti
    a.emit(0xFC)                                         # cld
    a.op_addr16(0xBE, "msg")                             # mov si, msg
    a.emit(0xBA, *struct.pack("<H", COM1))               # mov dx, 0x3f8
    a.label("print")
    a.emit(0xAC)                                         # lodsb
    a.emit(0x84, 0xC0)                                   # test al, al
    a.jrel8(0x74, "printed")                             # jz printed
    a.emit(0xEE)                                         # out dx, al
    a.jrel8(0xEB, "print")                               # jmp print
    a.label("printed")
    if mode == "idle":
        a.label("idle")
        a.emit(0xF4)                                     # hlt
        a.jrel8(0xEB, "idle")                            # jmp idle
    else:
        if mode == "panic-after-delay":
            a.emit(0x8B, 0x1E, *struct.pack("<H", BIOS_TICKS))  # mov bx, [0x046c]
            a.label("wait")
            a.emit(0xF4)                                 # hlt (timer wakes us)
            a.emit(0xA1, *struct.pack("<H", BIOS_TICKS))  # mov ax, [0x046c]
            a.emit(0x29, 0xD8)                           # sub ax, bx
            a.emit(0x3D, *struct.pack("<H", ticks))      # cmp ax, ticks
            a.jrel8(0x72, "wait")                        # jb wait
        a.emit(0xBA, *struct.pack("<H", PVPANIC_PORT))   # mov dx, 0x505
        a.emit(0xB0, 0x01)                               # mov al, 1
        a.emit(0xEE)                                     # out dx, al
        a.emit(0xFA)                                     # cli
        a.label("halt")
        a.emit(0xF4)                                     # hlt
        a.jrel8(0xEB, "halt")                            # jmp halt
    a.label("msg")
    a.data(text.encode("ascii") + b"\r\n\0")
    code = a.assemble()
    if len(code) > 510:
        raise ValueError("boot sector code too long")
    return code + bytes(510 - len(code)) + b"\x55\xAA"


def write_image(path, mode, ticks=DEFAULT_TICKS):
    """Write a 1 MiB raw disk image for mode to path; return path."""
    sector = boot_sector(mode, ticks)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(sector)
        f.truncate(IMAGE_SIZE)
    os.replace(tmp, path)
    return path


def main(argv):
    if len(argv) not in (3, 4) or argv[1] not in MODES:
        print(f"usage: {argv[0]} {'|'.join(MODES)} [TICKS] OUT", file=sys.stderr)
        return 2
    ticks = int(argv[2]) if len(argv) == 4 else DEFAULT_TICKS
    write_image(argv[-1], argv[1], ticks)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
