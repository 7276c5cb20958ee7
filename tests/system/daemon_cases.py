#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""System cases for the kvm-mced daemon itself, against a private libvirtd
running real QEMU TCG guests (libvirtd.py, guest.py), with kernel lines
written into a live journal (tests/integration/harness.py).

    daemon_cases.py --list
    daemon_cases.py --kvm-mced PATH CASE

The one thing faked is the host's machine-check line: this hardware cannot
produce one, so the journal gets a byte-exact kernel record naming the real
vCPU thread of the real guest. Everything else (the guest's panic through
pvpanic, GUEST_PANICKED and the lifecycle events, libvirt's metadata, the
QEMU log, libvirtd dying) is the real thing.
"""

import os
import re
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness as h  # noqa: E402
import libvirtd as lvd  # noqa: E402
from guest import Guest  # noqa: E402

HEALTH_NS = "https://kvm-mced.org/xmlns/health/1"
CASES = []


def case(name):
    def deco(fn):
        CASES.append((name, fn))
        return fn
    return deco


class World:
    """A private libvirtd, a live journal and the daemon following both."""

    def __init__(self, sc, kvm_mced, window="8s", policy="", lv=None, bus_address=None):
        self.sc = sc
        if lv is None:
            lv = lvd.PrivateLibvirtd(sc.path, "lv")
            sc.add_cleanup(lv.stop)
            lv.start()
        self.lv = lv
        self.jdir = sc.mkdir("journal")
        self.sdir = sc.mkdir("state")
        self.config = h.write_config(sc.join("kvm-mced.conf"), window=window,
                                     extra="[libvirt]\nenabled = yes\n" + policy)
        self.live = h.LiveJournal(sc, self.jdir, h.ExportClock(live=True))
        self.qemu_logs = os.path.join(self.lv.log_dir, "qemu")
        os.makedirs(self.qemu_logs, exist_ok=True)
        self.d = h.Daemon(sc, kvm_mced, self.jdir, self.sdir, self.config, "/proc",
                          extra_args=["--libvirt-uri", self.lv.uri,
                                      "--qemu-log-directory", self.qemu_logs]
                          + (["--bus-address", bus_address] if bus_address else []))
        self.d.wait_started()
        self.d.wait_line(lambda s: "Connected to libvirt" in s, 20, "the libvirt connection")

    def metadata(self, name):
        r = self.lv.virsh("metadata", name, HEALTH_NS, check_rc=False)
        return r.stdout if r.returncode == 0 else ""


def iso_now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1e6) % 1000000:06d}Z"


@case("daemon-fatal-mce")
def t_fatal_mce(sc, kvm_mced):
    """A host MCE naming the guest's vCPU thread opens a guest incident;
    the guest's real panic (pvpanic -> GUEST_PANICKED) joins it and makes
    it fatal; the health lands in libvirt metadata; a Guest MCE Memory
    Error line in the guest's QEMU log joins with the guest address."""
    w = World(sc, kvm_mced)
    g = Guest(w.lv, "mcevm", sc.path, mode="panic-after-delay")
    g.start(paused=True)
    tids = g.vcpu_thread_ids()
    h.check(len(tids) == 1, f"vCPU threads of the guest: {tids}")
    mark = w.d.mark()

    # The host kernel's record of an uncorrected error in guest context,
    # on the guest's vCPU thread (what a POWER host prints).
    w.live.kernel(h.ppc64_guest_ue(8, tids[0], 0))
    inc = w.d.wait_incident(10, "the incident to open", mark, event="opened", name="mcevm")
    h.check(inc.klass == "guest", f"first class {inc.klass}, expected guest")

    # The guest panics for real about 2 s after it runs.
    g.resume()
    fatal = w.d.wait_incident(20, "the panic to make the incident fatal", inc.index,
                              event="updated", name="mcevm", klass="fatal")
    h.check(fatal.id == inc.id, f"the panic opened {fatal.id}, not joined {inc.id}")

    deadline = h.Deadline(10)
    while 'state="fatal"' not in w.metadata("mcevm"):
        if deadline.expired():
            h.fail(f"metadata never said fatal: {w.metadata('mcevm')!r}")
        time.sleep(0.1)
    md = w.metadata("mcevm")
    h.check(f'id="{inc.id}"' in md, f"metadata does not name the incident: {md!r}")

    # QEMU's own line (x86 SIGBUS handling) in the guest's log: the only
    # place the guest physical address appears.
    with open(g.qemu_log(), "a") as f:
        f.write(f"{iso_now()} qemu-system-x86_64: Guest MCE Memory Error at QEMU addr "
                f"0x7f89573ce000 and GUEST addr 0x10b5ce000 of type BUS_MCEERR_AR injected\n")
    w.d.wait_incident(10, "the QEMU log line to join", fatal.index, event="updated",
                      name="mcevm")
    closed = w.d.wait_incident(30, "the incident to close", fatal.index, event="closed",
                               name="mcevm")
    h.check(closed.id == inc.id and closed.klass == "fatal", f"closed {closed!r}")
    w.d.stop()

    objs = h.history_objects(w.sdir)
    h.check(len(objs) == 1, f"history has {len(objs)} incidents, expected 1")
    o = objs[0]
    h.check(o["class"] == "fatal" and o["domain"] == "mcevm", f"history: {o['class']} {o['domain']}")
    h.check("0x10b5ce000" in o["addresses"], f"guest address missing: {o['addresses']}")
    kinds = set(o["kinds"])
    h.check({"ppc64-mce", "qmp", "qemu-memory-error"} <= kinds, f"kinds {sorted(kinds)}")


@case("daemon-libvirtd-restart")
def t_libvirtd_restart(sc, kvm_mced):
    """libvirtd killed and restarted while the daemon runs: it notices,
    reconnects, resynchronises, and the next panic is still caught (a
    panic with no machine check around it: a plain guest crash)."""
    w = World(sc, kvm_mced, window="2s")
    mark = w.d.mark()
    w.lv.kill()
    w.d.wait_line(lambda s: "libvirt is away" in s, 20, "the daemon to notice", mark)
    w.lv.restart()
    w.d.wait_line(lambda s: "Connected to libvirt" in s, 40, "the reconnection", mark)

    g = Guest(w.lv, "crashme", sc.path, mode="panic-after-delay")
    g.start(paused=True)
    mark = w.d.mark()
    g.resume()
    _, line = w.d.wait_line(lambda s: "panicked" in s and "'crashme'" in s, 30,
                            "the plain guest panic", mark)
    h.check("no machine check" in line, f"unexpected panic line: {line}")
    w.d.check_alive("after libvirtd restarted")
    w.d.stop()
    h.check(not [ln for ln in w.d.lines if "incident" in ln and "crashme" in ln],
            "a panic without a machine check opened an incident")


def action_line(w, action, result, since, timeout=60):
    _, line = w.d.wait_line(
        lambda s: s.startswith(f"kvm-mced: Action {action} ") and f" {result}" in s, timeout,
        f"action {action} {result}", since)
    return line


def mce_then_panic(sc, w, name):
    """A guest that panics 2 s after it runs, a host MCE on its vCPU thread
    first: one incident that turns fatal when the guest panics."""
    g = Guest(w.lv, name, sc.path, mode="panic-after-delay")
    g.start(paused=True)
    mark = w.d.mark()
    w.live.kernel(h.ppc64_guest_ue(8, g.vcpu_thread_ids()[0], 0))
    inc = w.d.wait_incident(10, "the incident to open", mark, event="opened", name=name)
    qemu = g.qemu_pid()
    g.resume()
    w.d.wait_incident(20, "the panic to make it fatal", inc.index, event="updated", name=name,
                      klass="fatal")
    return g, inc, qemu


@case("daemon-restart-fatal")
def t_restart_fatal(sc, kvm_mced):
    """fatal -> restart: the panicked guest is destroyed and started again."""
    w = World(sc, kvm_mced, policy="[policy.fatal]\nladder = restart\n")
    g, inc, qemu = mce_then_panic(sc, w, "fatalvm")
    action_line(w, "restart", "started", inc.index)
    line = action_line(w, "restart", "succeeded", inc.index)
    h.check("destroyed and started again" in line, f"restart result: {line}")
    g.wait_boot(timeout=10)
    h.check(g.qemu_pid() != qemu, "the guest runs in the same QEMU process after a restart")
    # the outcome is in the domain's health metadata too
    deadline = h.Deadline(10)
    while 'name="restart" result="succeeded"' not in w.metadata("fatalvm"):
        if deadline.expired():
            h.fail(f"no last-action in the metadata: {w.metadata('fatalvm')!r}")
        time.sleep(0.1)
    md = w.metadata("fatalvm")
    h.check(f'incident="{inc.id}"' in md and 'state="fatal"' in md, f"metadata: {md!r}")


@case("daemon-dry-run")
def t_dry_run(sc, kvm_mced):
    """The same under dry-run: the decision is logged, nothing changes."""
    w = World(sc, kvm_mced, policy="[policy]\ndry-run = yes\n[policy.fatal]\nladder = restart\n")
    g, inc, qemu = mce_then_panic(sc, w, "dryvm")
    line = action_line(w, "restart", "dry run: would", inc.index)
    g.wait_state("crashed", reason="panicked", timeout=10)
    h.check(g.qemu_pid() == qemu, "dry-run changed the guest's QEMU process")
    w.d.stop()
    h.check(not [ln for ln in w.d.lines if "Action restart" in ln and " started" in ln],
            f"an action started under dry-run: {line}")


@case("daemon-override")
def t_override(sc, kvm_mced):
    """The host policy does nothing to fatal incidents; the domain's own
    metadata says restart, and that is what happens."""
    w = World(sc, kvm_mced, policy="[policy.fatal]\nladder = log\n")
    g = Guest(w.lv, "ownvm", sc.path, mode="panic-after-delay")
    g.define()
    w.lv.virsh("metadata", "ownvm", "https://kvm-mced.org/xmlns/policy/1", "--key",
               "mcedpolicy", "--set", '<policy fatal="restart"/>', "--config")
    g, inc, qemu = mce_then_panic(sc, w, "ownvm")
    action_line(w, "restart", "succeeded", inc.index)
    g.wait_boot(timeout=10)
    h.check(g.qemu_pid() != qemu, "the override's restart did not happen")


def bios_ticks(lv, name):
    """The guest's BIOS tick counter (dword at physical 0x46C), read over HMP."""
    out = lv.virsh("qemu-monitor-command", name, "--hmp", "xp /1wx 0x46c").stdout
    m = re.search(r"^[0-9a-fx]+:\s+0x([0-9a-f]+)", out.strip())
    if m is None:
        h.fail(f"cannot read the tick counter: {out!r}")
    return int(m.group(1), 16)


def cmos_write(lv, name, index, value):
    lv.virsh("qemu-monitor-command", name, "--hmp", f"o /b 0x70 {index:#x}")
    lv.virsh("qemu-monitor-command", name, "--hmp", f"o /b 0x71 {value:#x}")


def cmos_read(lv, name, index):
    lv.virsh("qemu-monitor-command", name, "--hmp", f"o /b 0x70 {index:#x}")
    out = lv.virsh("qemu-monitor-command", name, "--hmp", "i /b 0x71").stdout
    m = re.search(r"=\s*0x([0-9a-f]+)", out)
    if m is None:
        h.fail(f"cannot read CMOS: {out!r}")
    return int(m.group(1), 16)


def history_actions(w, incident_id, n):
    """The (action, result) pairs the history holds for an incident, once
    it has been written with at least @n of them (after an action ends)."""
    def get():
        for o in h.history_objects(w.sdir):
            if o["id"] == incident_id and len(o.get("actions", [])) >= n:
                return [(a["action"], a["result"]) for a in o["actions"]]
        return None
    h.poll_until(lambda: get() is not None, 30, f"incident {incident_id} in the history")
    return get()


def migrate_world(sc, kvm_mced, peers, extra="", timeout="60s"):
    src = lvd.PrivateLibvirtd(sc.path, "src", migration_ports=(49152, 49215))
    sc.add_cleanup(src.stop)
    src.start()
    policy = (f"[policy]\nmigrate-peers = {peers}\nmigrate-uri = tcp://127.0.0.1\n"
              f"migrate-listen-address = 127.0.0.1\nmigrate-timeout = {timeout}\n"
              "[policy.guest]\nladder = migrate\nfallback = restart\n" + extra)
    # a short window: the incident closes while the action still runs
    return World(sc, kvm_mced, window="1s", policy=policy, lv=src)


@case("daemon-migrate")
def t_migrate(sc, kvm_mced):
    """guest -> migrate: live p2p to the peer; it keeps running there and is
    gone here."""
    dst = lvd.PrivateLibvirtd(sc.path, "dst", migration_ports=(49216, 49279))
    sc.add_cleanup(dst.stop)
    dst.start()
    w = migrate_world(sc, kvm_mced, dst.uri)
    g = Guest(w.lv, "movevm", sc.path, mode="idle", memory_mib=64).start()
    # State that must survive: a byte written into the guest's CMOS RAM (a
    # fresh boot would find it zeroed), and the BIOS tick counter the guest
    # keeps advancing (0000:046C, 18.2/s), which must carry on from there.
    marker = 0xA7
    cmos_write(w.lv, "movevm", 0x5B, marker)
    h.check(cmos_read(w.lv, "movevm", 0x5B) == marker, "cannot read back the CMOS marker")
    mark = w.d.mark()
    w.live.kernel(h.ppc64_guest_ue(8, g.vcpu_thread_ids()[0], 0))
    before = bios_ticks(w.lv, "movevm")
    line = action_line(w, "migrate", "succeeded", mark, timeout=90)
    h.check(dst.uri in line, f"migrated where? {line}")
    h.check(dst.domains() == ["movevm"], f"running on the destination: {dst.domains()}")
    after = bios_ticks(dst, "movevm")
    h.poll_until(lambda: bios_ticks(dst, "movevm") > after, 10,
                 "the guest's clock to keep ticking on the destination")
    h.check(after >= before, f"the guest's tick counter went from {before} to {after}: "
                             "its memory did not survive the migration")
    h.check(cmos_read(dst, "movevm", 0x5B) == marker,
            "the guest's CMOS marker did not survive the migration")
    w.d.drain()
    h.check([ln for ln in w.d.lines[mark:] if "Migration of domain 'movevm': pass" in ln],
            "no migration progress was logged")
    h.check("movevm" not in w.lv.virsh("list", "--all", "--name").stdout,
            "still defined on the source after the migration")
    inc_id = re.search(r"\(incident (i-[0-9a-f]+)\)", line).group(1)
    done = history_actions(w, inc_id, 2)
    h.check(done == [("migrate", "started"), ("migrate", "succeeded")], f"history: {done}")


@case("daemon-migrate-fallback")
def t_migrate_fallback(sc, kvm_mced):
    """The peer is unreachable: the migration fails, the guest stays, and the
    fallback (restart) runs."""
    w = migrate_world(sc, kvm_mced, "qemu+unix:///system?socket=/nonexistent/libvirt-sock")
    g = Guest(w.lv, "stayvm", sc.path, mode="idle").start()
    qemu = g.qemu_pid()
    mark = w.d.mark()
    w.live.kernel(h.ppc64_guest_ue(8, g.vcpu_thread_ids()[0], 0))
    action_line(w, "migrate", "failed", mark, timeout=90)
    line = action_line(w, "restart", "succeeded", mark, timeout=60)
    g.wait_boot(timeout=10)
    h.check(g.domstate()[0] == "running", f"after the fallback: {g.domstate()}")
    h.check(g.qemu_pid() != qemu, "the fallback restart did not restart the guest")
    inc_id = re.search(r"\(incident (i-[0-9a-f]+)\)", line).group(1)
    done = history_actions(w, inc_id, 4)
    h.check(done == [("migrate", "started"), ("migrate", "failed"), ("restart", "started"),
                     ("restart", "succeeded")], f"history: {done}")


@case("daemon-reconcile")
def t_reconcile(sc, kvm_mced):
    """A migration in flight when kvm-mced is killed completes while it is
    down; after the restart it is recorded as done."""
    dst = lvd.PrivateLibvirtd(sc.path, "dst", migration_ports=(49216, 49279))
    sc.add_cleanup(dst.stop)
    dst.start()
    w = migrate_world(sc, kvm_mced, dst.uri, timeout="10m")
    g = Guest(w.lv, "slowvm", sc.path, mode="idle", memory_mib=64).start()
    # 1 MiB/s: the migration is certainly still running when we kill.
    w.lv.virsh("migrate-setspeed", "slowvm", "1")
    mark = w.d.mark()
    w.live.kernel(h.ppc64_guest_ue(8, g.vcpu_thread_ids()[0], 0))
    action_line(w, "migrate", "started", mark)
    state = os.path.join(w.sdir, "state.json")
    h.poll_until(lambda: os.path.exists(state) and '"action":"migrate"' in open(state).read(),
                 10, "the migration to be recorded in the state")
    w.d.proc.kill()
    w.d.proc.wait()
    # Let it finish while kvm-mced is down.
    w.lv.virsh("migrate-setspeed", "slowvm", "8192")
    h.poll_until(lambda: dst.domains() == ["slowvm"]
                 and "slowvm" not in w.lv.virsh("list", "--all", "--name").stdout,
                 60, "the migration to complete on both sides")

    d = h.Daemon(sc, kvm_mced, w.jdir, w.sdir, w.config, "/proc",
                 extra_args=["--libvirt-uri", w.lv.uri, "--qemu-log-directory", w.qemu_logs],
                 tag="restarted")
    d.wait_started()
    _, line = d.wait_line(lambda s: s.startswith("kvm-mced: Action migrate ") and "reconciled" in s,
                          20, "the reconciliation")
    h.check(" succeeded" in line and "left this host" in line, f"reconciled as: {line}")
    d.stop()
    h.check('"action":"migrate"' not in open(state).read(),
            "the reconciled action is still recorded as in flight")


PSERIES_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='ppc64' machine='pseries'>hvm</type></os>
  <on_crash>preserve</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-ppc64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    <serial type='file'><source path='{serial}' append='on'/><target port='0'/></serial>
  </devices>
</domain>
"""


@case("daemon-migrate-pseries")
def t_migrate_pseries(sc, kvm_mced):
    """The migrate case again with a ppc64 pseries TCG guest (the platform
    of the FWNMI kernel change): it reaches its firmware prompt, a host MCE
    on its vCPU thread opens a guest incident, and 'guest: migrate' moves it
    live to the peer, where it keeps running."""
    dst = lvd.PrivateLibvirtd(sc.path, "dst", migration_ports=(49216, 49279))
    sc.add_cleanup(dst.stop)
    dst.start()
    w = migrate_world(sc, kvm_mced, dst.uri, timeout="120s")
    xml = sc.join("ppcvm.xml")
    serial = sc.join("ppcvm.serial")
    with open(xml, "w") as f:
        f.write(PSERIES_XML.format(name="ppcvm", serial=serial))
    w.lv.virsh("define", xml, timeout=120)
    w.lv.virsh("start", "ppcvm", timeout=120)
    # SLOF prints its banner on the serial console once the guest runs.
    h.poll_until(lambda: os.path.exists(serial) and "SLOF" in open(serial, errors="replace").read(),
                 60, "the pseries firmware banner")
    pid = int(open(os.path.join(w.lv.run_dir, "qemu", "ppcvm.pid")).read().strip())
    tids = [t for t in os.listdir(f"/proc/{pid}/task")
            if open(f"/proc/{pid}/task/{t}/comm").read().strip().startswith("CPU 0/")]
    h.check(len(tids) == 1, f"vCPU thread of the pseries guest: {tids}")
    mark = w.d.mark()
    w.live.kernel(h.ppc64_guest_ue(8, int(tids[0]), 0))
    inc = w.d.wait_incident(10, "the incident to open", mark, event="opened", name="ppcvm")
    h.check(inc.klass == "guest", f"class {inc.klass}")
    line = action_line(w, "migrate", "succeeded", mark, timeout=150)
    h.check(dst.uri in line, f"migrated where? {line}")
    h.check(dst.domains() == ["ppcvm"], f"running on the destination: {dst.domains()}")


@case("daemon-libvirt-hook")
def t_libvirt_hook(sc, kvm_mced):
    """libvirt's real hook (conf/libvirt-hook-qemu.in in the private
    libvirtd's qemu.d) reaches the daemon on a private system bus mounted
    on /run/dbus in libvirtd's namespace: kvm-mced's own restart is not
    reported as someone else's; an operator's destroy and start are, on
    the domain's open incident, and on D-Bus."""
    import json
    import shutil
    import subprocess
    for prog in ("dbus-daemon", "busctl"):
        if shutil.which(prog) is None:
            raise h.Skip(f"{prog} is not installed (apt-get install dbus systemd)")
    address, bdir = h.system_bus(sc, socket="system_bus_socket")
    lv = lvd.PrivateLibvirtd(sc.path, "lv", extra_mounts=[(bdir, "/run/dbus")])
    hooks = os.path.join(lv.dir, "etc", "hooks", "qemu.d")
    os.makedirs(hooks)
    with open(os.path.join(HERE, "..", "..", "conf", "libvirt-hook-qemu.in")) as f:
        script = (f.read().replace("@BINDIR@", os.path.dirname(kvm_mced))
                  .replace("@LIBVIRTHOOKDIR@", "/etc/libvirt/hooks/qemu.d"))
    with open(os.path.join(hooks, "kvm-mced"), "w") as f:
        f.write(script)
    os.chmod(os.path.join(hooks, "kvm-mced"), 0o755)
    sc.add_cleanup(lv.stop)
    lv.start()  # hooks are read at start
    w = World(sc, kvm_mced, window="120s", policy="[policy.guest]\nladder = restart\n", lv=lv,
              bus_address=address)
    g = Guest(w.lv, "hookvm", sc.path, mode="idle").start()
    mark = w.d.mark()
    w.live.kernel(h.ppc64_guest_ue(8, g.vcpu_thread_ids()[0], 0))
    inc = w.d.wait_incident(10, "the incident to open", mark, event="opened", name="hookvm")
    action_line(w, "restart", "succeeded", mark)
    g.wait_state("running")
    own = w.d.mark()
    w.d.drain()
    h.check(not [ln for ln in w.d.lines[mark:] if "outside kvm-mced" in ln],
            "kvm-mced's own restart was reported as someone else's")

    g.destroy()
    w.d.wait_line(lambda s: "Domain 'hookvm' was stopped outside kvm-mced" in s
                  and inc.id in s, 20, "the operator's destroy on record", own)
    g.start()
    w.d.wait_line(lambda s: "Domain 'hookvm' was started outside kvm-mced" in s
                  and inc.id in s, 20, "the operator's start on record", own)
    r = subprocess.run(["busctl", f"--address={address}", "--json=short", "call",
                        "org.kvm_mced.Manager1", "/org/kvm_mced/Manager1",
                        "org.kvm_mced.Manager1", "GetIncident", "s", inc.id],
                       capture_output=True, text=True, timeout=20)
    h.check(r.returncode == 0, f"GetIncident: {r.stderr}")
    actions = [(a["action"], a["result"])
               for a in json.loads(json.loads(r.stdout)["data"][0])["actions"]]
    h.check(actions == [("restart", "started"), ("restart", "succeeded"),
                        ("stopped", "external"), ("started", "external")],
            f"the incident's actions: {actions}")
    w.d.check_alive("after the hooks")


def main(argv):
    if len(argv) >= 2 and argv[1] == "--list":
        for name, _ in CASES:
            print(name)
        return 0
    if len(argv) != 4 or argv[1] != "--kvm-mced":
        print("usage: daemon_cases.py --list | --kvm-mced PATH CASE", file=sys.stderr)
        return 2
    kvm_mced, wanted = argv[2], argv[3]
    if os.geteuid() != 0:
        print("SKIP needs root for a private libvirtd in a mount namespace")
        return 77
    for name, fn in CASES:
        if name != wanted:
            continue
        sc = h.Scratch(name)
        try:
            fn(sc, os.path.abspath(kvm_mced))
            print(f"PASS {name}")
            return 0
        except Exception as e:  # report and keep the scratch directory
            sc.failed = True
            traceback.print_exc()
            print(f"FAIL {name}: {e!r}")
            return 1
        finally:
            sc.close()
    print(f"unknown case {wanted}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
