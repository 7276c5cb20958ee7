# SPDX-License-Identifier: GPL-2.0-or-later
"""Small shared pieces of the system-test library (Python stdlib only):
failures and skips, deadlines, zombie-aware process checks, a scratch
directory, and running a command with a timeout.

Ground rules (reference/test-harness.md 1): processes are ended only by a
recorded PID after /proc/PID/comm was checked; a zombie counts as gone;
every wait is on an observable state with a deadline.
"""

import os
import signal
import subprocess
import sys
import time

# Failures, skips, deadlines and polling are the integration harness's, so
# that one exception type means "the case failed" across both suites.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
import harness as h  # noqa: E402
from harness import (EXIT_SKIP, Deadline, Failure, Skip, check, fail, log,  # noqa: E402,F401
                     poll_until)


def proc_state(pid):
    """Field 3 of /proc/PID/stat ('R', 'S', 'Z', ...), None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b")") + 2:]
    return rest[:1].decode() or None


def pid_alive(pid):
    """True if PID exists and is not a zombie (a PID 1 that is not systemd
    may reap orphans only seconds later)."""
    s = proc_state(pid)
    return s is not None and s != "Z"


def proc_comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().rstrip("\n")
    except OSError:
        return None


def signal_pid(pid, sig, comm_contains):
    """Send sig to pid only if it is alive and its comm contains
    comm_contains (guards against a recycled PID). True if sent."""
    if not pid_alive(pid):
        return False
    comm = proc_comm(pid)
    if comm is None or comm_contains not in comm:
        return False
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid, timeout):
    """Zombie-aware wait for a PID that may not be our child. True if it
    is gone (or a zombie) within timeout."""
    d = Deadline(timeout)
    while pid_alive(pid):
        if d.expired():
            return False
        time.sleep(min(0.02, d.left()))
    return True


def end_child(p, timeout=5.0):
    """SIGTERM, then SIGKILL, a subprocess.Popen we started, and reap it
    (as its parent we hold the PID until we reap it, so it is never
    recycled under us)."""
    if p.poll() is not None:
        return p.returncode
    try:
        p.send_signal(signal.SIGTERM)
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait(timeout=timeout)


def run(argv, timeout=30, check_rc=True, what=None, **kw):
    """Run a command with a timeout (the child is killed when it passes);
    return the CompletedProcess (text mode, stdout and stderr captured)."""
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        fail(f"{what or ' '.join(argv)}: no answer within {timeout:g}s")
    if check_rc and r.returncode != 0:
        fail(f"{what or ' '.join(argv)}: exit {r.returncode}: "
             f"{(r.stderr or r.stdout).strip()}")
    return r


def tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return f"({path}: {e.strerror})\n"


def mounts_under(path):
    """Mount points at or below path in this process's mount namespace."""
    path = os.path.realpath(path).rstrip("/")
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == path or mp.startswith(path + "/"):
                found.append(mp)
    return found


class Scratch(h.Scratch):
    """harness.Scratch under /tmp/mced-sys-* (MCED_SYS_TMPDIR, MCED_SYS_KEEP),
    readable by the unprivileged users the cases run things as, and a
    teardown problem when a mount is left under it."""

    PREFIX = "mced-sys"
    ENV = "MCED_SYS"

    def __init__(self, name):
        super().__init__(name)
        os.chmod(self.path, 0o755)

    def leftovers(self):
        left = mounts_under(self.path)
        return [f"mounts left under {self.path}: {left}"] if left else []
