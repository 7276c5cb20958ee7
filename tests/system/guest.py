# SPDX-License-Identifier: GPL-2.0-or-later
"""Tiny TCG guests and libvirt event listeners (reference/test-harness.md 5-7).

    g = Guest(lv, "crashme", workdir, mode="panic-after-delay")
    g.start(paused=True)                       # define + start --paused
    ev = EventListener(lv.uri).start(); ev.sync(g)
    g.resume(); g.wait_boot()
    ev.wait_for(r"GUEST_PANICKED .* for domain 'crashme': ", 10)

Guest images are the boot sector of guestimg.py; the serial log (COM1) is
a file in workdir, and the boot marker in it is the boot check.
"""

import json
import os
import re
import subprocess
import threading
import time
from xml.sax.saxutils import escape

import guestimg
from common import Deadline, check, end_child, fail, log, pid_alive, poll_until, proc_comm

QEMU_X86 = "/usr/bin/qemu-system-x86_64"
ON_CRASH = ("preserve", "destroy", "restart", "coredump-destroy", "coredump-restart")


def domain_xml(name, image, serial=None, on_crash="preserve", memory_mib=32, vcpus=1):
    """The section-5 domain: x86_64 pc, TCG, read-only virtio disk (so it
    migrates without shared storage), serial on COM1, ISA pvpanic at 0x505."""
    if on_crash not in ON_CRASH:
        raise ValueError(f"on_crash must be one of {ON_CRASH}")
    if serial:
        serial_xml = (f"<serial type='file'><source path='{escape(serial)}' append='on'/>"
                      "<target port='0'/></serial>")
    else:
        serial_xml = "<serial type='null'><target port='0'/></serial>"
    return f"""<domain type='qemu'>
  <name>{escape(name)}</name>
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>{vcpus}</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>{on_crash}</on_crash>
  <devices>
    <emulator>{QEMU_X86}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{escape(image)}'/>
      <target dev='vda' bus='virtio'/>
      <readonly/>
    </disk>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    {serial_xml}
    <panic model='isa'><address type='isa' iobase='0x505'/></panic>
  </devices>
</domain>
"""


class Guest:
    """One boot-sector guest on a PrivateLibvirtd. mode: 'idle',
    'panic-now' or 'panic-after-delay' (ticks of 1/18.2 s, 36 = 2 s).
    Files: workdir/NAME.img, NAME.serial, NAME.xml. After a migration set
    g.lv to the destination (migrate() does)."""

    def __init__(self, lv, name, workdir, mode="idle", ticks=guestimg.DEFAULT_TICKS,
                 on_crash="preserve", memory_mib=32, vcpus=1):
        self.lv = lv
        self.name = name
        self.mode = mode
        self.marker = guestimg.marker(mode)
        self.image = guestimg.write_image(os.path.join(workdir, f"{name}.img"), mode, ticks)
        self.serial = os.path.join(workdir, f"{name}.serial")
        self.xml_path = os.path.join(workdir, f"{name}.xml")
        with open(self.xml_path, "w") as f:
            f.write(domain_xml(name, self.image, self.serial, on_crash, memory_mib, vcpus))

    def virsh(self, *args, **kw):
        return self.lv.virsh(*args, **kw)

    def define(self):
        self.virsh("define", self.xml_path)
        return self

    def start(self, paused=False, wait_boot=None):
        """Define (if needed) and start. Unless paused, wait for the boot
        marker (wait_boot=False skips that)."""
        if self.virsh("dominfo", self.name, check_rc=False).returncode != 0:
            self.define()
        self.virsh("start", self.name, *(["--paused"] if paused else []))
        if wait_boot if wait_boot is not None else not paused:
            self.wait_boot()
        return self

    def resume(self):
        self.virsh("resume", self.name)

    def suspend(self):
        self.virsh("suspend", self.name)

    def destroy(self):
        self.virsh("destroy", self.name)

    def undefine(self):
        self.virsh("undefine", self.name)

    def serial_text(self):
        try:
            with open(self.serial, errors="replace", newline="") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_boot(self, timeout=15):
        """Wait until the guest printed its marker line on COM1."""
        poll_until(lambda: self.marker + "\r\n" in self.serial_text(), timeout,
                   f"boot marker of {self.name} in {self.serial}", interval=0.02)

    def domstate(self):
        """(state, reason), e.g. ('running', 'booted'), ('crashed', 'panicked'),
        ('shut off', 'crashed')."""
        out = self.virsh("domstate", "--reason", self.name, timeout=10).stdout.strip()
        m = re.fullmatch(r"(.*?)(?: \((.*)\))?", out)
        return m.group(1), m.group(2)

    def wait_state(self, state, timeout=15, reason=None):
        """Poll domstate until it is state (and reason, if given)."""
        def ok():
            s, r = self.domstate()
            return s == state and (reason is None or r == reason)
        poll_until(ok, timeout, f"{self.name} to be {state}" + (f" ({reason})" if reason else ""),
                   interval=0.05)

    def qemu_pid(self):
        """PID of the QEMU process, from DIR/run/qemu/NAME.pid (checked to be
        alive and to be QEMU)."""
        pf = os.path.join(self.lv.run_dir, "qemu", f"{self.name}.pid")
        with open(pf) as f:
            pid = int(f.read().strip())
        check(pid_alive(pid), f"QEMU {pid} of {self.name} is not running")
        comm = proc_comm(pid) or ""
        check("qemu" in comm, f"PID {pid} from {pf} is {comm!r}, not QEMU")
        return pid

    def vcpu_thread_ids(self):
        """{vcpu index: thread id}, from the threads named 'CPU n/TCG'
        (or 'CPU n/KVM') of the QEMU process."""
        pid = self.qemu_pid()
        found = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            comm = proc_comm(f"{pid}/task/{tid}") or ""
            m = re.fullmatch(r"CPU (\d+)/(TCG|KVM)", comm)
            if m:
                found[int(m.group(1))] = int(tid)
        return found

    def qemu_log(self):
        return os.path.join(self.lv.log_dir, "qemu", f"{self.name}.log")


def migrate(guest, dst, p2p=True, timeout=60):
    """Live-migrate guest from its libvirtd to dst over loopback (--persistent
    --undefinesource); afterwards guest.lv is dst. Returns the seconds taken."""
    src = guest.lv
    args = ["migrate", "--live", "--persistent", "--undefinesource"]
    if p2p:
        args.append("--p2p")
    args += [guest.name, dst.uri, "--migrateuri", "tcp://127.0.0.1",
             "--listen-address", "127.0.0.1"]
    t0 = time.monotonic()
    src.virsh(*args, timeout=timeout)
    guest.lv = dst
    return time.monotonic() - t0


# ---- events --------------------------------------------------------------------------------

LIFECYCLE = "lifecycle"  # virsh event --all --loop
QMP = "qemu"  # virsh qemu-monitor-event --loop


class EventListener:
    """`virsh event --all --loop` and `virsh qemu-monitor-event --loop`
    under `stdbuf -oL` (no line lost when they are stopped), their lines
    collected by reader threads. Wait for a line with wait_for(); mark()
    and since= restrict a wait to lines after a point.

    virsh prints nothing when it has registered: call sync(guest) (a probe
    event of each kind, repeated until each listener printed one) before
    the action whose events matter, e.g. on a guest started paused."""

    def __init__(self, uri, kinds=(LIFECYCLE, QMP), echo=False):
        self.uri = uri
        self.kinds = tuple(kinds)
        self.echo = echo or bool(os.environ.get("MCED_SYS_VERBOSE"))
        self.lines = []  # (monotonic time, kind, line)
        self.cond = threading.Condition()
        self.procs = {}
        self.threads = []
        self._probe = 0

    def start(self):
        for kind in self.kinds:
            cmd = ["event", "--all", "--loop"] if kind == LIFECYCLE else \
                  ["qemu-monitor-event", "--loop"]
            p = subprocess.Popen(["stdbuf", "-oL", "virsh", "-q", "-c", self.uri, *cmd],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, errors="replace")
            self.procs[kind] = p
            for stream, k in ((p.stdout, kind), (p.stderr, kind + "-stderr")):
                t = threading.Thread(target=self._reader, args=(stream, k), daemon=True)
                t.start()
                self.threads.append(t)
        return self

    def _reader(self, stream, kind):
        for line in stream:
            line = line.rstrip("\n")
            if not line:
                continue
            if self.echo:
                log(f"[{kind}] {line}")
            with self.cond:
                self.lines.append((time.monotonic(), kind, line))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.lines)

    def find(self, pattern, since=0, kind=None):
        """The first match object for pattern (regex, searched) in lines
        from index since (of kind, if given), or None."""
        rx = re.compile(pattern)
        with self.cond:
            for _, k, line in self.lines[since:]:
                if kind is None or k == kind:
                    m = rx.search(line)
                    if m:
                        return m
        return None

    def wait_for(self, pattern, timeout, since=0, kind=None, what=None):
        """Wait until a line matching pattern arrived; return its match."""
        rx = re.compile(pattern)
        d = Deadline(timeout)
        pos = since
        with self.cond:
            while True:
                while pos < len(self.lines):
                    _, k, line = self.lines[pos]
                    pos += 1
                    if kind is None or k == kind:
                        m = rx.search(line)
                        if m:
                            return m
                for k, p in self.procs.items():
                    if p.poll() is not None:
                        self.cond.wait(0.2)  # let the readers drain
                        if pos == len(self.lines):
                            fail(f"event listener '{k}' exited with {p.returncode} while "
                                 f"waiting for {what or pattern}:\n{self.text()}")
                if d.expired():
                    fail(f"timed out after {timeout:g}s waiting for {what or pattern}; "
                         f"events so far:\n{self.text()}")
                self.cond.wait(d.left())

    def lifecycle(self, domain, since=0):
        """The lifecycle events of domain so far, e.g. ['Started Booted',
        'Suspended Paused', 'Resumed Unpaused', 'Crashed Panicked']."""
        rx = re.compile(rf"^event 'lifecycle' for domain '{re.escape(domain)}': (.*)$")
        with self.cond:
            return [m.group(1) for _, k, line in self.lines[since:]
                    if k == LIFECYCLE and (m := rx.match(line))]

    def wait_lifecycle(self, domain, event, timeout, since=0):
        """Wait for e.g. event='Crashed Panicked' on domain."""
        return self.wait_for(rf"^event 'lifecycle' for domain '{re.escape(domain)}': "
                             rf"{re.escape(event)}$", timeout, since, LIFECYCLE,
                             f"lifecycle '{event}' of {domain}")

    def wait_qmp(self, domain, event, timeout, since=0):
        """Wait for QMP event (e.g. 'GUEST_PANICKED') on domain; returns its
        data as a dict (None when the event carries none)."""
        m = self.wait_for(rf"^event {re.escape(event)} at [0-9.]+ for domain "
                          rf"'{re.escape(domain)}': ?(.*)$", timeout, since, QMP,
                          f"QMP {event} of {domain}")
        data = m.group(1).strip()
        return json.loads(data) if data and data != "<null>" else None

    def sync(self, guest, timeout=15):
        """Make sure every listener is registered: emit a harmless event of
        each kind on guest (which must be running or paused) until each
        listener has printed one. Lifecycle: a title change (metadata-change
        event). QMP: a memory-only dump to a file (DUMP_COMPLETED); it does
        not change the domain's state."""
        d = Deadline(timeout)
        since = self.mark()
        name = re.escape(guest.name)
        pending = set(self.kinds)
        dump = os.path.join(os.path.dirname(guest.serial), f".{guest.name}.sync-dump")
        while pending:
            self._probe += 1
            if LIFECYCLE in pending:
                guest.virsh("desc", guest.name, "--live", "--title", f"sync-{self._probe}")
            if QMP in pending:
                guest.virsh("dump", "--memory-only", guest.name, dump, timeout=30)
            step = Deadline(min(0.25, d.left()))
            for kind, pat in ((LIFECYCLE, rf"^event 'metadata-change' for domain '{name}'"),
                              (QMP, rf"^event DUMP_COMPLETED at .* for domain '{name}'")):
                if kind in pending:
                    with self.cond:
                        self.cond.wait_for(lambda: self.find(pat, since, kind) is not None,
                                           step.left())
                    if self.find(pat, since, kind) is not None:
                        pending.discard(kind)
            if pending and d.expired():
                fail(f"event listeners {sorted(pending)} printed no probe event "
                     f"within {timeout:g}s:\n{self.text()}")
        if os.path.exists(dump):
            os.unlink(dump)
        return self.mark()

    def text(self):
        with self.cond:
            return "\n".join(f"  [{k}] {line}" for _, k, line in self.lines)

    def stop(self):
        """SIGTERM both virsh processes (our children, by PID), reap them."""
        for p in self.procs.values():
            end_child(p)
        for t in self.threads:
            t.join(timeout=5)
        self.procs = {}
        self.threads = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
