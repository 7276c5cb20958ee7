#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The daemon benchmarks of DESIGN.md section 10 (figures in docs/benchmarks.md).

    bench-daemon.py [--kvm-mced PATH] [--only NAME,...] [sizes...]

Runs the real kvm-mced, one benchmark at a time, with the building blocks of
tests/integration/harness.py (journal files written by systemd-journal-remote,
a /proc fixture of QEMU processes, a private system-like dbus-daemon), and
prints one line per figure. Nothing passes or fails on a figure: this is not
a test. The only failures are the bench's own (a program missing, the daemon
not starting); what the daemon did that it should not have (a count that is
not the one expected, a record cut short, an incident taken for backlog, a
failed state save) is printed as a finding ("MISMATCH ..."), and the exit
status is then 1.

  idle      the daemon with D-Bus on and a live journal, nothing happening:
            CPU time, context switches (wakeups) and system calls per second
  latency   journal append -> IncidentChanged signal on the bus, one event at
            a time, each opening an incident of its own: p50/p99/max
  storm     100k machine-check lines over 1000 domains written as fast as
            journal-remote takes them: time to process, peak RSS, exact
            counts of incidents and observations, policy decisions
  ingest    kvm-mced --replay vs journalctl -o cat over the same 1M entries
  startup   process start -> READY=1 on NOTIFY_SOCKET, with 1000 domains

Needs root (the shipped bus policy lets only root own the name), dbus-daemon,
systemd-journal-remote and journalctl. Run it under `nice` on a shared
machine (contrib/bench-daemon.sh does).
"""

import argparse
import ctypes
import ctypes.util
import json
import os
import re
import select
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration"))

import harness as h  # noqa: E402

BUS_NAME = "org.kvm_mced.Manager1"
BUS_PATH = "/org/kvm_mced/Manager1"

MISMATCHES = []


def out(line):
    print(line, flush=True)


def mismatch(what):
    MISMATCHES.append(what)
    out(f"MISMATCH {what}")


def ms(seconds):
    return f"{seconds * 1000:.2f} ms"


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(-(-p * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


# ---- /proc readings of a process ---------------------------------------------


def proc_stat_cpu(pid):
    """(utime, stime) in seconds, all threads, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tck, int(fields[12]) / tck


def proc_status(pid, task=None):
    path = f"/proc/{pid}/status" if task is None else f"/proc/{pid}/task/{task}/status"
    vals = {}
    with open(path) as f:
        for ln in f:
            k, _, v = ln.partition(":")
            vals[k] = v.strip()
    return vals


def ctx_switches(pid):
    """{tid: (voluntary, nonvoluntary)} for every thread of pid."""
    res = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            st = proc_status(pid, tid)
        except OSError:
            continue
        res[tid] = (int(st["voluntary_ctxt_switches"]), int(st["nonvoluntary_ctxt_switches"]))
    return res


def proc_io_syscalls(pid):
    """read-like + write-like system calls so far (/proc/PID/io syscr, syscw),
    all threads: a loop that spins without sleeping shows here and in the
    CPU time, not in the context switches."""
    vals = {}
    with open(f"/proc/{pid}/io") as f:
        for ln in f:
            k, _, v = ln.partition(":")
            vals[k] = int(v)
    return vals["syscr"], vals["syscw"]


def kib(status_value):
    return int(status_value.split()[0])


# ---- inotify (ctypes): when journal-remote appends to the live file ----------

IN_MODIFY = 0x00000002
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000


class Inotify:
    def __init__(self, path):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if libc.inotify_add_watch(self.fd, path.encode(), IN_MODIFY) < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {path}")

    def drain(self):
        n = 0
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return n
            if not data:
                return n
            n += len(data)

    def close(self):
        os.close(self.fd)


# ---- a minimal D-Bus client: signals timestamped when they are read ----------


def _pad(buf, n):
    buf += b"\0" * (-len(buf) % n)


class BusClient:
    """Just enough of the D-Bus wire protocol (EXTERNAL auth, method calls
    with string arguments, messages whose body is strings, booleans or
    uint32s) to subscribe to the daemon's signals in this process, so that
    a signal's arrival time is the time its bytes are read off the socket,
    with no subprocess and no stdout buffering in between."""

    def __init__(self, address):
        m = re.match(r"unix:path=([^,]+)", address)
        h.check(m is not None, f"unsupported bus address {address!r}")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(m.group(1))
        uid = str(os.geteuid()).encode().hex().encode()
        self.sock.sendall(b"\0AUTH EXTERNAL " + uid + b"\r\n")
        line = b""
        while not line.endswith(b"\r\n"):
            chunk = self.sock.recv(1)
            h.check(chunk, "the bus closed the connection during auth")
            line += chunk
        h.check(line.startswith(b"OK "), f"auth refused: {line!r}")
        self.sock.sendall(b"BEGIN\r\n")
        self.serial = 0
        self.buf = b""
        self.pending = []  # messages read while waiting for a reply
        self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                  "Hello")
        self.sock.setblocking(False)

    def fileno(self):
        return self.sock.fileno()

    def close(self):
        self.sock.close()

    def _marshal_call(self, dest, path, iface, member, args):
        self.serial += 1
        body = bytearray()
        for a in args:
            _pad(body, 4)
            v = a.encode()
            body += struct.pack("<I", len(v)) + v + b"\0"
        fields = bytearray()

        def field(code, typ, val):
            _pad(fields, 8)
            fields.extend(bytes([code, 1]) + typ.encode() + b"\0")
            v = val.encode()
            if typ == "g":
                fields.extend(bytes([len(v)]) + v + b"\0")
            else:
                _pad(fields, 4)
                fields.extend(struct.pack("<I", len(v)) + v + b"\0")
        field(1, "o", path)
        field(6, "s", dest)
        field(2, "s", iface)
        field(3, "s", member)
        if args:
            field(8, "g", "s" * len(args))
        msg = bytearray(struct.pack("<cBBBIII", b"l", 1, 0, 1, len(body), self.serial,
                                    len(fields)))
        msg += fields
        _pad(msg, 8)
        return bytes(msg + body), self.serial

    def call(self, dest, path, iface, member, *args, timeout=10):
        """A blocking method call; the reply's body values."""
        data, serial = self._marshal_call(dest, path, iface, member, args)
        blocking = self.sock.getblocking()
        self.sock.setblocking(True)
        self.sock.sendall(data)
        self.sock.setblocking(False)
        d = h.Deadline(timeout)
        # Other messages (signals) that come first are kept for read(), but
        # only afterwards: put back at once, read() would hand them out again
        # instead of reading the socket, and the reply would never be seen.
        others = []
        try:
            while True:
                for msg in self.read(d.left()):
                    if msg["reply_serial"] == serial:
                        if msg["type"] == 3:
                            h.fail(f"{member}: {msg['error']}: {msg['body']}")
                        return msg["body"]
                    others.append(msg)
                if d.expired():
                    h.fail(f"no reply to {member} within {timeout}s")
        finally:
            self.pending = others + self.pending
            self.sock.setblocking(blocking)

    def read(self, timeout=0.0):
        """Messages complete after one wait of at most timeout; each with
        the monotonic time (s) at which its last bytes were read."""
        msgs, self.pending = self.pending, []
        if msgs:
            return msgs
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return []
        try:
            chunk = self.sock.recv(1 << 20)
        except BlockingIOError:
            return []
        now = time.monotonic()
        h.check(chunk, "the bus closed the connection")
        self.buf += chunk
        while True:
            msg, used = self._parse(self.buf)
            if msg is None:
                break
            msg["t"] = now
            msgs.append(msg)
            self.buf = self.buf[used:]
        return msgs

    @staticmethod
    def _parse(buf):
        if len(buf) < 16:
            return None, 0
        e = "<" if buf[0:1] == b"l" else ">"
        mtype = buf[1]
        body_len, _serial, flen = struct.unpack_from(e + "III", buf, 4)
        hdr_end = 16 + flen
        body_start = hdr_end + (-hdr_end % 8)
        total = body_start + body_len
        if len(buf) < total:
            return None, 0
        fields = {}
        pos = 16
        while pos < hdr_end:
            pos += -pos % 8
            code = buf[pos]
            siglen = buf[pos + 1]
            sig = buf[pos + 2:pos + 2 + siglen].decode()
            pos += 3 + siglen
            if sig in ("s", "o"):
                pos += -pos % 4
                (n,) = struct.unpack_from(e + "I", buf, pos)
                fields[code] = buf[pos + 4:pos + 4 + n].decode()
                pos += 4 + n + 1
            elif sig == "g":
                n = buf[pos]
                fields[code] = buf[pos + 1:pos + 1 + n].decode()
                pos += 1 + n + 1
            elif sig == "u":
                pos += -pos % 4
                (fields[code],) = struct.unpack_from(e + "I", buf, pos)
                pos += 4
            else:
                break  # not a field this client needs; nothing follows it that it needs
        body = []
        pos = body_start
        for t in fields.get(8, ""):
            if t == "s":
                pos += -(pos - body_start) % 4
                (n,) = struct.unpack_from(e + "I", buf, pos)
                body.append(buf[pos + 4:pos + 4 + n].decode())
                pos += 4 + n + 1
            elif t in ("b", "u"):
                pos += -(pos - body_start) % 4
                (v,) = struct.unpack_from(e + "I", buf, pos)
                body.append(v)
                pos += 4
            else:
                body.append(None)  # a type this client does not decode
                break
        return {"type": mtype, "member": fields.get(3), "interface": fields.get(2),
                "error": fields.get(4), "reply_serial": fields.get(5),
                "body": body}, total

    def add_match(self, rule):
        self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                  "AddMatch", rule)

    def has_owner(self, name):
        return bool(self.call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                              "org.freedesktop.DBus", "NameHasOwner", name)[0])


# ---- the daemon, read efficiently ------------------------------------------------


class BenchDaemon(h.Daemon):
    """harness.Daemon that counts incident lines as they are read, with a
    buffered log: the storm prints tens of thousands of lines."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.logf.close()
        self.logf = open(self.log_path, "w", buffering=1 << 16)
        self.events = 0  # incident lines "opened" or "updated" read so far
        self.t_last_event = None

    def _add_lines(self, raws):
        now = time.monotonic()
        super()._add_lines(raws)
        for line in self.lines[len(self.lines) - len(raws):]:
            if line.startswith("kvm-mced: Machine-check incident ") and (
                    " opened for " in line or " updated for " in line):
                self.events += 1
                self.t_last_event = now


# ---- fixtures ----------------------------------------------------------------


def vm_name(i):
    return f"vm{i:04d}"


def vm_uuid(i):
    return f"{i:08x}-0000-4000-8000-{i:012x}"


def vm_pid(i):
    return 10000 + 4 * i


def vm_vcpu_tid(i):
    return vm_pid(i) + 2


# Where the /proc fixture goes (--proc-tmpdir): a tmpfs, like procfs itself
# a memory file system. Creating its 22,000 files for 1000 domains takes
# 20 s on this machine's disk and under a second on tmpfs.
PROC_TMPDIR = None


def proc_fixture(sc, n_domains):
    """n_domains QEMU processes: main thread P, I/O thread P+1, one vCPU
    thread P+2 ("CPU 0/KVM")."""
    if PROC_TMPDIR:
        root = tempfile.mkdtemp(prefix="mced-bench-proc-", dir=PROC_TMPDIR)
        sc.add_cleanup(lambda: shutil.rmtree(root, ignore_errors=True))
    else:
        root = sc.join("proc")
    proc = h.ProcFixture(root)
    proc.add_other(1, ["/sbin/init"], "systemd")
    for i in range(n_domains):
        proc.add_qemu(vm_pid(i), vm_name(i), vm_uuid(i), {vm_vcpu_tid(i): 0})
    return proc


class FastEntries:
    """harness.kernel_entry() for a fixed set of fields, as a template:
    the storm needs 100,000 entries as fast as journal-remote takes them.
    The bytes are the same as kernel_entry's (checked at construction)."""

    def __init__(self, clock, priority=h.ERR):
        self.clock = clock
        self.priority = priority
        self.tail = (f"_BOOT_ID={clock.boot_id}\n_MACHINE_ID={clock.machine_id}\n"
                     f"_HOSTNAME=kvmhost1\n_TRANSPORT=kernel\nPRIORITY={priority}\n"
                     "SYSLOG_FACILITY=0\nSYSLOG_IDENTIFIER=kernel\n")
        probe = h.ExportClock(live=False)
        want = h.kernel_entry(probe, "MCE: CPU1: Initiator CPU", priority=priority)
        probe2 = h.ExportClock(live=False)
        probe2.boot_id, probe2.machine_id = probe.boot_id, probe.machine_id
        got = self._entry(probe2.realtime + probe2.step_us, probe2.monotonic + probe2.step_us,
                          "MCE: CPU1: Initiator CPU",
                          tail=self.tail.replace(clock.boot_id, probe.boot_id))
        h.check(got == want, f"FastEntries differs from kernel_entry:\n{got!r}\n{want!r}")

    def _entry(self, rt, mono, msg, tail=None):
        return (f"__REALTIME_TIMESTAMP={rt}\n__MONOTONIC_TIMESTAMP={mono}\n"
                f"{tail or self.tail}_SOURCE_MONOTONIC_TIMESTAMP={max(0, mono - 137)}\n"
                f"MESSAGE={msg}\n\n").encode()

    def entry(self, msg):
        rt, mono = self.clock.tick()
        return self._entry(rt, mono, msg)


def bench_env(sc, kvm_mced, window, n_domains, bus=True, daemon_keys=""):
    """Scratch layout shared by the live benchmarks: journal dir with a
    live journal, state dir, config (daemon_keys: more [daemon] lines),
    /proc fixture, maybe a private bus."""
    env = {"sc": sc, "kvm_mced": kvm_mced}
    env["jdir"] = sc.mkdir("journal")
    env["sdir"] = sc.mkdir("state")
    env["config"] = h.write_config(sc.join("kvm-mced.conf"), window=window)
    if daemon_keys:
        with open(env["config"]) as f:
            text = f.read()
        with open(env["config"], "w") as f:
            f.write(text.replace("[daemon]\n", "[daemon]\n" + daemon_keys, 1))
    t0 = time.monotonic()
    env["proc"] = proc_fixture(sc, n_domains)
    env["fixture_s"] = time.monotonic() - t0
    env["address"] = None
    if bus:
        # dbus-daemon's complaints (it cannot raise its fd limit here) go to
        # a file, not between the figures
        saved = os.dup(2)
        with open(sc.join("dbus-daemon.log"), "wb") as log:
            os.dup2(log.fileno(), 2)
        try:
            env["address"] = h.system_bus(sc)[0]
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    env["live"] = h.LiveJournal(sc, env["jdir"], h.ExportClock(live=True))
    return env


def start_daemon(env, extra_env=None, wait=True):
    args = ["--bus-address", env["address"]] if env["address"] else []
    d = BenchDaemon(env["sc"], env["kvm_mced"], env["jdir"], env["sdir"], env["config"],
                    env["proc"].root, extra_args=args, env=extra_env)
    if wait:
        d.wait_started()
        if env["address"]:
            d.wait_line(lambda s: s.startswith("kvm-mced: D-Bus API on "), 10,
                        "the D-Bus API line")
    return d


# ---- 1. idle -----------------------------------------------------------------


def bench_idle(args):
    sc = h.Scratch("bench-idle")
    try:
        env = bench_env(sc, args.kvm_mced, "5s", 2)
        env["live"].kernel(h.UNRELATED[:4], priority=h.INFO)
        d = start_daemon(env)
        bus = BusClient(env["address"])
        h.check(bus.has_owner(BUS_NAME), f"{BUS_NAME} has no owner on the private bus")
        bus.close()
        # settle: let startup work (the first save, the catch-up) finish
        d._pump(2.0)
        time.sleep(2.0)
        d.drain()
        u0, s0 = proc_stat_cpu(d.pid)
        c0 = ctx_switches(d.pid)
        io0 = proc_io_syscalls(d.pid)
        t0 = time.monotonic()
        end = t0 + args.idle_seconds
        while time.monotonic() < end:
            d._pump(max(0.0, min(1.0, end - time.monotonic())))
        t1 = time.monotonic()
        u1, s1 = proc_stat_cpu(d.pid)
        c1 = ctx_switches(d.pid)
        io1 = proc_io_syscalls(d.pid)
        d.check_alive("during the idle period")
        dt = t1 - t0
        vol = sum(c1[t][0] - c0.get(t, (0, 0))[0] for t in c1)
        invol = sum(c1[t][1] - c0.get(t, (0, 0))[1] for t in c1)
        cpu = (u1 - u0) + (s1 - s0)
        out(f"idle: {dt:.1f} s with D-Bus on and a live journal: CPU {cpu:.2f} s "
            f"(user {u1 - u0:.2f} s, system {s1 - s0:.2f} s) = {100 * cpu / dt:.3f}% of one "
            f"core; clock tick {1000 / os.sysconf('SC_CLK_TCK'):.0f} ms")
        out(f"idle: wakeups {(vol + invol) / dt:.2f}/s ({vol} voluntary + {invol} involuntary "
            f"context switches over {len(c1)} threads); read/write system calls "
            f"{(io1[0] - io0[0]) / dt:.2f}/s + {(io1[1] - io0[1]) / dt:.2f}/s")
        lines = [ln for ln in d.lines if "Machine-check" in ln]
        if lines:
            mismatch(f"idle: the daemon logged incidents while idle: {lines[:3]}")
        d.stop()
    finally:
        sc.close()


# ---- 2. latency --------------------------------------------------------------


def history_by_domain(state_dir):
    return {h.incident_domain_name(o): o for o in h.history_objects(state_dir)}


def incomplete_records(hist_objs):
    """Observations of a ppc64 compact record that lack its last line (the
    record was ended by the record-timeout, not by its class line)."""
    n = 0
    for o in hist_objs:
        for obs in o.get("observations") or []:
            if obs.get("format") == "compact" and "error_class" not in obs:
                n += 1
    return n


def bench_latency(args):
    n = args.latency_events
    sc = h.Scratch("bench-latency")
    try:
        env = bench_env(sc, args.kvm_mced, "100ms", n)
        live = env["live"]
        d = start_daemon(env)
        bus = BusClient(env["address"])
        bus.add_match(f"type='signal',interface='{BUS_NAME}',member='IncidentChanged'")
        watch = Inotify(live.path)
        ents = FastEntries(live.clock)
        stderr_fd = d.proc.stderr.fileno()
        opened = {}  # domain -> monotonic time its IncidentChanged(opened) was read
        modified = []  # monotonic times journal-remote was seen changing the file

        def wait_once(timeout):
            """One wait on the bus, the journal file and the daemon's stderr;
            times are taken as soon as select() returns."""
            r, _, _ = select.select([bus, watch.fd, stderr_fd], [], [], timeout)
            now = time.monotonic()
            if watch.fd in r:
                watch.drain()
                modified.append(now)
            if stderr_fd in r:
                d._pump(0)
            if bus in r:
                for msg in bus.read(0):
                    if msg["member"] == "IncidentChanged" and msg["body"][1] == "opened":
                        opened.setdefault(msg["body"][2], msg["t"])

        def state_ident():
            idents = []
            for name in ("state.json", "history.jsonl"):
                try:
                    st = os.stat(os.path.join(env["sdir"], name))
                    idents.append((st.st_ino, st.st_mtime_ns, st.st_size))
                except FileNotFoundError:
                    idents.append(None)
            return idents

        watch.drain()
        events = []  # (t_write, t_append, t_signal, saved meanwhile)
        t_all = time.monotonic()
        for i in range(n):
            name = vm_name(i)
            rec = b"".join(ents.entry(ln) for ln in
                           h.ppc64_guest_ue(i % 64, vm_vcpu_tid(i), 0,
                                            dar=f"{(i + 1) << 12:016x}"))
            before = state_ident()
            del modified[:]
            t_write = time.monotonic()
            live.write(rec)
            deadline = t_write + 10
            while name not in opened:
                left = deadline - time.monotonic()
                if left <= 0:
                    d.fail_with_log(f"no IncidentChanged(opened) for {name} within 10 s")
                wait_once(left)
            t_sig = opened[name]
            # the first change journal-remote made to the file after the write;
            # if the signal was read in the same wake-up, the two are equal
            t_append = min([t for t in modified if t >= t_write] or [t_sig])
            events.append((t_write, min(t_append, t_sig), t_sig, state_ident() != before))
            gap_end = time.monotonic() + args.latency_gap
            while time.monotonic() < gap_end:
                # the next event finds the daemon asleep, as a real one would
                wait_once(max(0.0, gap_end - time.monotonic()))
        total = time.monotonic() - t_all
        watch.close()
        bus.close()
        d.stop()
        hist = history_by_domain(env["sdir"])
        n_opened = sum(1 for ln in d.lines if " opened for domain 'vm" in ln)
        if n_opened != n or len(opened) != n:
            mismatch(f"latency: {n_opened} incidents opened ({len(opened)} signals) for {n} "
                     "events, one each expected")
        backlog = [ln for ln in d.lines if "is from the backlog: recorded, no action taken" in ln]
        if backlog:
            mismatch(f"latency: {len(backlog)} incidents taken as backlog (no policy decision) "
                     "although the daemon was live")
        cut = [vm_name(i) in hist and incomplete_records([hist[vm_name(i)]]) > 0
               for i in range(n)]

        def line(label, vals):
            v = sorted(vals)
            if not v:
                return
            out(f"latency: {label}: p50 {ms(percentile(v, 50))}, p99 {ms(percentile(v, 99))}, "
                f"max {ms(v[-1])} ({len(v)} events)")
        line("journal append -> IncidentChanged", [e[2] - e[1] for e in events])
        line("FIFO write -> IncidentChanged", [e[2] - e[0] for e in events])
        line("FIFO write -> journal append (journal-remote)", [e[1] - e[0] for e in events])
        line("journal append -> IncidentChanged, events with no state or history write "
             "and a whole record", [e[2] - e[1] for e, c in zip(events, cut)
                                    if not e[3] and not c])
        line("journal append -> IncidentChanged, events during which the daemon wrote "
             "state.json or history.jsonl (in its save worker)",
             [e[2] - e[1] for e in events if e[3]])
        line("journal append -> IncidentChanged, events whose record the daemon ended by "
             "the record-timeout (200ms), without its last line",
             [e[2] - e[1] for e, c in zip(events, cut) if c])
        out(f"latency: {n} events in {total:.2f} s, one at a time, {ms(args.latency_gap)} "
            f"between a signal and the next write, each opening an incident of its own "
            f"domain (window 100ms, record-timeout 200ms)")
        if any(cut):
            mismatch(f"latency: {sum(cut)} of {n} records (4 journal entries appended within "
                     "0.3 ms) were ended by the record-timeout without their last line "
                     "(the observation in the history has 3 of its 4 lines, no error_class)")
    finally:
        sc.close()


# ---- 3. storm ----------------------------------------------------------------


def bench_storm(args):
    n_dom = args.storm_domains
    n_records = args.storm_lines // 4
    n_lines = n_records * 4
    per_dom = n_records // n_dom
    h.check(per_dom * n_dom == n_records,
            f"--storm-lines/4 ({n_records}) must be a multiple of --storm-domains ({n_dom})")
    sc = h.Scratch("bench-storm")
    try:
        # window 5s: a domain's next record comes after 1 / per_dom of the storm's
        # length, so each domain has exactly one incident as long as the storm
        # lasts under per_dom * 5 s; history-max-size raised so that no history
        # entry is rotated out before it is counted.
        env = bench_env(sc, args.kvm_mced, "5s", n_dom, bus=not args.storm_no_bus,
                        daemon_keys="history-max-size = 1G\n")
        live = env["live"]
        d = start_daemon(env)
        rss0 = kib(proc_status(d.pid)["VmRSS"])
        cpu0 = sum(proc_stat_cpu(d.pid))
        ents = FastEntries(live.clock)
        chunk_records = 500
        pace = args.storm_seconds / (n_records / chunk_records) if args.storm_seconds else 0
        done = {}

        def writer():
            t0 = time.monotonic()
            for c in range(0, n_records, chunk_records):
                parts = []
                for k in range(c, min(n_records, c + chunk_records)):
                    i = k % n_dom
                    page = (k + 1) << 12
                    for ln in h.ppc64_guest_ue(k % 128, vm_vcpu_tid(i), 0, dar=f"{page:016x}",
                                               paddr=f"{0x201f00000000 + page:016x}"):
                        parts.append(ents.entry(ln))
                live.write(b"".join(parts))
                done["t"] = time.monotonic()
                if pace:
                    wait = t0 + pace * (c // chunk_records + 1) - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)

        # RSS parts and the state file's size, sampled every 20 ms until the
        # incidents have closed (VmHWM is exact; the parts are lower bounds)
        peak = {"RssAnon": 0, "RssFile": 0, "state": 0}
        sampling = threading.Event()

        def sampler():
            while not sampling.wait(0.02):
                try:
                    st = proc_status(d.pid)
                    for k in ("RssAnon", "RssFile"):
                        peak[k] = max(peak[k], kib(st[k]))
                except (OSError, KeyError):
                    pass
                try:
                    peak["state"] = max(peak["state"],
                                        os.path.getsize(os.path.join(env["sdir"], "state.json")))
                except OSError:
                    pass

        sth = threading.Thread(target=sampler)
        sth.start()
        th = threading.Thread(target=writer)
        t_start = time.monotonic()
        th.start()
        deadline = h.Deadline(args.storm_timeout)
        while d.events < n_records and not deadline.expired():
            if not d._pump(min(0.05, deadline.left())):
                break
        th.join()
        t_written = done["t"] - t_start
        t_processed = (d.t_last_event - t_start) if d.t_last_event else float("nan")
        hwm_processed = kib(proc_status(d.pid)["VmHWM"])
        cpu = sum(proc_stat_cpu(d.pid)) - cpu0
        out(f"storm: {n_lines} machine-check lines ({n_records} ppc64 records of 4 lines, "
            f"{per_dom} per domain) over {n_dom} domains written in {t_written:.2f} s "
            f"({n_lines / t_written:,.0f} lines/s{', paced' if pace else ', as fast as possible'})")
        if d.events < n_records:
            mismatch(f"storm: only {d.events} of {n_records} observations processed within "
                     f"{args.storm_timeout:g} s")
        out(f"storm: {d.events} observations processed {t_processed:.2f} s after the first "
            f"write, {t_processed - t_written:.2f} s after the last ({d.events / t_processed:,.0f} "
            f"records/s); daemon CPU {cpu:.2f} s; DESIGN's 10 s for the storm: "
            f"{'met' if t_processed <= 10 else 'NOT met'}")
        # everything closes 5 s after its last observation; then counts

        def n_closed():
            d.drain()
            return sum(1 for ln in d.lines if " closed for domain 'vm" in ln)
        h.poll_until(lambda: n_closed() >= n_dom or not d.alive(), 60,
                     f"{n_dom} incidents to close", interval=0.2)
        t_closed = time.monotonic() - t_start
        d._pump(1.5)  # the history write and the last state save after the closing
        st = proc_status(d.pid)
        sampling.set()
        sth.join()
        out(f"storm: peak RSS (VmHWM) {kib(st['VmHWM']) / 1024:.1f} MiB over the storm and "
            f"the closing of its incidents ({t_closed:.1f} s); "
            f"{hwm_processed / 1024:.1f} MiB when the last observation was processed; "
            f"{rss0 / 1024:.1f} MiB before the storm, {kib(st['VmRSS']) / 1024:.1f} MiB "
            f"after")
        out(f"storm: sampled every 20 ms: anonymous memory up to "
            f"{peak['RssAnon'] / 1024:.1f} MiB, file-backed (the journal's mmap) up to "
            f"{peak['RssFile'] / 1024:.1f} MiB; "
            + (f"state.json up to {peak['state'] / 2**20:.1f} MiB (the open incidents with their "
               "observations)" if peak["state"] else "no state.json written until then"))
        # through busctl: a(sssssttu) and variants are more than BusClient decodes
        def busctl(*a):
            r = subprocess.run(["busctl", f"--address={env['address']}", "--json=short"]
                               + list(a), capture_output=True, text=True, timeout=60)
            h.check(r.returncode == 0, f"busctl {' '.join(a)}: {r.stderr.strip()}")
            return json.loads(r.stdout)
        open_now, rows = None, None
        if env["address"]:
            open_now = busctl("get-property", BUS_NAME, BUS_PATH, BUS_NAME,
                              "OpenIncidents")["data"]
            rows = busctl("call", BUS_NAME, BUS_PATH, BUS_NAME, "ListIncidents", "sst", "", "",
                          "0")["data"][0]
        d.stop()
        opened = [ln for ln in d.lines if " opened for domain 'vm" in ln]
        closed = [ln for ln in d.lines if " closed for domain 'vm" in ln]
        closed_obs = sum(int(re.search(r", (\d+) observations?", ln).group(1)) for ln in closed)
        doms = {re.search(r"domain '(vm\d+)'", ln).group(1) for ln in opened}
        hist = h.history_objects(env["sdir"])
        hist_obs = sum(o.get("n_observations", 0) for o in hist)
        backlog = [ln for ln in d.lines if "is from the backlog: recorded, no action taken" in ln]
        decided = [ln for ln in d.lines if re.match(r"kvm-mced: Action \S+ for domain 'vm", ln)]
        save_failed = [ln for ln in d.lines if ln.startswith("kvm-mced: Cannot write state")]
        out(f"storm: policy decisions {len(decided)}, incidents taken as backlog (no decision) "
            f"{len(backlog)}; state saves that failed {len(save_failed)}"
            + (f" ({save_failed[0][len('kvm-mced: '):][:200]})" if save_failed else ""))
        on_bus = "no D-Bus"
        checks = [("opened incidents", len(opened), n_dom),
                  ("closed incidents", len(closed), n_dom),
                  ("observations in closed incidents", closed_obs, n_records),
                  ("history incidents", len(hist), n_dom),
                  ("history observations", hist_obs, n_records),
                  ("domains with an incident", len(doms), n_dom),
                  ("records ended without their last line", incomplete_records(hist), 0)]
        if rows is not None:
            list_obs = sum(row[7] for row in rows)
            on_bus = (f"D-Bus ListIncidents {len(rows)} rows with {list_obs} observations, "
                      f"OpenIncidents {open_now} afterwards")
            checks += [("ListIncidents rows", len(rows), min(n_dom, 1000)),
                       ("ListIncidents observations", list_obs,
                        n_records if n_dom <= 1000 else list_obs),
                       ("OpenIncidents afterwards", open_now, 0)]
        out(f"storm: incidents opened {len(opened)} (domains {len(doms)}), closed {len(closed)} "
            f"with {closed_obs} observations; history {len(hist)} incidents with {hist_obs} "
            f"observations; {on_bus}; expected {n_dom} incidents with {n_records} observations")
        exact = True
        for label, got, want in checks:
            if got != want:
                mismatch(f"storm: {label} {got}, expected {want}")
                exact = False
        if exact:
            out("storm: incident and observation counts exact")
        for label, got, want in (
                ("incidents taken as backlog (recorded, no policy decision) although the "
                 "daemon was live", len(backlog), 0),
                ("incidents the policy decided on", len(decided), n_dom),
                ("state saves that failed", len(save_failed), 0)):
            if got != want:
                mismatch(f"storm: {label} {got}, expected {want}")
    finally:
        sc.close()


# ---- 4. ingest ---------------------------------------------------------------


def write_big_journal(sc, n_entries, directory):
    """n_entries kernel entries, ~1% machine-check lines (ppc64 guest records
    of four lines, one every 400 entries) among the UNRELATED messages, 100 us
    apart, written by systemd-journal-remote in chunks. journal-remote starts a
    new file when its data hash table is 3/4 full (about 170,000 entries here),
    so the result is a directory of files as journald's rotation leaves them."""
    jr = h.journal_remote()
    clock = h.ExportClock(live=False, step_us=100)
    ents = FastEntries(clock, priority=h.INFO)
    ents_mce = FastEntries(clock, priority=h.ERR)
    path = os.path.join(directory, "big.journal")
    n = 0
    rec = 0
    chunk = 200_000
    while n < n_entries:
        parts = []
        stop = min(n_entries, n + chunk)
        while n < stop:
            if n % 400 == 0 and n + 4 <= n_entries:
                page = (rec + 1) << 12
                for ln in h.ppc64_guest_ue(rec % 64, 4005, 3, dar=f"{page:016x}"):
                    parts.append(ents_mce.entry(ln))
                n += 4
                rec += 1
            else:
                parts.append(ents.entry(h.UNRELATED[n % len(h.UNRELATED)]))
                n += 1
        src = sc.join("chunk.export")
        with open(src, "wb") as f:
            f.write(b"".join(parts))
        r = subprocess.run([jr, "-o", path, src], capture_output=True, timeout=600)
        h.check(r.returncode == 0, f"journal-remote failed: {r.stderr.decode(errors='replace')}")
        os.unlink(src)
    return rec


def timed(argv):
    """Wall and CPU (user+system, children included) seconds of one run,
    stdout to /dev/null; (wall, cpu, stderr)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    h.check(p.returncode == 0, f"{argv[0]} exited {p.returncode}: {err[-500:]!r}")
    return wall, ru.ru_utime + ru.ru_stime, err.decode(errors="replace")


def bench_ingest(args):
    sc = h.Scratch("bench-ingest")
    try:
        jdir = sc.mkdir("journal")
        t0 = time.monotonic()
        n_rec = write_big_journal(sc, args.ingest_entries, jdir)
        gen_s = time.monotonic() - t0
        files = sorted((os.path.getsize(os.path.join(jdir, f)), f) for f in os.listdir(jdir)
                       if f.endswith(".journal"))
        size = sum(s for s, _ in files)
        out(f"ingest: {args.ingest_entries} kernel entries ({n_rec} ppc64 records = "
            f"{4 * n_rec} machine-check lines) in {len(files)} journal files, "
            f"{size / 2**20:.0f} MiB, written by journal-remote in {gen_s:.0f} s")
        largest = os.path.join(jdir, files[-1][1])
        r = subprocess.run(["journalctl", "--file", largest, "-o", "cat", "--no-pager"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=600)
        n_largest = r.stdout.count(b"\n")
        journalctl = shutil_which("journalctl")
        for what, mced_argv, jctl_argv, n in (
                (f"{args.ingest_entries} entries, directory of {len(files)} files",
                 [args.kvm_mced, "--replay", jdir],
                 [journalctl, "-D", jdir, "-o", "cat", "--no-pager"], args.ingest_entries),
                (f"{n_largest} entries, its largest file",
                 [args.kvm_mced, "--replay", largest],
                 [journalctl, "--file", largest, "-o", "cat", "--no-pager"], n_largest)):
            timed(mced_argv)  # warm the page cache
            timed(jctl_argv)
            m, j = [], []
            for _ in range(args.ingest_reps):
                m.append(timed(mced_argv))
                j.append(timed(jctl_argv))
            summary = m[-1][2].strip().splitlines()[-1] if m[-1][2].strip() else ""
            mw = statistics.median(x[0] for x in m)
            jw = statistics.median(x[0] for x in j)
            mc = statistics.median(x[1] for x in m)
            jc = statistics.median(x[1] for x in j)
            out(f"ingest ({what}): kvm-mced --replay {mw:.2f} s wall / {mc:.2f} s CPU "
                f"({n / mw / 1e6:.2f} M entries/s), journalctl -o cat {jw:.2f} s / {jc:.2f} s "
                f"({n / jw / 1e6:.2f} M entries/s): ratio {mw / jw:.2f} wall, {mc / jc:.2f} CPU "
                f"(medians of {args.ingest_reps})")
            if summary:
                out(f"ingest: kvm-mced said: {summary[:300]}")
    finally:
        sc.close()


def shutil_which(name):
    p = shutil.which(name)
    h.check(p is not None, f"{name} not found")
    return p


# ---- 5. startup --------------------------------------------------------------


def bench_startup(args):
    results = {}
    for n_dom in sorted({2, args.startup_domains}):
        sc = h.Scratch(f"bench-startup-{n_dom}")
        try:
            env = bench_env(sc, args.kvm_mced, "5s", n_dom)
            env["live"].kernel(h.UNRELATED, priority=h.INFO)
            path = sc.join("notify.sock")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(path)
            times = []
            for run in range(args.startup_runs):
                sdir = sc.mkdir(f"state-{run}")
                env["sdir"] = sdir
                t0 = time.monotonic()
                d = start_daemon(env, extra_env={"NOTIFY_SOCKET": path}, wait=False)
                t_ready = None
                deadline = t0 + 60
                while t_ready is None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        d.fail_with_log("no READY=1 within 60 s")
                    r, _, _ = select.select([sock, d.proc.stderr.fileno()], [], [], left)
                    now = time.monotonic()
                    if sock in r:
                        msg = sock.recv(4096).decode()
                        if "READY=1" in msg.split("\n"):
                            t_ready = now
                    else:
                        d._pump(0)
                times.append(t_ready - t0)
                d.stop()
            sock.close()
            results[n_dom] = (sorted(times), env["fixture_s"])
        finally:
            sc.close()
    for n_dom, (times, fixture_s) in results.items():
        out(f"startup: {n_dom} domains in /proc, D-Bus on: start -> READY=1 median "
            f"{ms(statistics.median(times))}, min {ms(times[0])}, max {ms(times[-1])} "
            f"({len(times)} runs, fresh state each)")


# ---- main --------------------------------------------------------------------


BENCHES = {
    "idle": bench_idle,
    "latency": bench_latency,
    "storm": bench_storm,
    "ingest": bench_ingest,
    "startup": bench_startup,
}


def machine_line():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for ln in f:
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    try:
        commit = subprocess.run(["git", "-C", SOURCE_ROOT, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    return (f"machine: {cpu}, {os.cpu_count()} cores, kernel {os.uname().release}, "
            f"commit {commit or '?'}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kvm-mced", metavar="PATH",
                    default=os.path.join(SOURCE_ROOT, "build", "daemon", "kvm-mced"),
                    help="the daemon to measure (default build/daemon/kvm-mced)")
    ap.add_argument("--only", metavar="NAME,...", default=",".join(BENCHES),
                    help="run only these, in this order: " + ", ".join(BENCHES))
    ap.add_argument("--idle-seconds", type=float, default=60, metavar="S",
                    help="length of the idle measurement (default 60)")
    ap.add_argument("--latency-events", type=int, default=1000, metavar="N",
                    help="events, each a new incident of its own domain (default 1000)")
    ap.add_argument("--latency-gap", type=float, default=0.005, metavar="S",
                    help="seconds between a signal and the next event (default 0.005)")
    ap.add_argument("--storm-lines", type=int, default=100_000, metavar="N",
                    help="machine-check lines, 4 per record (default 100000)")
    ap.add_argument("--storm-domains", type=int, default=1000, metavar="N",
                    help="domains the records are spread over (default 1000)")
    ap.add_argument("--storm-seconds", type=float, default=0, metavar="S",
                    help="spread the storm's writes over this long (default 0: as fast as "
                    "journal-remote takes them)")
    ap.add_argument("--storm-timeout", type=float, default=120, metavar="S",
                    help="give up waiting for the storm to be processed (default 120)")
    ap.add_argument("--storm-no-bus", action="store_true",
                    help="run the storm without D-Bus (to tell what the bus costs)")
    ap.add_argument("--ingest-entries", type=int, default=1_000_000, metavar="N",
                    help="kernel entries in the journal replayed (default 1000000)")
    ap.add_argument("--ingest-reps", type=int, default=3, metavar="N",
                    help="timed runs of each program after a warm-up run (default 3)")
    ap.add_argument("--startup-domains", type=int, default=1000, metavar="N",
                    help="QEMU processes in /proc at startup (default 1000; 2 is also run)")
    ap.add_argument("--startup-runs", type=int, default=5, metavar="N",
                    help="starts of each size (default 5)")
    ap.add_argument("--proc-tmpdir", default="/dev/shm", metavar="DIR",
                    help="where to build the /proc fixture (default /dev/shm; '' for the "
                    "scratch directory)")
    args = ap.parse_args()
    global PROC_TMPDIR
    if args.proc_tmpdir and os.path.isdir(args.proc_tmpdir):
        PROC_TMPDIR = args.proc_tmpdir
    args.kvm_mced = os.path.abspath(args.kvm_mced)
    names = [n for n in args.only.split(",") if n]
    for n in names:
        if n not in BENCHES:
            ap.error(f"unknown benchmark {n!r}")
    if not os.access(args.kvm_mced, os.X_OK):
        ap.error(f"{args.kvm_mced} is not an executable (build it: meson setup build && "
                 "ninja -C build)")
    if os.geteuid() != 0:
        print("bench-daemon: needs root (the shipped D-Bus policy lets only root own "
              f"{BUS_NAME})", file=sys.stderr)
        return 2
    for prog in ("dbus-daemon", "journalctl", "busctl"):
        shutil_which(prog)
    h.journal_remote()
    out(machine_line())
    out(f"# load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for n in names:
        t0 = time.monotonic()
        try:
            BENCHES[n](args)
        except (h.Failure, h.Skip) as e:
            out(f"{n}: FAILED: {e}")
            MISMATCHES.append(f"{n} failed")
        out(f"# {n}: {time.monotonic() - t0:.0f} s; load average now "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if MISMATCHES else 0


if __name__ == "__main__":
    sys.exit(main())
