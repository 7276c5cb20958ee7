#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the journal golden inputs in Journal Export Format.

    mkjournal.py OUTDIR

writes OUTDIR/journal-kernel.export and OUTDIR/journal-hostile.export
(normally tests/data/golden/). The files are committed; this script is how
they were made, so that changing them stays reviewable.

Kernel lines carry exactly the fields journald gives a message the kernel
printed (docs: reference/test-harness.md 9.1): _TRANSPORT=kernel,
SYSLOG_FACILITY=0, SYSLOG_IDENTIFIER=kernel, PRIORITY, both timestamps and
_SOURCE_MONOTONIC_TIMESTAMP, one _BOOT_ID per file. A line that a process
wrote into /dev/kmsg is shaped as journald records it: facility 1 and the
leading "MCE:" split off into SYSLOG_IDENTIFIER.
"""

import os
import struct
import sys

BOOT_ID = "5b0c1d9e7a4f4e21b8c3d6e9f0a1b2c3"
MACHINE_ID = "9f8e7d6c5b4a49382716051a2b3c4d5e"
HOSTNAME = "kvmhost1"
REALTIME_START = 1700000000000000
MONOTONIC_START = 3600000000  # one hour after boot

# printk levels as journald stores them in PRIORITY
EMERG, CRIT, ERR, WARNING, INFO = 0, 2, 3, 4, 6


class Journal:
    def __init__(self):
        self.out = bytearray()
        self.realtime = REALTIME_START
        self.monotonic = MONOTONIC_START

    def advance(self, us):
        self.realtime += us
        self.monotonic += us

    def entry(self, fields):
        for key, value in fields:
            if isinstance(value, str):
                value = value.encode("utf-8")
            if b"\n" in value or b"\0" in value or not _is_utf8(value):
                # binary form: KEY \n le64 length, bytes \n
                self.out += key.encode() + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"
            else:
                self.out += key.encode() + b"=" + value + b"\n"
        self.out += b"\n"
        self.advance(1000)

    def common(self):
        return [
            ("__REALTIME_TIMESTAMP", str(self.realtime)),
            ("__MONOTONIC_TIMESTAMP", str(self.monotonic)),
            ("_BOOT_ID", BOOT_ID),
            ("_MACHINE_ID", MACHINE_ID),
            ("_HOSTNAME", HOSTNAME),
        ]

    def kernel(self, message, priority=INFO, facility="0"):
        fields = self.common() + [("_TRANSPORT", "kernel"), ("PRIORITY", str(priority))]
        if facility is not None:
            fields.append(("SYSLOG_FACILITY", facility))
        fields += [
            ("SYSLOG_IDENTIFIER", "kernel"),
            # the printk time, a little before journald read the line
            ("_SOURCE_MONOTONIC_TIMESTAMP", str(self.monotonic - 137)),
        ]
        if message is not None:
            fields.append(("MESSAGE", message))
        self.entry(fields)

    def injected(self, message, identifier="MCE", priority=ERR):
        """A line a process wrote into /dev/kmsg, as journald stores it."""
        self.entry(
            self.common()
            + [
                ("_TRANSPORT", "kernel"),
                ("PRIORITY", str(priority)),
                ("SYSLOG_FACILITY", "1"),
                ("SYSLOG_IDENTIFIER", identifier),
                ("_SOURCE_MONOTONIC_TIMESTAMP", str(self.monotonic - 90)),
                ("MESSAGE", message),
            ]
        )

    def syslog(self, identifier, message, pid="4242"):
        """A process logging through syslog(3): not _TRANSPORT=kernel at all."""
        self.entry(
            self.common()
            + [
                ("_TRANSPORT", "syslog"),
                ("PRIORITY", str(ERR)),
                ("SYSLOG_FACILITY", "3"),
                ("SYSLOG_IDENTIFIER", identifier),
                ("SYSLOG_PID", pid),
                ("_PID", pid),
                ("_UID", "0"),
                ("_COMM", identifier),
                ("MESSAGE", message),
            ]
        )


def _is_utf8(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def journal_kernel():
    j = Journal()
    j.kernel("Linux version 6.1.0-18-powerpc64le (debian-kernel@lists.debian.org) "
             "(gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) "
             "#1 SMP Debian 6.1.76-1 (2024-02-01)", priority=WARNING)
    j.kernel("kvm-hv: Parent hypervisor does not support nesting (rc=-2)")
    j.kernel("IPv6: ADDRCONF(NETDEV_CHANGE): tap0: link becomes ready")
    j.kernel("br0: port 2(tap0) entered forwarding state")
    # A service logging about machine checks through syslog: filtered out
    # by the _TRANSPORT=kernel match, never even counted.
    j.syslog("mce-monitor", "MCE: CPU1: machine check (Severe) Guest UE Load/Store "
             "DAR: 00007fff00001000 paddr: 0000000000001000 [Not recovered]")
    j.advance(2_000_000)

    # Compact ppc64 records of two host CPUs, interleaved line by line.
    j.kernel("MCE: CPU12: machine check (Severe) Guest UE Load/Store DAR: 00007fff8a3c1000 "
             "paddr: 0000201f3a3c1000 [Not recovered]", priority=ERR)
    j.kernel("MCE: CPU40: machine check (Warning) Guest SLB Multihit DAR: 000001001b6e0320 "
             "[Recovered]", priority=WARNING)
    j.kernel("MCE: CPU12: PID: 48213 Comm: CPU 3/KVM Guest NIP: [c000000000a1b2c4]",
             priority=ERR)
    j.kernel("MCE: CPU40: PID: 48230 Comm: CPU 7/KVM Guest NIP: [00007fffa309dc60]",
             priority=WARNING)
    j.kernel("MCE: CPU12: Initiator CPU", priority=ERR)
    j.kernel("MCE: CPU40: Initiator CPU", priority=WARNING)
    j.kernel("MCE: CPU12: Hardware error", priority=ERR)
    j.kernel("MCE: CPU40: Probable software error (some chance of hardware cause)",
             priority=WARNING)
    # What the host's memory-failure handling prints for the UE (64 KiB
    # pages: pfn = paddr >> 16).
    j.kernel("Memory failure: 0x201f3a3c: Sending SIGBUS to CPU 3/KVM:48213 due to hardware "
             "memory corruption", priority=ERR)
    j.kernel("Memory failure: 0x201f3a3c: recovery action for dirty LRU page: Recovered",
             priority=ERR)
    j.advance(3_000_000)

    # A process writing machine-check-looking lines into /dev/kmsg: facility
    # 1, "MCE:" split off into SYSLOG_IDENTIFIER. Counted, never parsed.
    j.injected("CPU3: machine check (Severe) Guest UE Load/Store DAR: 00007fff12340000 "
               "paddr: 0000000012340000 [Not recovered]")
    j.injected("CPU3: PID: 1234 Comm: CPU 0/KVM Guest NIP: [c000000000001234]")
    j.injected("CPU3: Initiator CPU")
    j.injected("CPU3: Hardware error")
    j.advance(3_000_000)

    # An x86 block (corrected memory error), as a mixed fleet's log would
    # carry it, and an action-required error in a vCPU thread.
    j.kernel("mce: [Hardware Error]: Machine check events logged", priority=INFO)
    j.kernel("mce: [Hardware Error]: CPU 5: Machine Check: 0 Bank 7: cc00008000010090",
             priority=EMERG)
    j.kernel("mce: [Hardware Error]: TSC 0 ADDR 1f3a3c2040 MISC 200000c000000086",
             priority=EMERG)
    j.kernel("mce: [Hardware Error]: PROCESSOR 0:50657 TIME 1700000008 SOCKET 0 APIC a "
             "microcode 5003604", priority=EMERG)
    j.kernel("EXT4-fs (dm-1): mounted filesystem 3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d with "
             "ordered data mode. Quota mode: none.")
    j.advance(2_000_000)
    j.kernel("mce: Uncorrected hardware memory error in user-access at 1f3a3c1000",
             priority=WARNING)
    j.kernel("Memory failure: 0x1f3a3c1: Sending SIGBUS to CPU 1/KVM:51020 due to hardware "
             "memory corruption", priority=ERR)
    j.kernel("Memory failure: 0x1f3a3c1: recovery action for dirty LRU page: Recovered",
             priority=ERR)
    j.kernel("audit: type=1400 audit(1700000010.123:77): apparmor=\"STATUS\" "
             "operation=\"profile_load\" name=\"libvirt-8d2c\" pid=52001 comm=\"apparmor_parser\"",
             priority=INFO)
    return bytes(j.out)


def journal_hostile():
    j = Journal()
    j.kernel("hostile: bytes and shapes the reader must survive")

    # Invalid UTF-8 in a task name, and a NUL inside a message: both need
    # the binary form. The record itself is complete.
    j.kernel("MCE: CPU7: machine check (Severe) Guest UE Load/Store DAR: 00007fff00002000 "
             "paddr: 0000000a00002000 [Not recovered]", priority=ERR)
    j.kernel(b"MCE: CPU7: PID: 777 Comm: qemu\xff\xfe-kvm Guest NIP: [c000000000001234]",
             priority=ERR)
    j.kernel(b"MCE: CPU7: Initiator CPU\x00 trailing bytes after a NUL \xc3\x28", priority=ERR)
    j.kernel("MCE: CPU7: Hardware error", priority=ERR)
    j.kernel(b"unrelated line with a NUL\x00and invalid UTF-8 \xe2\x82 in the middle")
    # A newline inside one MESSAGE: one journal entry, one message.
    j.kernel("MCE: CPU9: Initiator CPU\nMCE: CPU9: Hardware error", priority=ERR)
    j.advance(2_000_000)

    # One MESSAGE of 1 MiB that starts like a machine-check line: cut to
    # 64 KiB for parsing, counted, and reported as malformed.
    j.kernel("MCE: CPU5: machine check (Severe) Guest UE Load/Store DAR: " + "A" * (1 << 20),
             priority=ERR)
    # A line that starts like a machine-check line and does not parse.
    j.kernel("MCE: CPU12: machine check (Severe) Guest UE Load/Store DAR: zzzzzzzz [Not recovered]",
             priority=ERR)
    # A continuation line with no record to join.
    j.kernel("MCE: CPU30: Initiator CPU", priority=ERR)
    j.advance(2_000_000)

    # Truncated records: CPU20 starts a new record before finishing the
    # first; CPU21 never gets past its summary line (flushed at the end).
    j.kernel("MCE: CPU20: machine check (Severe) Guest UE Load/Store DAR: 00007fff00003000 "
             "paddr: 0000000b00003000 [Not recovered]", priority=ERR)
    j.kernel("MCE: CPU20: PID: 2020 Comm: CPU 2/KVM Guest NIP: [c000000000002020]", priority=ERR)
    j.kernel("MCE: CPU20: machine check (Warning) Guest SLB Multihit DAR: 000001001b6e0320 "
             "[Recovered]", priority=WARNING)
    j.kernel("MCE: CPU20: PID: 2020 Comm: CPU 2/KVM Guest NIP: [00007fffa309dc60]",
             priority=WARNING)
    j.kernel("MCE: CPU20: Initiator CPU", priority=WARNING)
    j.kernel("MCE: CPU20: Probable software error (some chance of hardware cause)",
             priority=WARNING)

    # Entries with fields missing: no MESSAGE; no SYSLOG_FACILITY (cannot
    # be shown to be the kernel's, so ignored like an injected line).
    j.kernel(None, priority=ERR)
    j.kernel("MCE: CPU22: machine check (Severe) Guest UE Load/Store DAR: 00007fff00004000 "
             "paddr: 0000000c00004000 [Not recovered]", priority=ERR, facility=None)
    j.kernel("MCE: CPU21: machine check (Fatal) Host UE Load/Store DAR: 00007fff00005000 "
             "paddr: 0000000d00005000 [Not recovered]", priority=ERR)
    return bytes(j.out)


def main():
    if len(sys.argv) != 2:
        print("usage: mkjournal.py OUTDIR", file=sys.stderr)
        return 2
    for name, data in (
        ("journal-kernel.export", journal_kernel()),
        ("journal-hostile.export", journal_hostile()),
    ):
        with open(os.path.join(sys.argv[1], name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
