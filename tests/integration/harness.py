# SPDX-License-Identifier: GPL-2.0-or-later
"""Building blocks for the kvm-mced integration tests (Python stdlib only).

  Skip / skip_unless_tool   exit 77 with a "SKIP <reason>" line
  Scratch                   a per-test directory and every process started
                            in it, torn down by PID (never by name)
  ExportClock, kernel_entry, injected_entry, encode_entry
                            Journal Export Format entries shaped exactly
                            like journald's (docs: test-harness.md 9.1)
  write_journal             a journal file from export text (journal-remote)
  LiveJournal               a long-running journal-remote fed through a FIFO
  ProcFixture               a /proc-like tree of QEMU processes and threads
  Daemon                    kvm-mced with its stderr read line by line, and
                            waits with deadlines on those lines
  in_mount_namespace        re-run the current test inside `unshare -m`

Every wait is on an event (a stderr line, a file appearing, a process
ending) with a deadline; nothing sleeps and hopes.
"""

import errno
import fcntl
import json
import os
import re
import select
import shlex
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time

EXIT_SKIP = 77

JOURNAL_REMOTE_CANDIDATES = (
    "/lib/systemd/systemd-journal-remote",
    "/usr/lib/systemd/systemd-journal-remote",
)
JOURNALD_CANDIDATES = (
    "/lib/systemd/systemd-journald",
    "/usr/lib/systemd/systemd-journald",
)

# printk levels as journald stores them in PRIORITY
EMERG, ALERT, CRIT, ERR, WARNING, NOTICE, INFO = 0, 1, 2, 3, 4, 5, 6

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Skip(Exception):
    """Raised by a test that cannot run here; the runner exits 77."""


class Failure(AssertionError):
    pass


def fail(msg):
    raise Failure(msg)


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def find_program(name, candidates=()):
    for path in candidates:
        if os.access(path, os.X_OK):
            return path
    return shutil.which(name)


def need_program(name, candidates=()):
    path = find_program(name, candidates)
    if path is None:
        raise Skip(f"{name} not found")
    return path


def journal_remote():
    return need_program("systemd-journal-remote", JOURNAL_REMOTE_CANDIDATES)


def log(msg):
    print(f"# {msg}", flush=True)


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def left(self):
        return max(0.0, self.end - time.monotonic())

    def expired(self):
        return time.monotonic() >= self.end


def poll_until(pred, timeout, what, interval=0.02):
    """For states with no event to wait on (a file the daemon rewrites):
    test pred() until it is true or the deadline passes."""
    d = Deadline(timeout)
    while True:
        v = pred()
        if v:
            return v
        if d.expired():
            fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(min(interval, d.left()))


def pid_alive(pid):
    """Field 3 of /proc/PID/stat; a zombie counts as gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    rest = data[data.rfind(b")") + 2:]
    return not rest.startswith(b"Z")


# ---- scratch directory and process bookkeeping -------------------------


class Scratch:
    """A fresh directory per test; processes registered here are ended by
    their PID at teardown, cleanups run in reverse order. The directory is
    kept when the test failed or teardown found a problem (<ENV>_KEEP=1
    keeps it always; <ENV>_TMPDIR says where it goes)."""

    PREFIX = "mced-it"
    ENV = "MCED_IT"

    def __init__(self, name):
        base = os.environ.get(f"{self.ENV}_TMPDIR") or None
        self.path = tempfile.mkdtemp(prefix=f"{self.PREFIX}-{name}-", dir=base)
        self.procs = []  # subprocess.Popen
        self.cleanups = []
        self.failed = False

    def join(self, *parts):
        return os.path.join(self.path, *parts)

    def mkdir(self, *parts):
        p = self.join(*parts)
        os.makedirs(p, exist_ok=True)
        return p

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def add_cleanup(self, fn):
        self.cleanups.append(fn)
        return fn

    def leftovers(self):
        """Problems teardown leaves behind (for subclasses to find)."""
        return []

    def close(self):
        """Tears down; returns the problems found (cleanups that raised,
        leftovers), which keep the directory."""
        errors = []
        while self.cleanups:
            fn = self.cleanups.pop()
            try:
                fn()
            except Exception as e:  # teardown must go on
                errors.append(f"{e}")
                log(f"cleanup: {e!r}")
        for p in reversed(self.procs):
            end_process(p)
        for p in self.procs:
            if pid_alive(p.pid):
                log(f"process {p.pid} ({p.args[0]}) still alive after teardown")
        errors += self.leftovers()
        if self.failed or errors or os.environ.get(f"{self.ENV}_KEEP"):
            log(f"scratch directory kept: {self.path}")
        else:
            shutil.rmtree(self.path, ignore_errors=True)
        return errors


def end_process(p, timeout=5.0):
    """SIGTERM, then SIGKILL, of one child we started, then reap it."""
    if p.poll() is not None:
        return p.returncode
    try:
        p.send_signal(signal.SIGTERM)
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait(timeout=timeout)


# ---- Journal Export Format ------------------------------------------------


def _is_utf8(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def encode_entry(fields):
    """fields: [(KEY, str|bytes)]. Values with a newline, a NUL or bytes
    that are not UTF-8 use the binary form (KEY, LF, le64 size, data, LF)."""
    out = bytearray()
    for key, value in fields:
        if isinstance(value, str):
            value = value.encode("utf-8")
        if b"\n" in value or b"\0" in value or not _is_utf8(value):
            out += key.encode() + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"
        else:
            out += key.encode() + b"=" + value + b"\n"
    out += b"\n"
    return bytes(out)


def host_boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip().replace("-", "")


def host_machine_id():
    try:
        with open("/etc/machine-id") as f:
            v = f.read().strip()
            if len(v) == 32:
                return v
    except OSError:
        pass
    return "9f8e7d6c5b4a49382716051a2b3c4d5e"


class ExportClock:
    """Timestamps for fixture entries, one _BOOT_ID per test.

    live=True: the host's boot id and the current CLOCK_REALTIME and
    CLOCK_MONOTONIC at each entry (never going back), so that the daemon's
    timers, which read those clocks once it is caught up, agree with the
    data. live=False: fixed times that advance by step_us per entry."""

    def __init__(self, live, realtime_us=1700000000000000, monotonic_us=100_000_000,
                 step_us=1000, boot_id=None):
        self.live = live
        self.step_us = step_us
        self.realtime = realtime_us
        self.monotonic = monotonic_us
        if live:
            self.boot_id = boot_id or host_boot_id()
            self.realtime = 0
            self.monotonic = 0
        else:
            self.boot_id = boot_id or "5b0c1d9e7a4f4e21b8c3d6e9f0a1b2c3"
        self.machine_id = host_machine_id()

    def tick(self):
        if self.live:
            rt = time.clock_gettime_ns(time.CLOCK_REALTIME) // 1000
            mono = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            self.realtime = max(rt, self.realtime + 1)
            self.monotonic = max(mono, self.monotonic + 1)
        else:
            self.realtime += self.step_us
            self.monotonic += self.step_us
        return self.realtime, self.monotonic

    def advance(self, us):
        self.realtime += us
        self.monotonic += us

    def common(self):
        rt, mono = self.tick()
        return [
            ("__REALTIME_TIMESTAMP", str(rt)),
            ("__MONOTONIC_TIMESTAMP", str(mono)),
            ("_BOOT_ID", self.boot_id),
            ("_MACHINE_ID", self.machine_id),
            ("_HOSTNAME", "kvmhost1"),
        ]


def kernel_entry(clock, message, priority=ERR, facility="0", identifier="kernel"):
    """A line the kernel printed, as journald stores it. facility=None
    leaves SYSLOG_FACILITY out; message=None leaves MESSAGE out."""
    fields = clock.common()
    mono = int(fields[1][1])
    fields += [("_TRANSPORT", "kernel"), ("PRIORITY", str(priority))]
    if facility is not None:
        fields.append(("SYSLOG_FACILITY", facility))
    if identifier is not None:
        fields.append(("SYSLOG_IDENTIFIER", identifier))
    fields.append(("_SOURCE_MONOTONIC_TIMESTAMP", str(max(0, mono - 137))))
    if message is not None:
        fields.append(("MESSAGE", message))
    return encode_entry(fields)


def injected_entry(clock, message, identifier="MCE", priority=ERR):
    """A line a process wrote into /dev/kmsg: facility 1, the leading
    "MCE:" split off into SYSLOG_IDENTIFIER by journald."""
    return kernel_entry(clock, message, priority=priority, facility="1", identifier=identifier)


# Records in the shapes kernels print (reference/kernel-qemu.md).

def ppc64_guest_ue(cpu, tid, vcpu, dar="00007fff8a3c1000", paddr="0000201f3a3c1000"):
    """Compact ppc64 guest UE, not recovered: four lines."""
    return [
        f"MCE: CPU{cpu}: machine check (Severe) Guest UE Load/Store DAR: {dar} "
        f"paddr: {paddr} [Not recovered]",
        f"MCE: CPU{cpu}: PID: {tid} Comm: CPU {vcpu}/KVM Guest NIP: [c000000000a1b2c4]",
        f"MCE: CPU{cpu}: Initiator CPU",
        f"MCE: CPU{cpu}: Hardware error",
    ]


def ppc64_guest_slb_recovered(cpu, tid, vcpu, dar="000001001b6e0320"):
    """Compact ppc64 guest SLB multihit, recovered: four lines."""
    return [
        f"MCE: CPU{cpu}: machine check (Warning) Guest SLB Multihit DAR: {dar} [Recovered]",
        f"MCE: CPU{cpu}: PID: {tid} Comm: CPU {vcpu}/KVM Guest NIP: [00007fffa309dc60]",
        f"MCE: CPU{cpu}: Initiator CPU",
        f"MCE: CPU{cpu}: Probable software error (some chance of hardware cause)",
    ]


def x86_host_block(cpu=5, bank=7, addr="1f3a3c2040"):
    """An x86 corrected-error block with no PID: host-level."""
    return [
        f"mce: [Hardware Error]: CPU {cpu}: Machine Check: 0 Bank {bank}: cc00008000010090",
        f"mce: [Hardware Error]: TSC 0 ADDR {addr} MISC 200000c000000086",
        f"mce: [Hardware Error]: PROCESSOR 0:50657 TIME 1700000008 SOCKET 0 APIC a "
        f"microcode 5003604",
    ]


UNRELATED = [
    "IPv6: ADDRCONF(NETDEV_CHANGE): tap0: link becomes ready",
    "br0: port 2(tap0) entered forwarding state",
    "EXT4-fs (dm-1): mounted filesystem with ordered data mode. Quota mode: none.",
    "audit: type=1400 audit(1700000010.123:77): apparmor=\"STATUS\" operation=\"profile_load\"",
    "kvm-hv: Parent hypervisor does not support nesting (rc=-2)",
    "virbr0: port 1(vnet3) entered blocking state",
    "perf: interrupt took too long (2503 > 2500), lowering kernel.perf_event_max_sample_rate",
    "device vnet3 entered promiscuous mode",
]


def write_journal(export_bytes, journal_path, scratch=None):
    """Write (or append to) a journal file with systemd-journal-remote."""
    jr = journal_remote()
    check(journal_path.endswith(".journal"), "journal file names end in .journal")
    src = journal_path + ".export"
    with open(src, "wb") as f:
        f.write(export_bytes)
    r = subprocess.run([jr, "-o", journal_path, src], capture_output=True, timeout=120)
    if r.returncode != 0:
        fail(f"systemd-journal-remote failed ({r.returncode}): {r.stderr.decode(errors='replace')}")
    os.unlink(src)


def journal_last_cursor(directory, match="_TRANSPORT=kernel"):
    """The cursor of the last entry in a journal directory (journalctl)."""
    argv = ["journalctl", "-D", directory, "-n", "1", "-o", "json", "--no-pager"]
    if match:
        argv.append(match)
    r = subprocess.run(argv, capture_output=True, timeout=60)
    if r.returncode != 0:
        fail(f"journalctl failed: {r.stderr.decode(errors='replace')}")
    lines = [ln for ln in r.stdout.decode().splitlines() if ln.strip()]
    check(lines, f"no entries in {directory}")
    return json.loads(lines[-1])["__CURSOR"]


class LiveJournal:
    """systemd-journal-remote reading a FIFO into DIR/live.journal; each
    write() is one or more export entries, seen by followers at once. The
    write end is held open here, so journal-remote sees no EOF between
    writes; closing it ends journal-remote."""

    def __init__(self, scratch, directory, clock):
        self.scratch = scratch
        self.directory = directory
        self.clock = clock
        self.fifo = scratch.join("in.fifo")
        self.path = os.path.join(directory, "live.journal")
        self.fd = None
        os.makedirs(directory, exist_ok=True)
        os.mkfifo(self.fifo)
        self.stderr_path = scratch.join("journal-remote.log")
        self.proc = scratch.spawn(
            [journal_remote(), "-o", self.path, self.fifo],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.stderr_path, "wb"))
        scratch.add_cleanup(self.close)
        # journal-remote opens the FIFO for reading at start: until then an
        # O_NONBLOCK open for writing fails with ENXIO.
        d = Deadline(10)
        while self.fd is None:
            try:
                self.fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno != errno.ENXIO:
                    raise
                if self.proc.poll() is not None or d.expired():
                    fail("systemd-journal-remote did not open its FIFO: "
                         + open(self.stderr_path, errors="replace").read())
                time.sleep(0.01)
        os.set_blocking(self.fd, True)
        poll_until(lambda: os.path.exists(self.path), 10, f"{self.path} to appear")

    def write(self, data):
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]

    def kernel(self, lines, **kw):
        if isinstance(lines, (str, bytes)):
            lines = [lines]
        self.write(b"".join(kernel_entry(self.clock, ln, **kw) for ln in lines))

    def injected(self, lines, **kw):
        if isinstance(lines, (str, bytes)):
            lines = [lines]
        self.write(b"".join(injected_entry(self.clock, ln, **kw) for ln in lines))

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                end_process(self.proc)


# ---- /proc fixture ----------------------------------------------------------


class ProcFixture:
    """A /proc-like tree: QEMU processes with their vCPU threads.

    For each process P: P/cmdline (NUL-separated argv), P/status (Tgid),
    P/stat (start time in field 22), P/comm, P/task/T/{comm,status,stat};
    each thread T also at top level (T/status with Tgid P), as /proc shows
    thread ids that are not listed."""

    def __init__(self, root):
        self.root = root
        os.makedirs(root, exist_ok=True)

    @staticmethod
    def qemu_cmdline(name, uuid, binary="/usr/bin/qemu-system-ppc64"):
        argv = [binary, "-name", f"guest={name},debug-threads=on", "-S"]
        if uuid:
            argv += ["-uuid", uuid]
        argv += ["-machine", "pseries,accel=kvm", "-m", "4096", "-smp", "8"]
        return b"\0".join(a.encode() for a in argv) + b"\0"

    @staticmethod
    def _stat(pid, comm, start_time, state="S", ppid=1):
        # fields 3.. : state ppid pgrp session tty tpgid flags minflt cminflt
        # majflt cmajflt utime stime cutime cstime priority nice threads
        # itrealvalue starttime(22) vsize rss ...
        rest = [state, str(ppid), str(pid), str(pid), "0", "-1", "4194560", "0", "0", "0",
                "0", "10", "5", "0", "0", "20", "0", "4", "0", str(start_time),
                "4613734400", "100000"]
        return f"{pid} ({comm}) " + " ".join(rest) + "\n"

    @staticmethod
    def _status(name, pid, tgid):
        return (f"Name:\t{name}\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{tgid}\n"
                f"Ngid:\t0\nPid:\t{pid}\nPPid:\t1\n")

    def _write(self, rel, data):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(path + ".tmp", mode) as f:
            f.write(data)
        os.rename(path + ".tmp", path)

    def add_process(self, pid, cmdline, comm, threads=None, start_time=1000):
        """threads: {tid: comm} (the main thread is added as pid)."""
        threads = dict(threads or {})
        threads.setdefault(pid, comm)
        self._write(f"{pid}/cmdline", cmdline)
        self._write(f"{pid}/comm", comm + "\n")
        self._write(f"{pid}/status", self._status(comm, pid, pid))
        self._write(f"{pid}/stat", self._stat(pid, comm, start_time))
        for tid, tcomm in threads.items():
            for base in (f"{pid}/task/{tid}", f"{tid}"):
                self._write(f"{base}/comm", tcomm + "\n")
                self._write(f"{base}/status", self._status(tcomm, tid, pid))
                self._write(f"{base}/stat", self._stat(tid, tcomm, start_time))
            if tid != pid:
                # top-level thread dirs have no cmdline of their own in this
                # fixture's eyes beyond the process's: Linux shows the same
                self._write(f"{tid}/cmdline", cmdline)

    def add_qemu(self, pid, name, uuid=None, vcpus=None, start_time=1000,
                 binary="/usr/bin/qemu-system-ppc64"):
        """vcpus: {tid: k} gives thread tid the name "CPU k/KVM"."""
        threads = {tid: f"CPU {k}/KVM" for tid, k in (vcpus or {}).items()}
        threads[pid + 1] = "qemu-system-ppc"  # an I/O thread
        self.add_process(pid, self.qemu_cmdline(name, uuid, binary), "qemu-system-ppc",
                         threads, start_time)

    def add_other(self, pid, argv, comm, start_time=500):
        cmd = b"\0".join(a.encode() for a in argv) + b"\0"
        self.add_process(pid, cmd, comm, {}, start_time)

    def remove(self, pid):
        """The process ends: its directory and its threads' go away."""
        task = os.path.join(self.root, str(pid), "task")
        tids = os.listdir(task) if os.path.isdir(task) else []
        for tid in tids:
            shutil.rmtree(os.path.join(self.root, tid), ignore_errors=True)
        shutil.rmtree(os.path.join(self.root, str(pid)), ignore_errors=True)


# ---- the daemon -------------------------------------------------------------

INCIDENT_RE = re.compile(
    r"^kvm-mced: (?:\[drill\] )?Machine-check incident (?P<id>\S+) "
    r"(?P<event>opened|updated|closed) for "
    r"(?:domain '(?P<name>.*)'|domain (?P<uuid>[0-9a-f-]{36})|(?P<host>the host)): "
    r"(?P<klass>[a-z]+), ")


class Incident:
    def __init__(self, m, index):
        self.index = index
        self.id = m.group("id")
        self.event = m.group("event")
        self.name = m.group("name")
        self.uuid = m.group("uuid")
        self.host = m.group("host") is not None
        self.klass = m.group("klass")
        self.line = m.string

    def __repr__(self):
        who = "host" if self.host else (self.name or self.uuid)
        return f"<{self.event} {self.id} {who} {self.klass}>"


def process_cpu_seconds(pid):
    """User + system CPU time of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def parse_incident(line, index=-1):
    m = INCIDENT_RE.match(line)
    return Incident(m, index) if m else None


def daemon_env():
    env = dict(os.environ)
    for k in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
              "STATE_DIRECTORY", "CONFIGURATION_DIRECTORY", "RUNTIME_DIRECTORY",
              "MCED_PROCFS_ROOT", "MCED_SYSFS_ROOT", "LISTEN_FDS", "LISTEN_PID"):
        env.pop(k, None)
    return env


def write_config(path, window="2s", record_timeout="200ms", extra=""):
    """These cases run without libvirt (tests/system has it): the daemon
    must not reach for the machine's qemu:///system."""
    with open(path, "w") as f:
        f.write(f"[daemon]\ncorrelation-window = {window}\nrecord-timeout = {record_timeout}\n")
        f.write(extra)
        if "[libvirt]" not in extra:
            f.write("[libvirt]\nenabled = no\n")
    return path


class Daemon:
    """One kvm-mced process. Its stderr is read line by line into .lines
    (also copied to a log file); wait_line() blocks on the pipe with a
    deadline."""

    STARTUP_RE = re.compile(r"^kvm-mced: kvm-mced \S+ following ")

    def __init__(self, scratch, binary, journal_dir, state_dir, config, procfs,
                 journal_log=False, extra_args=(), tag="daemon", wrap=(), pipe_size=None,
                 env=None):
        self.scratch = scratch
        # journal_dir None: the source comes from extra_args (--kmsg).
        # MCED_IT_WRAP="valgrind --error-exitcode=99 ...": every daemon of
        # a run under that command (by hand; CI runs ASan instead).
        outer = shlex.split(os.environ.get("MCED_IT_WRAP", ""))
        self.argv = outer + list(wrap) + [binary]
        if journal_dir is not None:
            self.argv += ["--journal-directory", journal_dir]
        self.argv += ["--state-directory", state_dir, "--config", config,
                      "--procfs-root", procfs]
        if not journal_log:
            self.argv.append("--no-journal-log")
        if "--bus-address" not in extra_args:
            self.argv += ["--bus-address", "none"]  # never the host's system bus
        self.argv += list(extra_args)
        self.lines = []
        self.buf = b""
        self.eof = False
        self.log_path = scratch.join(f"{tag}-{len(scratch.procs)}.stderr")
        self.logf = open(self.log_path, "w")
        self.proc = scratch.spawn(self.argv, stdin=subprocess.DEVNULL,
                                  stdout=self.logf, stderr=subprocess.PIPE,
                                  env={**daemon_env(), **(env or {})})
        os.set_blocking(self.proc.stderr.fileno(), False)
        if pipe_size is not None:
            # A small pipe makes the daemon block in write(2) soon after
            # the harness stops reading: a way to hold it at a line.
            fcntl.fcntl(self.proc.stderr.fileno(), fcntl.F_SETPIPE_SZ, pipe_size)

    @property
    def pid(self):
        return self.proc.pid

    def _pump(self, timeout):
        """Read what stderr has, waiting at most timeout. False at EOF."""
        if self.eof:
            return False
        fd = self.proc.stderr.fileno()
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return True
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            return True
        if not chunk:
            self.eof = True
            if self.buf:
                self._add_lines([self.buf])
                self.buf = b""
            return False
        parts = (self.buf + chunk).split(b"\n")
        self.buf = parts.pop()
        self._add_lines(parts)
        return True

    def _add_lines(self, raws):
        """Whole lines read from stderr (bytes, without their newline)."""
        verbose = os.environ.get("MCED_IT_VERBOSE")
        for raw in raws:
            line = raw.decode("utf-8", errors="replace")
            self.lines.append(line)
            self.logf.write(line + "\n")
            if verbose:
                log(f"[{self.proc.pid}] {line}")
        self.logf.flush()

    def drain(self):
        while self._pump(0):
            if not select.select([self.proc.stderr.fileno()], [], [], 0)[0]:
                break

    def mark(self):
        """An index into .lines: wait_line(since=mark) sees only later lines."""
        self.drain()
        return len(self.lines)

    def wait_line(self, pred, timeout, what, since=0):
        """The first line at index >= since for which pred(line) is true
        (pred may be a regex string). Returns (index, line)."""
        if isinstance(pred, str):
            rx = re.compile(pred)
            pred = lambda s: rx.search(s) is not None  # noqa: E731
        d = Deadline(timeout)
        i = since
        while True:
            while i < len(self.lines):
                if pred(self.lines[i]):
                    return i, self.lines[i]
                i += 1
            if d.expired():
                self.fail_with_log(f"timed out after {timeout:g}s waiting for {what}")
            if not self._pump(d.left()):
                # EOF: the daemon ended
                while i < len(self.lines):
                    if pred(self.lines[i]):
                        return i, self.lines[i]
                    i += 1
                self.proc.wait(timeout=5)
                self.fail_with_log(
                    f"kvm-mced exited ({self.proc.returncode}) while waiting for {what}")

    def wait_started(self, timeout=15):
        """The startup line. The daemon installs its signal handlers before
        printing it, so from here a SIGHUP reloads and a SIGTERM saves:
        nothing more is waited for, and a signal sent right away tests it."""
        r = self.wait_line(lambda s: self.STARTUP_RE.match(s) is not None, timeout,
                           "the startup line")
        if not self.catches(signal.SIGTERM, signal.SIGHUP):
            self.fail_with_log("kvm-mced printed its startup line before handling "
                               "SIGTERM and SIGHUP")
        return r

    def catches(self, *sigs):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for ln in f:
                    if ln.startswith("SigCgt:"):
                        mask = int(ln.split()[1], 16)
                        return all(mask & (1 << (int(s) - 1)) for s in sigs)
        except OSError:
            pass
        return False

    def incidents(self, since=0):
        self.drain()
        out = []
        for i in range(since, len(self.lines)):
            inc = parse_incident(self.lines[i], i)
            if inc:
                out.append(inc)
        return out

    def wait_incident(self, timeout, what, since=0, event=None, name=None, host=None,
                      klass=None):
        def pred(line):
            inc = parse_incident(line)
            if inc is None:
                return False
            if event is not None and inc.event != event:
                return False
            if name is not None and inc.name != name:
                return False
            if host is not None and inc.host != host:
                return False
            if klass is not None and inc.klass != klass:
                return False
            return True
        i, line = self.wait_line(pred, timeout, what, since)
        return parse_incident(line, i)

    def wait_n_incident_lines(self, n, timeout, since=0):
        """Wait until n incident lines (any event) were printed since."""
        count = 0
        i = since
        d = Deadline(timeout)
        while count < n:
            i, _ = self.wait_line(lambda s: INCIDENT_RE.match(s) is not None, d.left(),
                                  f"{n} incident lines", i)
            count += 1
            i += 1
        return i

    def alive(self):
        return self.proc.poll() is None

    def check_alive(self, what):
        self.drain()
        if not self.alive():
            self.fail_with_log(f"kvm-mced exited ({self.proc.returncode}) {what}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15, expect_status=0):
        """SIGTERM, wait for the exit, read the rest of stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        d = Deadline(timeout)
        while self._pump(d.left()):
            if d.expired():
                self.proc.kill()
                self.fail_with_log(f"kvm-mced did not stop within {timeout:g}s of SIGTERM")
        try:
            rc = self.proc.wait(timeout=max(0.1, d.left()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.fail_with_log(f"kvm-mced did not exit within {timeout:g}s of SIGTERM")
        if expect_status is not None and rc != expect_status:
            self.fail_with_log(f"kvm-mced exited with {rc}, expected {expect_status}")
        return rc

    def wait_file_replaced(self, path, timeout):
        """Wait until path exists with another (inode, mtime) than it had
        at the call, reading stderr meanwhile so that the daemon never
        blocks on it. Written by rename, so a change means a whole file."""
        def ident():
            try:
                st = os.stat(path)
                return (st.st_ino, st.st_mtime_ns)
            except FileNotFoundError:
                return None
        before = ident()
        d = Deadline(timeout)
        while True:
            now = ident()
            if now is not None and now != before:
                return
            if d.expired():
                self.fail_with_log(f"timed out after {timeout:g}s waiting for {path} to change")
            if not self._pump(min(0.01, d.left())) and self.proc.poll() is not None:
                self.fail_with_log(f"kvm-mced exited ({self.proc.returncode}) while waiting "
                                   f"for {path} to change")

    def wait_exit(self, timeout=15):
        """Wait for the daemon to end by itself; its exit status."""
        d = Deadline(timeout)
        while self._pump(d.left()):
            if d.expired():
                self.fail_with_log(f"kvm-mced did not exit within {timeout:g}s")
        try:
            return self.proc.wait(timeout=max(0.1, d.left()))
        except subprocess.TimeoutExpired:
            self.fail_with_log(f"kvm-mced did not exit within {timeout:g}s")

    def kill9(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        while self._pump(0.5):
            pass

    def fail_with_log(self, msg):
        self.drain() if not self.eof else None
        tail = "\n".join("  | " + ln[:300] for ln in self.lines[-40:])
        fail(f"{msg}\n  kvm-mced {' '.join(self.argv)}\n  stderr (last 40 lines):\n{tail}")


# ---- state directory -----------------------------------------------------------


def read_state(state_dir):
    try:
        with open(os.path.join(state_dir, "state.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_history(state_dir):
    """The raw lines of history.jsonl (both generations, oldest first)."""
    lines = []
    for name in ("history.jsonl.1", "history.jsonl"):
        try:
            with open(os.path.join(state_dir, name)) as f:
                lines += [ln.rstrip("\n") for ln in f if ln.strip()]
        except FileNotFoundError:
            pass
    return lines


def history_objects(state_dir):
    return [json.loads(ln) for ln in read_history(state_dir)]


def incident_domain_name(obj):
    """The domain name of a history/state incident object (None: host)."""
    d = obj.get("domain")
    if isinstance(d, dict):
        return d.get("name")
    return d


# ---- mount namespaces ---------------------------------------------------------

NS_ENV = "MCED_IT_IN_MOUNT_NS"


def in_mount_namespace():
    """Re-run this process inside `unshare -m --propagation private` (root
    only). Returns in the namespace; the outer process exits with the
    inner's status. Everything mounted inside vanishes with it."""
    if os.environ.get(NS_ENV) == "1":
        return
    if os.geteuid() != 0:
        raise Skip("needs root for a private mount namespace")
    unshare = need_program("unshare")
    env = dict(os.environ)
    env[NS_ENV] = "1"
    r = subprocess.run([unshare, "-m", "--propagation", "private", sys.executable]
                       + sys.argv, env=env)
    sys.exit(r.returncode)


def mount(*args):
    r = subprocess.run(["mount"] + list(args), capture_output=True)
    if r.returncode != 0:
        fail(f"mount {' '.join(args)}: {r.stderr.decode(errors='replace').strip()}")


def is_dir(path):
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


# A dbus-daemon configured like the system bus (default deny for method
# calls) with kvm-mced's shipped policy file in its system.d.
BUS_CONF = """<busconfig>
  <type>system</type> <listen>unix:path={dir}/{socket}</listen> <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/> <deny own="*"/> <deny send_type="method_call"/> <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/> <allow receive_type="method_return"/>
    <allow receive_type="error"/> <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Peer"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <includedir>{dir}/system.d</includedir>
</busconfig>
"""


def system_bus(sc, socket="bus.sock"):
    """Start a private system-like dbus-daemon listening on
    <scratch>/bus/<socket>; returns (address, directory) once it listens."""
    bdir = sc.mkdir("bus")
    os.chmod(sc.path, 0o755)
    os.chmod(bdir, 0o755)
    os.makedirs(os.path.join(bdir, "system.d"))
    shutil.copy(os.path.join(SOURCE_ROOT, "systemd", "org.kvm_mced.Manager1.conf"),
                os.path.join(bdir, "system.d"))
    with open(os.path.join(bdir, "bus.conf"), "w") as f:
        f.write(BUS_CONF.format(dir=bdir, socket=socket))
    return _start_bus(sc, bdir), bdir


_BUSES = {}  # bus directory -> its dbus-daemon (Popen)


def _start_bus(sc, bdir):
    bus = sc.spawn(["dbus-daemon", "--config-file", os.path.join(bdir, "bus.conf"), "--nofork",
                    "--print-address=1"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    address = bus.stdout.readline().decode().strip()  # printed once it listens
    check(address.startswith("unix:"), f"dbus-daemon printed {address!r}")
    _BUSES[bdir] = bus
    # Without the guid, as the system bus's address is: a restarted bus has
    # another one, and clients must be able to find it again.
    return address.split(",guid=")[0]


def restart_system_bus(sc, bdir):
    """Stop the dbus-daemon of system_bus() and start it again on the same
    socket; returns the address once it listens."""
    bus = _BUSES.pop(bdir)
    bus.terminate()
    bus.wait(timeout=10)
    return _start_bus(sc, bdir)
