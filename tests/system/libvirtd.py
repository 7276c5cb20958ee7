# SPDX-License-Identifier: GPL-2.0-or-later
"""A private root libvirtd in its own mount namespace
(reference/test-harness.md 2 and 3).

    lv = PrivateLibvirtd(scratch_dir, "src")     # DIR = scratch_dir/src
    lv.start()                                   # ready: socket + virsh version
    lv.virsh("list", "--all")
    lv.kill(); lv.restart()                      # "libvirtd dies", QEMU stays
    lv.stop()                                    # destroys domains; no leftovers

A root libvirtd always uses the compiled-in paths (/etc/libvirt,
/run/libvirt, ...); each instance runs under `unshare --mount --propagation
private` with those five paths bind-mounted from DIR, so any number run side
by side and nothing shows on the host. The sockets live in DIR/sock, outside
the bind mounts, so clients (and a peer libvirtd, for p2p migration) reach
them.

Cold start probes every installed qemu-system-* binary (8-14 s); a copy of
a capability cache made once (capability_template()) makes it 0.2 s.
"""

import contextlib
import fcntl
import glob
import hashlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

from common import (Deadline, check, fail, log, mounts_under, pid_alive, proc_comm, run,
                    signal_pid, tail, wait_gone)

LIBVIRTD = "/usr/sbin/libvirtd"
QEMU_X86 = "/usr/bin/qemu-system-x86_64"
INSTALL_HINT = "install it with contrib/install-deps.sh"

# DIR subdirectory -> the path libvirtd uses, bind-mounted in its namespace
BIND_MOUNTS = (
    ("etc", "/etc/libvirt"),
    ("run", "/run/libvirt"),
    ("lib", "/var/lib/libvirt"),
    ("log", "/var/log/libvirt"),
    ("cache", "/var/cache/libvirt"),
)

DEFAULT_CACHE_ROOT = "/var/tmp/kvm-mced-libvirt-cache"

READY_TIMEOUT_COLD = 90.0  # a cold probe of x86 and ppc QEMU, on a loaded CI machine
READY_TIMEOUT_WARM = 30.0


def need_programs():
    """Fail (not skip: install-deps.sh installs them) when libvirtd, virsh,
    QEMU or unshare is missing."""
    for path in (LIBVIRTD, QEMU_X86):
        if not os.access(path, os.X_OK):
            fail(f"{path} not found; {INSTALL_HINT}")
    for prog in ("virsh", "unshare", "stdbuf"):
        if shutil.which(prog) is None:
            fail(f"{prog} not found; {INSTALL_HINT}")


def ensure_libvirt_qemu_account():
    """The QEMU driver looks the libvirt-qemu account up before reading
    qemu.conf, even when QEMU runs as root; libvirt-daemon-system (which we
    do not install) would create it."""
    def exists(db, name):
        return subprocess.run(["getent", db, name], stdout=subprocess.DEVNULL).returncode == 0

    if not exists("group", "libvirt-qemu"):
        r = subprocess.run(["groupadd", "--system", "libvirt-qemu"], capture_output=True, text=True)
        check(r.returncode == 0 or exists("group", "libvirt-qemu"),
              f"groupadd libvirt-qemu: {r.stderr.strip()}")
    if not exists("passwd", "libvirt-qemu"):
        r = subprocess.run(["useradd", "--system", "-g", "libvirt-qemu", "-d", "/var/lib/libvirt",
                            "-s", "/usr/sbin/nologin", "libvirt-qemu"],
                           capture_output=True, text=True)
        check(r.returncode == 0 or exists("passwd", "libvirt-qemu"),
              f"useradd libvirt-qemu: {r.stderr.strip()}")


def _mount_points():
    for _, target in BIND_MOUNTS:
        os.makedirs(target, exist_ok=True)


def _mnt_ns(pid):
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


# ---- the capability-cache template (3.3) ------------------------------------------------


def _cache_key():
    """What libvirt checks a cache entry against, roughly: its own version
    and binary, and every QEMU binary. A stale key costs a re-probe, never
    wrong capabilities (libvirt validates each entry itself)."""
    parts = []
    for path in [LIBVIRTD] + sorted(glob.glob("/usr/bin/qemu-system-*")):
        try:
            st = os.stat(path)
        except OSError:
            continue
        parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}")
    r = subprocess.run([LIBVIRTD, "--version"], capture_output=True, text=True)
    parts.append(r.stdout.strip())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def cache_root():
    return os.environ.get("MCED_SYS_CACHE_DIR") or DEFAULT_CACHE_ROOT


def _template_path():
    return os.path.join(cache_root(), _cache_key(), "qemu")


def _install_template(src, template):
    """Copy a capability cache (timestamps kept) to template, atomically."""
    check(os.path.isdir(os.path.join(src, "capabilities")), f"no capability cache in {src}")
    os.makedirs(os.path.dirname(template), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=os.path.dirname(template))
    run(["cp", "-a", src + "/.", tmp + "/"], what="copy the capability cache")
    os.rename(tmp, template)


@contextlib.contextmanager
def _template_lock():
    root = cache_root()
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, ".lock"), "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        yield


def capability_template():
    """Return the directory holding a QEMU capability cache (the content of
    a libvirtd's /var/cache/libvirt/qemu) for this libvirt and these QEMU
    binaries, making it first if needed: one cold private libvirtd, a
    `domcapabilities` query for x86_64/pc, stop. Made once per machine and
    key (cache_root()/KEY/qemu; MCED_SYS_CACHE_DIR overrides the root);
    concurrent callers wait on a lock instead of probing twice."""
    template = _template_path()
    if os.path.isdir(template):
        return template
    with _template_lock():
        if os.path.isdir(template):
            return template
        t0 = time.monotonic()
        work = tempfile.mkdtemp(prefix="mced-sys-captemplate-")
        try:
            lv = PrivateLibvirtd(work, "probe", use_template=False)
            try:
                lv.start()
                lv.probe_x86()
            finally:
                lv.stop()
            _install_template(os.path.join(lv.cache_dir, "qemu"), template)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        log(f"capability template made in {time.monotonic() - t0:.1f}s: {template}")
    return template


def offer_template(lv):
    """After a cold instance lv (use_template=False, probe_x86() run) has
    stopped: make its cache the template if there is none yet, sparing a
    second cold probe. Returns the template directory or None."""
    template = _template_path()
    if os.path.isdir(template):
        return None
    with _template_lock():
        if os.path.isdir(template):
            return None
        _install_template(os.path.join(lv.cache_dir, "qemu"), template)
    log(f"capability template taken from libvirtd {lv.name}: {template}")
    return template


# ---- one instance ------------------------------------------------------------------------


class PrivateLibvirtd:
    """One private libvirtd. DIR = scratch_dir/name holds etc, run, lib,
    log, cache (bind-mounted over /etc/libvirt, /run/libvirt,
    /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt) and sock.

    Attributes: dir, uri, admin_uri, log_dir (DIR/log: libvirtd.log, and
    qemu/NAME.log per domain), run_dir (DIR/run: qemu/NAME.pid), host_uuid,
    pid (libvirtd's, None when not running)."""

    def __init__(self, scratch_dir, name, host_uuid=None, migration_ports=(49152, 49215),
                 use_template=True, extra_mounts=()):
        self.name = name
        # (source, target): more bind mounts in libvirtd's namespace, which
        # its hooks (and QEMU) see too, e.g. a private bus on /run/dbus
        self.extra_mounts = tuple(extra_mounts)
        self.dir = os.path.join(os.path.abspath(scratch_dir), name)
        for sub, _ in BIND_MOUNTS:
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "sock"), exist_ok=True)
        self.host_uuid = host_uuid or str(uuid.uuid4())
        self.migration_ports = migration_ports
        self.use_template = use_template
        self.sock = os.path.join(self.dir, "sock", "libvirt-sock")
        self.uri = f"qemu+unix:///system?socket={self.sock}"
        self.admin_uri = f"libvirtd:///system?socket={self.dir}/sock/libvirt-admin-sock"
        self.log_dir = os.path.join(self.dir, "log")
        self.run_dir = os.path.join(self.dir, "run")
        self.cache_dir = os.path.join(self.dir, "cache")
        self.libvirtd_log = os.path.join(self.log_dir, "libvirtd.log")
        self.stdout_log = os.path.join(self.log_dir, "libvirtd.stdout")
        self.proc = None  # subprocess.Popen of unshare -> sh -> libvirtd (exec)
        self.pid = None
        self.namespaces = set()  # mount namespaces of every libvirtd we started
        self.qemu_pids = set()  # QEMU PIDs seen in DIR/run/qemu/*.pid
        self.start_seconds = None
        self._write_config()

    # -- configuration (3.1) --

    def _write_config(self):
        d = self.dir
        lo, hi = self.migration_ports
        files = {
            "libvirtd.conf": f"""\
# private test libvirtd {self.name} (kvm-mced tests/system)
unix_sock_dir = "{d}/sock"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "{self.host_uuid}"
log_outputs = "3:file:{d}/log/libvirtd.log"
""",
            "qemu.conf": f"""\
# private test libvirtd {self.name}: QEMU as root, no labelling, no cgroups,
# no virtlogd, an own migration port range
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
migration_port_min = {lo}
migration_port_max = {hi}
""",
            # Client config of the daemon itself (p2p migration). It must
            # hold a comment: a file with only an empty line breaks every
            # client connection ("expecting a name").
            "libvirt.conf": "# client configuration of a private test libvirtd (defaults)\n",
        }
        for fname, text in files.items():
            with open(os.path.join(d, "etc", fname), "w") as f:
                f.write(text)

    # -- state --

    def alive(self):
        return self.pid is not None and pid_alive(self.pid)

    def _seed_cache(self):
        qdir = os.path.join(self.cache_dir, "qemu")
        if not self.use_template or os.path.isdir(os.path.join(qdir, "capabilities")):
            return
        template = capability_template()
        os.makedirs(qdir, exist_ok=True)
        run(["cp", "-a", template + "/.", qdir + "/"], what="copy the capability template")

    def start(self, timeout=None):
        """Start libvirtd and wait until it answers; Failure with the tails
        of its logs if it dies or does not answer in time."""
        check(not self.alive(), f"libvirtd {self.name} already running (pid {self.pid})")
        need_programs()
        ensure_libvirt_qemu_account()
        _mount_points()
        self._seed_cache()
        warm = os.path.isdir(os.path.join(self.cache_dir, "qemu", "capabilities"))
        if timeout is None:
            timeout = READY_TIMEOUT_WARM if warm else READY_TIMEOUT_COLD
        q = shlex.quote
        mounts = " && ".join(
            [f"mount --bind {q(os.path.join(self.dir, sub))} {q(target)}"
             for sub, target in BIND_MOUNTS]
            + [f"mkdir -p {q(target)} && mount --bind {q(src)} {q(target)}"
               for src, target in self.extra_mounts])
        script = (f"{mounts} && exec {q(LIBVIRTD)} --config {q(self.dir + '/etc/libvirtd.conf')}"
                  f" --pid-file {q(self.dir + '/run/libvirtd-main.pid')}")
        if os.path.exists(self.sock):
            os.unlink(self.sock)  # left by a killed instance: not a readiness sign
        t0 = time.monotonic()
        with open(self.stdout_log, "ab") as out:
            self.proc = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        # unshare and sh both exec: this PID is libvirtd's.
        self.pid = self.proc.pid
        with open(os.path.join(self.dir, "libvirtd.pid"), "w") as f:
            f.write(f"{self.pid}\n")
        d = Deadline(timeout)
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.pid = None
                fail(f"libvirtd {self.name} exited with {rc} while starting\n"
                     f"--- {self.stdout_log}:\n{tail(self.stdout_log)}"
                     f"--- {self.libvirtd_log}:\n{tail(self.libvirtd_log)}")
            if os.path.exists(self.sock):
                ns = _mnt_ns(self.pid)
                if ns and ns != _mnt_ns("self"):
                    self.namespaces.add(ns)
                # While the QEMU driver probes (cold start) the daemon
                # accepts the connection but answers only afterwards.
                try:
                    r = subprocess.run(["virsh", "-q", "-c", self.uri, "version"],
                                       stdin=subprocess.DEVNULL, capture_output=True,
                                       timeout=max(1.0, min(5.0, d.left())))
                    if r.returncode == 0:
                        break
                except subprocess.TimeoutExpired:
                    pass
            if d.expired():
                self._terminate_libvirtd()
                fail(f"libvirtd {self.name} not ready after {timeout:g}s\n"
                     f"--- {self.libvirtd_log}:\n{tail(self.libvirtd_log)}")
            time.sleep(0.1)
        comm = proc_comm(self.pid)
        check(comm == "libvirtd", f"PID {self.pid} is {comm!r}, not libvirtd")
        self.start_seconds = time.monotonic() - t0
        log(f"libvirtd {self.name} ready in {self.start_seconds:.2f}s "
            f"({'warm' if warm else 'cold'}), pid {self.pid}")
        return self

    def virsh(self, *args, timeout=30, check_rc=True):
        """virsh -q -c URI ARGS...; CompletedProcess (Failure on exit != 0
        unless check_rc=False)."""
        return run(["virsh", "-q", "-c", self.uri, *args], timeout=timeout, check_rc=check_rc,
                   what=f"virsh {' '.join(args)} ({self.name})")

    def probe_x86(self):
        """Make sure the cache holds the x86_64/pc domain capabilities."""
        return self.virsh("domcapabilities", "--virttype", "qemu", "--arch", "x86_64",
                          "--machine", "pc", timeout=60)

    def domains(self):
        """Names of the running domains."""
        r = self.virsh("list", "--name", timeout=10)
        return [n.strip() for n in r.stdout.splitlines() if n.strip()]

    def _record_qemu_pids(self):
        for pf in glob.glob(os.path.join(self.run_dir, "qemu", "*.pid")):
            try:
                with open(pf) as f:
                    self.qemu_pids.add(int(f.read().strip()))
            except (OSError, ValueError):
                pass

    def _terminate_libvirtd(self, sig=signal.SIGTERM, timeout=5.0):
        """End the recorded libvirtd (our child): sig, wait, SIGKILL, reap."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            comm = proc_comm(self.pid)
            check(comm in ("libvirtd", "unshare", "sh", None),
                  f"PID {self.pid} is {comm!r}, not libvirtd: not signalling it")
            try:
                self.proc.send_signal(sig)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log(f"libvirtd {self.name} ignored {signal.Signals(sig).name}: SIGKILL")
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        self.proc = None
        self.pid = None

    def kill(self):
        """SIGKILL libvirtd only (the "libvirtd dies" test); QEMU stays."""
        check(self.alive(), f"libvirtd {self.name} is not running")
        self._record_qemu_pids()
        self._terminate_libvirtd(signal.SIGKILL)

    def restart(self, timeout=None):
        """Stop libvirtd (SIGTERM, domains stay) if it runs, start it again."""
        self._record_qemu_pids()
        self._terminate_libvirtd()
        return self.start(timeout)

    def stop(self):
        """Destroy the domains, stop libvirtd, SIGKILL leftover QEMUs, then
        check that nothing of this instance is alive or mounted. Safe to
        call more than once, and after kill()."""
        self._record_qemu_pids()
        if self.alive():
            try:
                for name in self.domains():
                    self.virsh("destroy", name, timeout=10, check_rc=False)
            except Exception as e:
                log(f"libvirtd {self.name}: destroying domains: {e}")
        self._record_qemu_pids()
        self._terminate_libvirtd()
        # QEMU outlives libvirtd by design.
        for pid in sorted(self.qemu_pids):
            if signal_pid(pid, signal.SIGKILL, "qemu"):
                log(f"libvirtd {self.name}: killed leftover QEMU {pid}")
        for pid in sorted(self.qemu_pids):
            check(wait_gone(pid, 5.0), f"QEMU {pid} of libvirtd {self.name} still alive")
        self.check_no_leftovers()

    def _in_our_namespace(self, pid):
        """PID is in a mount namespace of ours: its namespace ID is one we
        recorded, and (IDs are reused once a namespace is gone) it sees
        DIR/etc bind-mounted on /etc/libvirt."""
        if _mnt_ns(pid) not in self.namespaces:
            return False
        want = os.path.join(self.dir, "etc")
        try:
            with open(f"/proc/{pid}/mountinfo") as f:
                for line in f:
                    fields = line.split()
                    root, mp = fields[3].replace("\\040", " "), fields[4]
                    if mp == "/etc/libvirt" and root != "/" and want.endswith(root):
                        return True
        except OSError:
            pass
        return False

    def leftovers(self):
        """[(pid, comm)] of live processes in a mount namespace of ours."""
        if not self.namespaces:
            return []
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and self._in_our_namespace(entry) and pid_alive(entry):
                found.append((int(entry), proc_comm(entry)))
        return found

    def check_no_leftovers(self):
        left = self.leftovers()
        check(not left, f"libvirtd {self.name}: processes left in its namespace: {left}")
        # Empty namespaces are gone; their IDs may be reused by others.
        if not self.alive():
            self.namespaces.clear()
        mounts = mounts_under(self.dir)
        check(not mounts, f"libvirtd {self.name}: mounts left: {mounts}")
        for _, target in BIND_MOUNTS:
            with open("/proc/self/mountinfo") as f:
                for line in f:
                    check(line.split()[4] != target,
                          f"{target} is mounted in the host namespace: {line.strip()}")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


@contextlib.contextmanager
def running(scratch_dir, name, **kw):
    lv = PrivateLibvirtd(scratch_dir, name, **kw)
    try:
        yield lv.start()
    finally:
        lv.stop()
