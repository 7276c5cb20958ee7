#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""System tests: private root libvirtd instances with real QEMU TCG guests.

    cases.py --list
        Print the case names, one per line; tests/system/meson.build
        registers one meson test per name (suite 'system').

    cases.py CASE
        Run one case. Exit 0 on success, 1 on failure, 77 (with a line
        "SKIP <reason>") when not root: a private libvirtd needs a mount
        namespace. A missing libvirtd or QEMU is a failure, not a skip:
        contrib/install-deps.sh installs them.

The library (libvirtd.py, guest.py, guestimg.py, common.py) follows
reference/test-harness.md 1-7; these first cases exercise the library
itself. Every wait is on an observable state with a deadline. Teardown
stops every libvirtd, kills leftover QEMUs by recorded PID and fails the
case if a process of ours or a mount is left. MCED_SYS_VERBOSE=1 echoes the
events; MCED_SYS_KEEP=1 keeps the scratch directories (they are kept
anyway when a case fails).
"""

import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import libvirtd as lvd  # noqa: E402
from common import (EXIT_SKIP, Failure, Scratch, Skip, check, log, pid_alive,  # noqa: E402
                    wait_gone)
from guest import LIFECYCLE, EventListener, Guest, migrate  # noqa: E402

CASES = []


def case(name):
    def deco(fn):
        CASES.append((name, fn))
        return fn
    return deco


# ---- helpers for cases: every object is torn down with the scratch directory -----------------


def start_libvirtd(sc, name, **kw):
    """A started PrivateLibvirtd in sc, stopped (and checked for leftovers)
    at teardown."""
    lv = lvd.PrivateLibvirtd(sc.path, name, **kw)
    sc.add_cleanup(lv.stop)
    return lv.start()


def start_listener(sc, uri, **kw):
    ev = EventListener(uri, **kw)
    sc.add_cleanup(ev.stop)
    return ev.start()


def cache_files(d):
    """{relative path: mtime_ns} of a capability cache directory."""
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            out[os.path.relpath(p, d)] = os.stat(p).st_mtime_ns
    return out


# ---- cases -------------------------------------------------------------------------------


@case("libvirtd-start-stop")
def t_start_stop(sc):
    # Cold: an empty capability cache, every QEMU binary probed.
    cold = lvd.PrivateLibvirtd(sc.path, "cold", use_template=False)
    sc.add_cleanup(cold.stop)
    cold.start()
    cold.probe_x86()
    pid = cold.pid
    cold.stop()
    check(not pid_alive(pid), f"libvirtd {pid} alive after stop()")
    lvd.offer_template(cold)

    # Warm: the template copied in, accepted as it is (no re-probe).
    template = lvd.capability_template()
    warm = start_libvirtd(sc, "warm")
    check(warm.start_seconds < 5.0,
          f"warm start took {warm.start_seconds:.2f}s: the template was not used")
    warm.probe_x86()
    got = cache_files(os.path.join(warm.cache_dir, "qemu"))
    want = cache_files(template)
    check(got == want, "the copied capability cache was rewritten (libvirt re-probed):\n"
                       f"  template {sorted(want.items())}\n  instance {sorted(got.items())}")
    check(warm.domains() == [], "a fresh instance has domains")
    pid = warm.pid
    warm.stop()
    check(not pid_alive(pid), f"libvirtd {pid} alive after stop()")
    log(f"cold start {cold.start_seconds:.2f}s, warm start {warm.start_seconds:.2f}s")


@case("guest-panic")
def t_guest_panic(sc):
    lv = start_libvirtd(sc, "lv")
    g = Guest(lv, "crashme", sc.path, mode="panic-after-delay")
    g.start(paused=True)
    check(g.domstate() == ("paused", "user"), f"after start --paused: {g.domstate()}")
    check(len(g.vcpu_thread_ids()) == 1, f"vCPU threads: {g.vcpu_thread_ids()}")
    ev = start_listener(sc, lv.uri)
    since = ev.sync(g)
    t0 = time.monotonic()
    g.resume()
    g.wait_boot(timeout=10)
    data = ev.wait_qmp(g.name, "GUEST_PANICKED", timeout=15, since=since)
    log(f"GUEST_PANICKED {data} {time.monotonic() - t0:.2f}s after resume")
    check(data == {"action": "pause"}, f"GUEST_PANICKED data {data}")
    ev.wait_lifecycle(g.name, "Crashed Panicked", timeout=5, since=since)
    g.wait_state("crashed", reason="panicked", timeout=5)
    # "Suspended Paused" may come before "Crashed Panicked" (harness doc 6).
    events = ev.lifecycle(g.name, since)
    allowed = (["Resumed Unpaused", "Crashed Panicked"],
               ["Resumed Unpaused", "Suspended Paused", "Crashed Panicked"],
               ["Resumed Unpaused", "Crashed Panicked", "Suspended Paused"])
    check(events in allowed, f"lifecycle events after resume: {events}")


@case("libvirtd-restart")
def t_libvirtd_restart(sc):
    lv = start_libvirtd(sc, "lv")
    g = Guest(lv, "survivor", sc.path, mode="idle").start()
    check(g.domstate()[0] == "running", f"domstate {g.domstate()}")
    qemu = g.qemu_pid()
    old = lv.pid
    lv.kill()
    check(not pid_alive(old), f"libvirtd {old} alive after SIGKILL")
    check(pid_alive(qemu), f"QEMU {qemu} died with libvirtd")
    lv.restart()
    check(lv.pid != old, "restart() did not start a new libvirtd")
    check(lv.domains() == [g.name], f"running domains after restart: {lv.domains()}")
    state = g.domstate()
    check(state[0] == "running", f"domstate after restart: {state}")
    check(g.qemu_pid() == qemu, f"QEMU pid changed: {qemu} -> {g.qemu_pid()}")
    # The reconnected daemon still controls it.
    g.suspend()
    g.wait_state("paused", timeout=5)
    g.resume()
    g.wait_state("running", timeout=5)


@case("migrate")
def t_migrate(sc):
    src = start_libvirtd(sc, "src", migration_ports=(49152, 49215))
    dst = start_libvirtd(sc, "dst", migration_ports=(49216, 49279))
    check(src.host_uuid != dst.host_uuid, "the two instances share a host_uuid")
    g = Guest(src, "mig1", sc.path, mode="idle", memory_mib=64).start()
    ev = start_listener(sc, src.uri, kinds=(LIFECYCLE,))
    since = ev.sync(g)
    secs = migrate(g, dst, p2p=True)
    log(f"p2p live migration src -> dst took {secs:.2f}s")
    ev.wait_lifecycle(g.name, "Stopped Migrated", timeout=10, since=since)
    check(g.domstate()[0] == "running", f"on the destination: {g.domstate()}")
    check(src.domains() == [], f"still on the source: {src.domains()}")
    check(src.virsh("dominfo", g.name, check_rc=False).returncode != 0,
          "--undefinesource left the domain defined on the source")
    qemu = g.qemu_pid()
    check(len(g.vcpu_thread_ids()) == 1, f"vCPU threads on the destination: {g.vcpu_thread_ids()}")
    # and back, driven by the other daemon
    secs = migrate(g, src, p2p=True)
    log(f"p2p live migration dst -> src took {secs:.2f}s")
    check(g.domstate()[0] == "running", f"back on the source: {g.domstate()}")
    check(dst.domains() == [], f"still on the destination: {dst.domains()}")
    check(wait_gone(qemu, 5.0), f"destination QEMU {qemu} alive after migrating back")


# ---- runner ------------------------------------------------------------------------------


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for name, _ in CASES:
            print(name)
        return 0
    if len(argv) != 2:
        print("usage: cases.py --list | CASE", file=sys.stderr)
        return 2
    name = argv[1]
    found = [fn for n, fn in CASES if n == name]
    if not found:
        print(f"unknown case {name}", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("SKIP needs root for a private libvirtd in a mount namespace", flush=True)
        return EXIT_SKIP
    sc = None
    failed = False
    t0 = time.monotonic()
    try:
        lvd.need_programs()
        sc = Scratch(name)
        found[0](sc)
    except Skip as e:
        print(f"SKIP {e}", flush=True)
        return EXIT_SKIP
    except Exception as e:
        failed = True
        if isinstance(e, Failure):
            print(f"FAIL {name}: {e}", flush=True)
        else:
            traceback.print_exc()
            print(f"FAIL {name}: {e!r}", flush=True)
    finally:
        if sc is not None:
            sc.failed = failed
            errors = sc.close()
            if errors:
                print(f"FAIL {name}: teardown: {'; '.join(errors)}", flush=True)
                failed = True
    if failed:
        return 1
    print(f"PASS {name} ({time.monotonic() - t0:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
