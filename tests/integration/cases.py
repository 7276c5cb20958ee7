#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Integration tests: the real kvm-mced daemon against real journal files.

    cases.py --list
        Print the case names, one per line; tests/integration/meson.build
        registers one meson test per name (suite 'integration').

    cases.py --kvm-mced PATH CASE
        Run one case. Exit 0 on success, 1 on failure, 77 (with a line
        "SKIP <reason>") when a program the case needs is missing or it
        needs root and is not.

Kernel lines are written as journald stores them (Journal Export Format
through systemd-journal-remote, reference/test-harness.md 9), QEMU
processes are a fixture tree passed as --procfs-root, and every wait is on
the daemon's stderr lines (or a file, where nothing else tells) with a
deadline. MCED_IT_VERBOSE=1 echoes the daemon's stderr; MCED_IT_KEEP=1
keeps the scratch directories (they are kept anyway when a case fails).
"""

import glob
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CATALOG = os.path.join(SOURCE_ROOT, "systemd", "kvm-mced.catalog")

MSGID_OPENED = "016a85af17a346cea22ba9af41214837"
MSGID_CLOSED = "974e3e0ee5bd4abea88b545d771437e7"

UUID_WEB1 = "4b3f6c1e-8a2d-4c5e-9f10-2a3b4c5d6e7f"
UUID_DB1 = "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a"

CASES = []


def case(name, needs_mount_ns=False):
    def deco(fn):
        CASES.append((name, fn, needs_mount_ns))
        return fn
    return deco


class Env:
    """What most cases share: a scratch dir, a journal dir, a state dir,
    a config file and a /proc fixture with two VMs (web1, db1)."""

    def __init__(self, sc, kvm_mced, window="2s", record_timeout="200ms"):
        self.sc = sc
        self.kvm_mced = kvm_mced
        self.jdir = sc.mkdir("journal")
        self.sdir = sc.mkdir("state")
        self.config = h.write_config(sc.join("kvm-mced.conf"), window, record_timeout)
        self.proc = h.ProcFixture(sc.join("proc"))
        self.proc.add_other(1, ["/sbin/init"], "systemd")
        # web1: vCPU threads 4002..4009 are "CPU 0/KVM" .. "CPU 7/KVM"
        self.proc.add_qemu(4000, "web1", UUID_WEB1, {4002 + k: k for k in range(8)})
        self.proc.add_qemu(5000, "db1", UUID_DB1, {5002 + k: k for k in range(4)})

    def daemon(self, **kw):
        kw.setdefault("journal_dir", self.jdir)
        kw.setdefault("state_dir", self.sdir)
        kw.setdefault("config", self.config)
        kw.setdefault("procfs", self.proc.root)
        return h.Daemon(self.sc, self.kvm_mced, **kw)

    def live(self):
        return h.LiveJournal(self.sc, self.jdir, h.ExportClock(live=True))

    def test_driver(self, count, uuid_prefix):
        """count domains vm0.. in a node file for libvirt's test:/// driver
        (UUIDs <uuid_prefix>-0000-4000-8000-0000000000NN), each with an
        empty QEMU log; returns (names, node file, log directory)."""
        names = [f"vm{i}" for i in range(count)]
        node = self.sc.join("node.xml")
        with open(node, "w") as f:
            f.write("<node>\n")
            for i, n in enumerate(names):
                f.write(f"<domain type='test'><name>{n}</name>"
                        f"<uuid>{uuid_prefix}-0000-4000-8000-0000000000{i:02d}</uuid>"
                        "<memory>8192</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>\n")
            f.write("</node>\n")
        logs = self.sc.mkdir("qemu-logs")
        for n in names:
            open(os.path.join(logs, f"{n}.log"), "w").close()
        return names, node, logs


def by_name(objs):
    return {h.incident_domain_name(o): o for o in objs}


# ---- 1. follow --------------------------------------------------------------


@case("follow")
def case_follow(sc, kvm_mced):
    env = Env(sc, kvm_mced)
    live = env.live()
    d = env.daemon()
    d.wait_started()

    # web1, vCPU 3 (thread 4005): a guest UE, not recovered.
    mark = d.mark()
    t0 = time.monotonic()
    live.kernel(h.ppc64_guest_ue(12, 4005, 3))
    inc = d.wait_incident(5, "web1's incident to open", mark, event="opened")
    latency = time.monotonic() - t0
    h.check(inc.name == "web1", f"first incident is {inc!r}, expected domain 'web1'")
    h.check(inc.klass == "guest", f"web1's incident has class {inc.klass}, expected guest")
    h.check(latency <= 1.0, f"web1's incident opened {latency:.3f}s after the write (limit 1s)")
    h.log(f"web1 opened {latency * 1000:.0f} ms after the write")
    web1 = inc

    # db1, vCPU 2 (thread 5004): recovered SLB multihit.
    mark = d.mark()
    t0 = time.monotonic()
    live.kernel(h.ppc64_guest_slb_recovered(40, 5004, 2))
    inc = d.wait_incident(5, "db1's incident to open", mark, event="opened")
    latency = time.monotonic() - t0
    h.check(inc.name == "db1", f"second incident is {inc!r}, expected domain 'db1'")
    h.check(inc.klass == "corrected", f"db1's incident has class {inc.klass}, expected corrected")
    h.check(latency <= 1.0, f"db1's incident opened {latency:.3f}s after the write (limit 1s)")
    db1 = inc

    # Both close once their 2 s window has passed with nothing new.
    d.wait_incident(6, "web1's incident to close", web1.index, event="closed", name="web1")
    d.wait_incident(6, "db1's incident to close", db1.index, event="closed", name="db1")

    # An x86 block with no PID: host-level.
    mark = d.mark()
    live.kernel(h.x86_host_block(), priority=h.EMERG)
    inc = d.wait_incident(5, "the host incident to open", mark, event="opened")
    h.check(inc.host, f"x86 block opened {inc!r}, expected a host incident")
    h.check(inc.klass == "host", f"host incident has class {inc.klass}, expected host")
    d.wait_incident(6, "the host incident to close", inc.index, event="closed", host=True)
    host = inc

    d.stop()
    hist = h.history_objects(env.sdir)
    ids = [o.get("id") for o in hist]
    h.check(ids == [web1.id, db1.id, host.id],
            f"history ids {ids}, expected {[web1.id, db1.id, host.id]}")
    want = [("web1", "guest"), ("db1", "corrected"), (None, "host")]
    got = [(h.incident_domain_name(o), o.get("class")) for o in hist]
    h.check(got == want, f"history (domain, class) {got}, expected {want}")
    uuids = [o.get("domain_uuid") for o in hist]
    h.check(uuids == [UUID_WEB1, UUID_DB1, None], f"history domain_uuid {uuids}")
    state = h.read_state(env.sdir)
    h.check(state is not None, "no state.json after SIGTERM")
    h.check(state.get("journal_cursor"), "state.json has no journal_cursor")
    h.check(not state.get("open_incidents"), f"open incidents left: {state.get('open_incidents')}")


# ---- 2. injected -------------------------------------------------------------


@case("injected")
def case_injected(sc, kvm_mced):
    env = Env(sc, kvm_mced)
    live = env.live()
    d = env.daemon()
    d.wait_started()
    mark = d.mark()
    # What a process writing into /dev/kmsg produces: facility 1, "MCE"
    # split off. Aimed at web1's vCPU thread: must open nothing.
    live.injected([ln[len("MCE: "):] for ln in h.ppc64_guest_ue(3, 4005, 3)])
    # Then a genuine record for db1: the first incident must be db1's.
    live.kernel(h.ppc64_guest_ue(40, 5003, 1))
    inc = d.wait_incident(5, "db1's incident to open", mark, event="opened")
    h.check(inc.name == "db1", f"first incident after the injected lines is {inc!r}, expected db1")
    d.wait_incident(6, "db1's incident to close", inc.index, event="closed", name="db1")
    d.stop()
    bad = [ln for ln in d.lines if "web1" in ln]
    h.check(not bad, f"the injected record was acted on: {bad}")
    names = [h.incident_domain_name(o) for o in h.history_objects(env.sdir)]
    h.check(names == ["db1"], f"history domains {names}, expected ['db1']")


# ---- 2b. /dev/kmsg ----------------------------------------------------------


def kmsg_records(seq, facility, lines):
    """/dev/kmsg records: "<prio>,<seq>,<usec>,-;<message>", prio being
    facility << 3 | level; one line each, plus a dictionary line. Stamped
    with the current CLOCK_MONOTONIC, as the kernel would."""
    usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    out = []
    for ln in lines:
        out.append(f"{facility * 8 + 3},{seq},{usec},-;{ln}\n")
        out.append(" SUBSYSTEM=cpu\n")
        seq += 1
        usec += 10
    return "".join(out), seq


@case("kmsg")
def case_kmsg(sc, kvm_mced):
    """The /dev/kmsg source (hosts without a journal): records from a FIFO,
    user-facility ones refused, and after a restart in the same boot the
    records already handled are skipped by sequence number."""
    env = Env(sc, kvm_mced)
    fifo = sc.join("kmsg.fifo")
    os.mkfifo(fifo)

    def run(payload):
        d = env.daemon(journal_dir=None, extra_args=["--kmsg", fifo])
        # The daemon opens the FIFO non-blocking for reading first; our
        # writer then opens without blocking.
        d.wait_started()
        with open(fifo, "w") as w:
            w.write(payload)
        return d

    injected, seq = kmsg_records(100, 1, h.ppc64_guest_ue(3, 4005, 3))
    genuine, seq = kmsg_records(seq, 0, h.ppc64_guest_ue(40, 5003, 1))
    d = run(injected + genuine)
    inc = d.wait_incident(5, "db1's incident to open", 0, event="opened")
    h.check(inc.name == "db1", f"first incident from /dev/kmsg is {inc!r}, expected db1")
    # The correlation window (2 s) holds it open: records are on the
    # wall clock like journal entries, not closed at once.
    h.check(not [i for i in d.incidents(inc.index + 1) if i.event == "closed"],
            "db1's incident closed at once: its correlation window was not applied")
    d.wait_incident(6, "db1's incident to close", inc.index, event="closed", name="db1")
    d.stop()
    h.check(not [ln for ln in d.lines if "web1" in ln],
            "a user-facility /dev/kmsg record was acted on")

    # Same boot, the ring buffer replayed from the start plus one new
    # record: only the new one may open an incident.
    more, _ = kmsg_records(seq, 0, h.ppc64_guest_ue(41, 4004, 2))
    d = run(injected + genuine + more)
    inc = d.wait_incident(5, "web1's incident to open", 0, event="opened")
    h.check(inc.name == "web1", f"after the restart the first incident is {inc!r}, expected web1")
    d.wait_incident(6, "web1's incident to close", inc.index, event="closed", name="web1")
    d.stop()
    names = [h.incident_domain_name(o) for o in h.history_objects(env.sdir)]
    h.check(names == ["db1", "web1"], f"history domains {names}, expected ['db1', 'web1']")


@case("kmsg-degraded")
def case_kmsg_degraded(sc, kvm_mced):
    """A kernel record source that cannot be read (here a directory: read()
    fails with EISDIR) is reported once as degraded; the daemon keeps
    running, does not spin on the error, and still stops cleanly."""
    env = Env(sc, kvm_mced)
    bad = sc.mkdir("not-a-device")
    d = env.daemon(journal_dir=None, extra_args=["--kmsg", bad])
    d.wait_started()
    d.wait_line(lambda s: "is degraded" in s and "not-a-device" in s, 5,
                "the source-degraded message")
    # Three retries later it has still said so only once, and it is idle
    # between them rather than busy.
    cpu_before = h.process_cpu_seconds(d.proc.pid)
    time.sleep(3.2)
    cpu = h.process_cpu_seconds(d.proc.pid) - cpu_before
    h.check(cpu < 0.5, f"kvm-mced used {cpu:.2f}s of CPU in 3.2s on a failing source")
    d.drain()
    h.check(len([ln for ln in d.lines if "is degraded" in ln]) == 1,
            "the degraded source was reported more than once")
    d.stop()


# ---- 2c. hooks --------------------------------------------------------------


@case("hooks")
def case_hooks(sc, kvm_mced):
    """Hook executables run for incident events with the documented
    variables, the domain name as data (never through a shell); a
    world-writable hook is refused with a message and never runs."""
    if os.geteuid() != 0:
        print("SKIP hooks must be owned by root: run as root")
        sys.exit(77)
    env = Env(sc, kvm_mced)
    hooks = sc.mkdir("hooks.d")
    os.chmod(hooks, 0o755)
    out = sc.join("hook-out")
    pwned = sc.join("pwned")
    good = os.path.join(hooks, "10-record")
    with open(good, "w") as f:
        f.write("#!/bin/sh\n"
                f"{{ echo \"ARGV=$1\"; env | grep ^KVM_MCED_ | sort; echo END; }} >> {out}\n")
    os.chmod(good, 0o755)
    bad = os.path.join(hooks, "20-world-writable")
    with open(bad, "w") as f:
        f.write(f"#!/bin/sh\ntouch {sc.join('bad-ran')}\n")
    os.chmod(bad, 0o777)
    # A domain whose name would run a command if anything used a shell.
    evil = f"evil$(touch {pwned})`touch {pwned}`;'\"x"
    env.proc.add_qemu(6000, evil, "11111111-2222-4333-8444-555555555566", {6002: 0})

    live = env.live()
    d = env.daemon(extra_args=["--hooks-directory", hooks])
    d.wait_started()
    mark = d.mark()
    live.kernel(h.ppc64_guest_ue(12, 6002, 0))
    inc = d.wait_incident(5, "the incident to open", mark, event="opened")
    d.wait_line(lambda s: "20-world-writable" in s and "refused" in s, 10,
                "the world-writable hook to be refused", mark)
    h.poll_until(lambda: os.path.exists(out) and "END" in open(out).read(), 10,
                 "the hook to record its environment")
    d.stop()

    text = open(out).read()
    first = text.split("END")[0]
    h.check("ARGV=incident-opened" in first, f"hook argv: {first!r}")
    for want in ("KVM_MCED_EVENT=incident-opened", f"KVM_MCED_INCIDENT={inc.id}",
                 "KVM_MCED_CLASS=guest", "KVM_MCED_DOMAIN_UUID=11111111-2222-4333-8444-555555555566",
                 "KVM_MCED_SEVERITY=severe", "KVM_MCED_HOST_CPU=12"):
        h.check(want in first, f"{want} missing from the hook's environment: {first!r}")
    h.check(f"KVM_MCED_DOMAIN={evil}" in first,
            f"the domain name did not arrive as data: {first!r}")
    h.check(not os.path.exists(pwned), "a domain name was interpreted by a shell")
    h.check(not os.path.exists(sc.join("bad-ran")), "the world-writable hook ran")


# ---- 2d. limits -------------------------------------------------------------


@case("action-limits")
def case_action_limits(sc, kvm_mced):
    """Fifty incidents on ten domains (libvirt's test driver, from a node
    file) at once: five waves of QEMU-log lines per domain, each wave a
    second later in the lines' own timestamps, so each is an incident of
    its own. Under 'guest: pause' with max-actions-per-hour = 4 exactly
    four pauses start, each on a different domain; every other incident
    is either turned into notify by the hourly guard or skipped because
    its domain already has an action running, so all 50 get exactly one
    decision and no domain ever has two actions at once."""
    env = Env(sc, kvm_mced)
    names, node, logs = env.test_driver(10, "22222222")
    h.write_config(env.config, window="200ms",
                   extra="[libvirt]\nenabled = yes\n"
                         "[policy]\nmax-actions-per-hour = 4\ncooldown = 0\n"
                         "host-degraded-after = 100/1h\n"
                         "[policy.guest]\nladder = pause\n")
    d = env.daemon(extra_args=["--libvirt-uri", f"test://{node}", "--qemu-log-directory", logs])
    d.wait_started()
    d.wait_line(lambda s: "Connected to libvirt" in s, 10, "the libvirt connection")
    mark = d.mark()
    base = time.time() - 30
    for wave in range(5):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + wave)) + ".000000Z"
        for n in names:
            with open(os.path.join(logs, f"{n}.log"), "a") as f:
                f.write(f"{stamp} qemu-system-x86_64: Guest MCE Memory Error at QEMU addr "
                        f"0x7f89573ce000 and GUEST addr 0x10b5ce{wave}00 of type BUS_MCEERR_AR "
                        "injected\n")

    def decisions():
        d.drain()
        return [ln for ln in d.lines[mark:]
                if re.match(r"kvm-mced: Action (pause|notify) for domain 'vm\d' ", ln)
                and (" started" in ln or " skipped" in ln or "Action notify" in ln)]
    h.poll_until(lambda: len(decisions()) == 50, 30, "a decision for each of the 50 incidents")

    def n_succeeded():
        d.drain()
        return len([ln for ln in d.lines[mark:] if "Action pause" in ln and " succeeded" in ln])
    h.poll_until(lambda: n_succeeded() >= 4, 20, "the four pauses to finish")
    d.stop()
    lines = d.lines[mark:]
    opened = [ln for ln in lines if " opened for domain 'vm" in ln]
    h.check(len(opened) == 50, f"{len(opened)} incidents opened, expected 50")
    incident_ids = [re.search(r"\(incident (i-[0-9a-f]+)\)", ln).group(1) for ln in decisions()]
    h.check(len(set(incident_ids)) == 50, "an incident got two decisions, or none")
    started = [ln for ln in decisions() if "Action pause" in ln and " started" in ln]
    h.check(len(started) == 4, f"{len(started)} pauses started, the limit is 4")
    running = set()
    for ln in lines:
        m = re.match(r"kvm-mced: Action pause for domain '(vm\d)' \(incident i-[0-9a-f]+\) "
                     r"(started|succeeded|failed)", ln)
        if not m:
            continue
        if m.group(2) == "started":
            h.check(m.group(1) not in running, f"two actions at once on {m.group(1)}")
            running.add(m.group(1))
        else:
            running.discard(m.group(1))
    notifies = [ln for ln in decisions() if "Action notify" in ln]
    h.check(all("max-actions-per-hour (4) reached" in ln for ln in notifies),
            "a notify without the hourly guard's reason")
    skipped = [ln for ln in decisions() if " skipped" in ln]
    h.check(all("another action is still running" in ln for ln in skipped),
            f"a skip for another reason: {skipped}")
    h.check(len(notifies) + len(skipped) == 46,
            f"{len(notifies)} notify + {len(skipped)} skipped, expected 46 in all")
    h.check(n_succeeded() == 4, f"{n_succeeded()} pauses succeeded, expected 4")
    # the history records what was done about each incident, to the end
    hist = {o["id"]: o for o in h.history_objects(env.sdir)}
    h.check(sorted(hist) == sorted(incident_ids), "the history lacks incidents that were decided")
    for ln in started:
        iid = re.search(r"\(incident (i-[0-9a-f]+)\)", ln).group(1)
        done = [(a["action"], a["result"]) for a in hist[iid].get("actions", [])]
        h.check(done == [("pause", "started"), ("pause", "succeeded")],
                f"history of {iid}: {done}")
    for ln in notifies + skipped:
        iid = re.search(r"\(incident (i-[0-9a-f]+)\)", ln).group(1)
        done = [(a["action"], a["result"]) for a in hist[iid].get("actions", [])]
        h.check(done in ([("notify", "done")], [("pause", "skipped")]),
                f"history of {iid}: {done}")


@case("sd-notify")
def case_sd_notify(sc, kvm_mced):
    """The notify protocol, through a NOTIFY_SOCKET of our own: READY=1 with
    a STATUS once the source is live, WATCHDOG=1 pings at half the
    interval, RELOADING=1 (with MONOTONIC_USEC) then READY=1 around a
    SIGHUP reload, STOPPING=1 on SIGTERM."""
    import socket
    env = Env(sc, kvm_mced)
    path = sc.join("notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sc.add_cleanup(sock.close)
    got = []

    def wait_for(pred, what, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            for i, msg in enumerate(got):
                if pred(msg):
                    del got[:i + 1]
                    return msg
            left = deadline - time.monotonic()
            if left <= 0:
                h.fail(f"no {what} on NOTIFY_SOCKET; got {got}")
            sock.settimeout(left)
            try:
                got.append(sock.recv(4096).decode())
            except socket.timeout:
                pass

    d = env.daemon(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
    ready = wait_for(lambda m: "READY=1" in m.split("\n"), "READY=1")
    h.check("STATUS=Following " in ready,
            f"READY without a STATUS: {ready!r}")
    h.check("0 incidents open" in ready, f"status: {ready!r}")
    wait_for(lambda m: m == "WATCHDOG=1", "WATCHDOG=1 ping")
    wait_for(lambda m: m == "WATCHDOG=1", "a second WATCHDOG=1 ping")
    d.proc.send_signal(signal.SIGHUP)
    reloading = wait_for(lambda m: "RELOADING=1" in m.split("\n"), "RELOADING=1")
    h.check(re.search(r"^MONOTONIC_USEC=\d+$", reloading, re.M) is not None,
            f"RELOADING=1 without MONOTONIC_USEC: {reloading!r}")
    wait_for(lambda m: "READY=1" in m.split("\n"), "READY=1 after the reload")
    d.stop()
    wait_for(lambda m: "STOPPING=1" in m.split("\n"), "STOPPING=1")


BUS_NAME = "org.kvm_mced.Manager1"
BUS_PATH = "/org/kvm_mced/Manager1"


@case("dbus")
def case_dbus(sc, kvm_mced):
    """The D-Bus API on a private, system-like dbus-daemon with the shipped
    policy file: busctl reads properties, lists and gets incidents and
    explains the policy; signals are seen with busctl monitor; nobody can
    read but not reload; root reloads."""
    import json
    import shutil
    import subprocess
    for prog in ("dbus-daemon", "busctl", "setpriv"):
        if shutil.which(prog) is None:
            raise h.Skip(f"{prog} is not installed (apt-get install dbus systemd util-linux)")
    if os.geteuid() != 0:
        raise h.Skip("needs root to own the name under the shipped policy and to run as nobody")
    address, bdir = h.system_bus(sc)

    def busctl(*args, user=None, check=True):
        argv = ["busctl", f"--address={address}"] + list(args)
        if user:
            argv = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups"] + argv
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        if check and r.returncode != 0:
            h.fail(f"{' '.join(args)}: {r.stderr.strip()}")
        return r

    env = Env(sc, kvm_mced)
    live = env.live()
    d = env.daemon(extra_args=["--bus-address", address])
    d.wait_started()
    h.poll_until(lambda: busctl("status", BUS_NAME, check=False).returncode == 0, 10,
                 f"{BUS_NAME} on the bus")
    mon = sc.spawn(["busctl", f"--address={address}", "monitor", BUS_NAME, "--json=short"],
                   stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.set_blocking(mon.stdout.fileno(), False)
    monitored = []

    def seen(member):
        chunk = mon.stdout.read()
        if chunk:
            monitored.extend(ln for ln in chunk.decode().splitlines() if ln.strip())
        return [json.loads(ln) for ln in monitored
                if json.loads(ln).get("member") == member]
    # the monitor is attached once it sees our own call
    h.poll_until(lambda: busctl("get-property", BUS_NAME, BUS_PATH, BUS_NAME, "Version")
                 and seen("Get"), 10, "busctl monitor to see a call")

    r = busctl("get-property", BUS_NAME, BUS_PATH, BUS_NAME, "OpenIncidents")
    h.check(r.stdout.strip() == "u 0", f"OpenIncidents before any MCE: {r.stdout!r}")
    # the interface is what docs/org.kvm_mced.Manager1.xml documents
    xml = busctl("introspect", "--xml-interface", BUS_NAME, BUS_PATH).stdout
    m = re.search(r'( *<interface name="org\.kvm_mced\.Manager1">.*?</interface>)', xml, re.S)
    h.check(m is not None, "no org.kvm_mced.Manager1 interface in the introspection")
    doc = os.path.join(SOURCE_ROOT, "docs", "org.kvm_mced.Manager1.xml")
    if os.environ.get("MCED_TEST_REGENERATE"):
        with open(doc, "w") as f:
            f.write(m.group(1).strip() + "\n")
    with open(doc) as f:
        h.check(f.read().strip() == m.group(1).strip(),
                f"{doc} differs from the live interface (MCED_TEST_REGENERATE=1 rewrites it)")

    mark = d.mark()
    live.kernel(h.ppc64_guest_ue(12, 4005, 3))
    inc = d.wait_incident(5, "web1's incident to open", mark, event="opened")
    h.poll_until(lambda: [s for s in seen("IncidentChanged")
                          if s["payload"]["data"][:2] == [inc.id, "opened"]], 10,
                 "IncidentChanged(opened) on the bus")
    h.poll_until(lambda: seen("PropertiesChanged"), 10, "PropertiesChanged on the bus")
    r = busctl("get-property", BUS_NAME, BUS_PATH, BUS_NAME, "OpenIncidents")
    h.check(r.stdout.strip() == "u 1", f"OpenIncidents with web1's open: {r.stdout!r}")

    r = busctl("--json=short", "call", BUS_NAME, BUS_PATH, BUS_NAME, "ListIncidents", "sst",
               "web1", "", "0")
    rows = json.loads(r.stdout)["data"][0]
    h.check([row[:4] + row[8:] for row in rows] == [[inc.id, "web1", "guest", "open", False]],
            f"ListIncidents(web1): {rows}")
    r = busctl("--json=short", "call", BUS_NAME, BUS_PATH, BUS_NAME, "ListIncidents", "sst",
               "db1", "", "0")
    h.check(json.loads(r.stdout)["data"][0] == [], f"ListIncidents(db1): {r.stdout}")
    r = busctl("call", BUS_NAME, BUS_PATH, BUS_NAME, "ListIncidents", "sst", "", "severe-ish",
               "0", check=False)
    h.check(r.returncode != 0 and "Unknown class" in r.stderr, f"bad class: {r.stderr!r}")

    # nobody reads everything...
    r = busctl("--json=short", "call", BUS_NAME, BUS_PATH, BUS_NAME, "GetIncident", "s", inc.id,
               user="nobody")
    full = json.loads(json.loads(r.stdout)["data"][0])
    h.check(full["id"] == inc.id and full["domain"] == "web1" and len(full["observations"]) >= 1,
            f"GetIncident as nobody: {full}")
    r = busctl("call", BUS_NAME, BUS_PATH, BUS_NAME, "GetIncident", "s", "i-0000000000000000",
               check=False)
    h.check(r.returncode != 0 and "No incident" in r.stderr, f"unknown id: {r.stderr!r}")
    r = busctl("--json=short", "call", BUS_NAME, BUS_PATH, BUS_NAME, "Explain", "s", "web1",
               user="nobody")
    h.check("guest" in json.loads(r.stdout)["data"][0], f"Explain(web1): {r.stdout}")
    r = busctl("get-property", BUS_NAME, BUS_PATH, BUS_NAME, "Health", user="nobody")
    h.check(r.stdout.strip() == 's "ok"', f"Health: {r.stdout!r}")
    # ...but cannot reload
    mark = d.mark()
    r = busctl("call", BUS_NAME, BUS_PATH, BUS_NAME, "Reload", user="nobody", check=False)
    h.check(r.returncode != 0 and "Access denied" in r.stderr,
            f"Reload as nobody: rc {r.returncode} {r.stderr!r}")
    busctl("call", BUS_NAME, BUS_PATH, BUS_NAME, "Reload")
    d.wait_line(lambda s: "Configuration reloaded" in s, 10, "the reload", mark)
    d.drain()
    h.check(len([ln for ln in d.lines[mark:] if "Configuration reloaded" in ln]) == 1,
            "nobody's Reload reached the daemon")

    # kvm-mcectl, the operator's client of the same API
    ctl_path = os.path.join(os.path.dirname(kvm_mced), "kvm-mcectl")

    def ctl(*args, user=None):
        argv = [ctl_path, f"--bus-address={address}"] + list(args)
        if user:
            argv = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups"] + argv
        return subprocess.run(argv, capture_output=True, text=True, timeout=20)
    r = ctl("--json", "status", user="nobody")
    h.check(r.returncode == 0, f"kvm-mcectl status: {r.stderr}")
    st = json.loads(r.stdout)
    h.check(st["health"] == "ok" and st["open_incidents"] == 1 and st["source_state"] == "live",
            f"kvm-mcectl status: {st}")
    r = ctl("status")
    h.check(r.returncode == 0 and "Open incidents:   1" in r.stdout, f"status table: {r.stdout}")
    r = ctl("--json", "incidents", "--domain=web1", "--class=guest", "--since=1h")
    h.check(r.returncode == 0 and [o["id"] for o in json.loads(r.stdout)] == [inc.id],
            f"kvm-mcectl incidents: {r.stdout} {r.stderr}")
    r = ctl("incidents")
    h.check(r.returncode == 0 and inc.id in r.stdout and "web1" in r.stdout,
            f"incidents table: {r.stdout}")
    r = ctl("incidents", "--since=yesterday-ish")
    h.check(r.returncode == 2 and "--since" in r.stderr, f"bad --since: {r.returncode} {r.stderr}")
    r = ctl("incidents", "--class=bogus")
    h.check(r.returncode == 2 and "Unknown class" in r.stderr, f"bad class: {r.returncode}")
    r = ctl("show", inc.id)
    h.check(r.returncode == 0 and "Domain:       web1" in r.stdout and "MCE: CPU12" in r.stdout,
            f"kvm-mcectl show: {r.stdout}")
    r = ctl("show", "i-0000000000000000")
    h.check(r.returncode == 4, f"show of an unknown id: rc {r.returncode} {r.stderr}")
    r = ctl("policy", "explain", "web1", user="nobody")
    h.check(r.returncode == 0 and "guest" in r.stdout, f"policy explain: {r.stdout}")
    r = ctl("reload", user="nobody")
    h.check(r.returncode == 1 and "denied" in r.stderr.lower(),
            f"reload as nobody: rc {r.returncode} {r.stderr}")
    r = ctl("reload")
    h.check(r.returncode == 0, f"reload as root: {r.stderr}")

    # libvirt's hook: web1 started by someone else while its incident is open
    xml = (f"<domain type='kvm'>\n  <name>web1</name>\n  <uuid>{UUID_WEB1.upper()}</uuid>\n"
           "  <devices><disk><uuid>not-this-one</uuid></disk></devices>\n</domain>\n")

    def hook(*args, user=None, stdin=xml):
        argv = [ctl_path, f"--bus-address={address}", "libvirt-hook"] + list(args)
        if user:
            argv = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups"] + argv
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=20)
    mark = d.mark()
    r = hook("web1", "started", "begin", "-")
    h.check(r.returncode == 0 and r.stdout == "", f"hook: rc {r.returncode} {r.stdout!r}")
    d.wait_line(lambda s: "Domain 'web1' was started outside kvm-mced" in s
                and inc.id in s, 10, "the external start on record", mark)
    h.poll_until(lambda: [s for s in seen("ActionChanged")
                          if s["payload"]["data"][:4] == [inc.id, "web1", "started", "external"]
                          and s["payload"]["data"][5] is False],
                 10, "ActionChanged(external) on the bus")
    full = json.loads(ctl("--json", "show", inc.id).stdout)
    def external(actions):
        return [(a["action"], a["result"]) for a in actions if a["result"] == "external"]
    h.check(external(full["actions"]) == [("started", "external")],
            f"the incident's actions: {full['actions']}")
    # operations that change nothing, hostile input, and nobody: no record (XML without a
    # valid UUID still names the domain: those stops count), and the hook never fails
    # libvirt's operation nor writes to its stdout
    for args, stdin in ((("web1", "prepare", "begin", "-"), xml),
                        (("web1", "stopped", "end", "-"), "<domain><uuid>$(reboot)</uuid>"),
                        (("web1", "stopped", "end", "-"), "\x00garbage"),
                        (("web1", "stopped", "sideways", "-"), xml)):
        r = hook(*args, stdin=stdin)
        h.check(r.returncode == 0 and r.stdout == "", f"hook {args}: rc {r.returncode}")
    r = hook("web1", "stopped", "end", "-", user="nobody")
    h.check(r.returncode == 0 and r.stdout == "", f"hook as nobody: rc {r.returncode}")
    r = busctl("call", BUS_NAME, BUS_PATH, BUS_NAME, "NoteDomainEvent", "ssss", "web1",
               UUID_WEB1, "stopped", "end", user="nobody", check=False)
    h.check(r.returncode != 0 and "Access denied" in r.stderr, f"as nobody: {r.stderr!r}")
    r = busctl("call", BUS_NAME, BUS_PATH, BUS_NAME, "NoteDomainEvent", "ssss", "web1",
               "not-a-uuid", "stopped", "end", check=False)
    h.check(r.returncode != 0 and "UUID" in r.stderr, f"bad UUID: {r.stderr!r}")
    full = json.loads(ctl("--json", "show", inc.id).stdout)
    h.check(external(full["actions"]) == [("started", "external"), ("stopped", "external"),
                                          ("stopped", "external")],
            f"the start, and the two stops by name only: {full['actions']}")

    # once web1's incident closes it counts against web1; an ack resets that
    d.wait_incident(10, "web1's incident to close", inc.index, event="closed", name="web1")
    # a host incident counts for the host, not as an affected domain
    mark = d.mark()
    live.kernel(h.x86_host_block())
    d.wait_incident(10, "the host incident to close", mark, event="closed", host=True)
    r = busctl("get-property", BUS_NAME, BUS_PATH, BUS_NAME, "DomainsAffected")
    h.check(r.stdout.strip() == "u 1", f"DomainsAffected with web1 and the host: {r.stdout!r}")
    r = ctl("--json", "domains", user="nobody")
    doms = json.loads(r.stdout) if r.returncode == 0 else r.stderr
    h.check([(o["name"], o["health"], o["guest"]) for o in doms] == [("web1", "degraded", 1)],
            f"kvm-mcectl domains: {doms}")
    r = ctl("ack", inc.id, user="nobody")
    h.check(r.returncode == 1 and "needs root" in r.stderr, f"ack as nobody: {r.stderr}")
    r = ctl("ack", "--domain=nosuchvm")
    h.check(r.returncode == 4, f"ack of an unknown domain: rc {r.returncode} {r.stderr}")
    r = ctl("ack", inc.id)
    h.check(r.returncode == 0 and "'web1' acknowledged" in r.stdout, f"ack: {r.stdout} {r.stderr}")
    r = ctl("--json", "domains")
    h.check(json.loads(r.stdout) == [], f"domains after the ack: {r.stdout}")

    # a drill: root only, its own incident, marked synthetic everywhere, dry-run actions,
    # and no trace in the counters
    r = ctl("drill", "--domain=web1", "--class=fatal", user="nobody")
    h.check(r.returncode == 1 and "needs root" in r.stderr, f"drill as nobody: {r.stderr}")
    r = ctl("drill", "--domain=nosuchvm", "--class=guest")
    h.check(r.returncode == 4 and "nosuchvm" in r.stderr, f"drill of nosuchvm: {r.stderr}")
    r = ctl("drill", "--domain=web1", "--class=severe-ish")
    h.check(r.returncode == 2 and "Unknown class" in r.stderr, f"drill class: {r.stderr}")
    r = ctl("drill", "--domain=web1", "--class=host")
    h.check(r.returncode == 2 and "name no domain" in r.stderr, f"host drill: {r.stderr}")
    r = ctl("drill", "--domain=web1")
    h.check(r.returncode == 2, f"drill without a class: {r.returncode}")
    mark = d.mark()
    r = ctl("--json", "drill", f"--domain={UUID_WEB1.upper()}", "--class=fatal")
    h.check(r.returncode == 0, f"drill: {r.stderr}")
    drill = json.loads(r.stdout)
    h.check(drill["synthetic"] is True and drill["incident"].startswith("i-"), f"{drill}")
    d.wait_line(lambda s: s.startswith("kvm-mced: [drill] ") and drill["incident"] in s, 10,
                "the drill's incident in the log", mark)
    d.wait_line(lambda s: s.startswith("kvm-mced: [drill] Action ") and "web1" in s, 10,
                "the drill's action decided", mark)
    h.poll_until(lambda: [s for s in seen("IncidentChanged")
                          if s["payload"]["data"] == [drill["incident"], "opened", "web1",
                                                      "fatal", True]],
                 10, "IncidentChanged(opened) for the drill")
    h.poll_until(lambda: [s for s in seen("ActionChanged")
                          if s["payload"]["data"][0] == drill["incident"]
                          and s["payload"]["data"][5] is True],
                 10, "ActionChanged for the drill, marked synthetic")
    listed = json.loads(ctl("--json", "incidents", "--domain=web1").stdout)
    h.check([o["synthetic"] for o in listed if o["id"] == drill["incident"]] == [True]
            and [o["synthetic"] for o in listed if o["id"] == inc.id] == [False],
            f"kvm-mcectl incidents marks the drill: {listed}")
    h.check("(drill)" in ctl("incidents").stdout, "the incidents table marks the drill")
    full = json.loads(ctl("--json", "show", drill["incident"]).stdout)
    h.check(full["synthetic"] is True and full["class"] == "fatal"
            and [o["kind"] for o in full["observations"]] == ["drill"]
            and full["observations"][0]["synthetic"] is True, f"the drill incident: {full}")
    h.check(full["actions"] and all(a["result"] in ("dry-run", "done")
                                   for a in full["actions"]),
            f"a drill only rehearses: {full['actions']}")
    r = busctl("--json=short", "call", BUS_NAME, BUS_PATH, BUS_NAME, "Drill", "ss", "",
               "host")
    host_id = json.loads(r.stdout)["data"][0]
    r = ctl("--json", "show", host_id)
    h.check(json.loads(r.stdout)["class"] == "host" and json.loads(r.stdout)["synthetic"],
            f"the host drill: {r.stdout}")
    d.wait_incident(10, "the drill to close", mark, event="closed", name="web1")
    r = ctl("--json", "domains")
    h.check(json.loads(r.stdout) == [], f"a drill counts for nothing: {r.stdout}")
    r = ctl("--json", "status")
    h.check(json.loads(r.stdout)["health"] == "ok", f"nor for the host: {r.stdout}")

    # the bus restarts: the daemon says so, connects again and serves as before
    mark = d.mark()
    h.restart_system_bus(sc, bdir)
    d.wait_line(lambda s: "D-Bus API unavailable" in s, 10, "the loss of the bus", mark)
    d.wait_line(lambda s: "D-Bus API on" in s, 30, "the return to the bus", mark)
    r = ctl("--json", "status", user="nobody")
    h.check(r.returncode == 0 and json.loads(r.stdout)["source_state"] == "live",
            f"status after the bus restarted: {r.stdout} {r.stderr}")
    d.stop()
    r = ctl("status")
    h.check(r.returncode == 3 and "is kvm-mced running" in r.stderr,
            f"status without the daemon: rc {r.returncode} {r.stderr}")


@case("live-burst")
def case_live_burst(sc, kvm_mced):
    """A burst bigger than one read batch (512 entries) while live: the
    daemon is stopped (SIGSTOP) while 3000 kernel lines with two machine
    checks in them reach the journal, then continued, so it meets them all
    at once. Both incidents are decided on, none is taken for backlog."""
    import signal
    import socket
    import subprocess
    env = Env(sc, kvm_mced)
    live = env.live()
    path = sc.join("notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sc.add_cleanup(sock.close)
    sock.settimeout(15)
    d = env.daemon(env={"NOTIFY_SOCKET": path})
    while "READY=1" not in sock.recv(4096).decode().split("\n"):
        pass  # READY=1: caught up, live from here on (recv times out otherwise)
    mark = d.mark()
    live.kernel(h.ppc64_guest_ue(12, 4005, 3))
    d.wait_line(lambda s: s.startswith("kvm-mced: Action log for domain 'web1'"), 10,
                "a decision on the first incident", mark)
    d.wait_incident(10, "the first incident to close", mark, event="closed", name="web1")
    mark = d.mark()
    filler = [f"eth0: link flap {i}" for i in range(3000)]
    os.kill(d.proc.pid, signal.SIGSTOP)
    try:
        live.kernel(filler[:1000] + h.ppc64_guest_ue(3, 5003, 1) + filler[1000:2000]
                    + h.ppc64_guest_ue(7, 4006, 4, dar="00007fff8a3c2000") + filler[2000:]
                    + ["eth0: burst over"])
        h.poll_until(lambda: "eth0: burst over" in subprocess.run(
            ["journalctl", "--directory", env.jdir, "-o", "cat", "-n", "1"],
            capture_output=True, text=True, timeout=20).stdout, 20,
            "the whole burst in the journal")
    finally:
        os.kill(d.proc.pid, signal.SIGCONT)
    for name in ("db1", "web1"):
        d.wait_line(lambda s, n=name: s.startswith(f"kvm-mced: Action log for domain '{n}'"),
                    20, f"a decision on {name}'s incident in the burst", mark)
    d.drain()
    backlog = [ln for ln in d.lines[mark:] if "from the backlog" in ln]
    h.check(not backlog, f"live incidents taken for backlog: {backlog}")
    d.stop()


@case("dbus-late")
def case_dbus_late(sc, kvm_mced):
    """The bus comes up after the daemon (it started first, or dbus-daemon
    restarts): the daemon says the API is unavailable, keeps connecting,
    and serves once the bus is there."""
    import shutil
    import subprocess
    for prog in ("dbus-daemon", "busctl"):
        if shutil.which(prog) is None:
            raise h.Skip(f"{prog} is not installed (apt-get install dbus systemd)")
    if os.geteuid() != 0:
        raise h.Skip("needs root to own the name under the shipped policy")
    env = Env(sc, kvm_mced)
    address = "unix:path=" + sc.join("bus", "bus.sock")  # where system_bus() listens
    d = env.daemon(extra_args=["--bus-address", address])
    d.wait_started()
    d.wait_line(lambda s: "D-Bus API unavailable" in s, 10, "the daemon to miss the bus")
    mark = d.mark()
    h.check(h.system_bus(sc)[0] == address, "the bus listens elsewhere")
    d.wait_line(lambda s: "D-Bus API on" in s, 30, "the daemon to find the bus", mark)
    r = subprocess.run(["busctl", f"--address={address}", "get-property", BUS_NAME, BUS_PATH,
                        BUS_NAME, "SourceState"], capture_output=True, text=True, timeout=20)
    h.check(r.returncode == 0 and r.stdout.strip() == 's "live"',
            f"SourceState once on the bus: {r.stdout!r} {r.stderr!r}")
    d.stop()


@case("doctor")
def case_doctor(sc, kvm_mced):
    """kvm-mcectl doctor on fixtures: the memory-failure sysctls from a /proc
    fixture (off is a failure with a fix, on is fine), a KVM device that is
    not there, a writable and a missing state directory, no daemon; libvirt
    through the test:/// driver (reachable or not) and FWNMI per ppc64 guest
    from tests/data/libvirt/ppc64-guests.xml."""
    ctl_path = os.path.join(os.path.dirname(kvm_mced), "kvm-mcectl")
    proc = sc.mkdir("proc")
    os.makedirs(os.path.join(proc, "sys", "vm"))

    def sysctls(recovery, early):
        for name, value in (("memory_failure_recovery", recovery),
                            ("memory_failure_early_kill", early)):
            with open(os.path.join(proc, "sys", "vm", name), "w") as f:
                f.write(f"{value}\n")

    def doctor(state_dir, uri="test:///default"):
        r = subprocess.run([ctl_path, "--json", "--bus-address=unix:path=/nonexistent/bus",
                            "doctor", f"--procfs-root={proc}", "--kvm-device=/nonexistent/kvm",
                            f"--state-directory={state_dir}", f"--libvirt-uri={uri}"],
                           capture_output=True, text=True, timeout=30)
        h.check(r.returncode in (0, 1), f"doctor: rc {r.returncode} {r.stderr}")
        return r.returncode, {o["check"]: o for o in json.loads(r.stdout)}

    sysctls(0, 0)
    rc, found = doctor(sc.mkdir("state"))
    h.check(rc == 1, f"doctor with failures exited {rc}")
    h.check(found["kvm"]["result"] == "fail" and "/nonexistent/kvm" in found["kvm"]["detail"]
            and found["kvm"]["fix"], f"kvm: {found['kvm']}")
    mfr = found["memory_failure_recovery"]
    h.check(mfr["result"] == "fail" and "vm.memory_failure_recovery = 0" == mfr["detail"]
            and "sysctl -w vm.memory_failure_recovery=1" in mfr["fix"], f"recovery: {mfr}")
    h.check(found["state-directory"]["result"] == "ok", f"state: {found['state-directory']}")
    h.check(found["daemon"]["result"] == "warn", f"daemon: {found['daemon']}")
    h.check(found["journal"]["result"] in ("ok", "warn", "fail"), f"journal: {found['journal']}")
    # test:///default: one x86 domain, so nothing for FWNMI to check
    h.check(found["libvirt"]["result"] == "ok"
            and found["libvirt"]["detail"].startswith("test:///default: 1 domain,"),
            f"libvirt: {found['libvirt']}")
    h.check(found["fwnmi"]["result"] == "info" and "no ppc64" in found["fwnmi"]["detail"]
            and not [c for c in found if c.startswith("fwnmi:")], f"fwnmi: {found}")

    sysctls(1, 1)
    rc, found = doctor(sc.join("no-such-state"))
    h.check(found["memory_failure_recovery"]["result"] == "ok", f"{found}")
    h.check(found["state-directory"]["result"] == "warn"
            and "No such file" in found["state-directory"]["detail"], f"{found}")

    # libvirt that cannot be reached: a failure with a fix, guests unchecked
    rc, found = doctor(sc.mkdir("state2"), "test:///nonexistent-file.xml")
    lv = found["libvirt"]
    h.check(rc == 1 and lv["result"] == "fail"
            and lv["detail"].startswith("cannot connect to test:///nonexistent-file.xml: ")
            and "systemctl start libvirtd" in lv["fix"], f"libvirt unreachable: {lv}")
    h.check(found["fwnmi"]["result"] == "info" and "not checked" in found["fwnmi"]["detail"],
            f"fwnmi without libvirt: {found['fwnmi']}")

    # FWNMI per ppc64 guest, running or shut off; the x86 guest is left out.
    # (The test driver keeps <os><type arch machine> but drops
    # <qemu:commandline>; cap-fwnmi=off there is tests/daemon/test-doctor.c's.)
    guests = os.path.join(SOURCE_ROOT, "tests", "data", "libvirt", "ppc64-guests.xml")
    rc, found = doctor(sc.join("state2"), f"test://{guests}")
    h.check(found["libvirt"]["result"] == "ok"
            and "6 domains, 5 running" in found["libvirt"]["detail"], f"{found['libvirt']}")
    fwnmi = {c[len("fwnmi:"):]: o for c, o in found.items() if c.startswith("fwnmi:")}
    h.check(sorted(fwnmi) == ["ppc-latest", "ppc-new", "ppc-old", "ppc-older-shutoff",
                              "ppc-rhel"] and "fwnmi" not in found, f"fwnmi checks: {sorted(found)}")
    want = {"ppc-new": ("ok", "FWNMI on: machine pseries-8.2"),
            "ppc-latest": ("ok", "FWNMI on: machine pseries,"),
            "ppc-old": ("fail", "FWNMI off: machine pseries-4.2,"),
            "ppc-older-shutoff": ("fail", "FWNMI off: machine pseries-2.12,"),
            "ppc-rhel": ("warn", "FWNMI unknown: machine pseries-rhel9.4.0")}
    for name, (result, detail) in want.items():
        o = fwnmi.get(name, {})
        h.check(o.get("result") == result and o.get("detail", "").startswith(detail)
                and (result == "ok") == (o.get("fix") is None), f"fwnmi:{name}: {o}")
    h.check("pseries-5.0" in fwnmi["ppc-old"]["fix"] and "0x200" in fwnmi["ppc-old"]["fix"],
            f"fwnmi:ppc-old fix: {fwnmi['ppc-old']}")
    r = subprocess.run([ctl_path, "status", "--libvirt-uri=test:///default"],
                       capture_output=True, text=True, timeout=30)
    h.check(r.returncode == 2 and "go with 'doctor'" in r.stderr,
            f"--libvirt-uri outside doctor: rc {r.returncode} {r.stderr}")
    # human output: one line per check, a fix under each problem, a total
    r = subprocess.run([ctl_path, "--bus-address=unix:path=/nonexistent/bus", "doctor",
                        f"--procfs-root={proc}", "--kvm-device=/nonexistent/kvm",
                        "--libvirt-uri=test:///default"],
                       capture_output=True, text=True, timeout=30)
    h.check(re.search(r"^fail +kvm +cannot open /nonexistent/kvm", r.stdout, re.M) is not None
            and "fix: load the KVM module" in r.stdout
            and re.search(r"^\d+ failed, \d+ warnings$", r.stdout, re.M) is not None,
            f"doctor table: {r.stdout}")


@case("host-degraded")
def case_host_degraded(sc, kvm_mced):
    """Incidents on three domains within the period make the host degraded
    (once); with evacuate = yes every running domain is migrated away, in
    name order, never more than max-concurrent-migrations at once. (The
    peer here is unreachable, so each migration fails and the domain stays;
    tests/system moves real guests.)"""
    env = Env(sc, kvm_mced)
    names, node, logs = env.test_driver(5, "33333333")
    h.write_config(env.config, window="2s",
                   extra="[libvirt]\nenabled = yes\n"
                         "[policy]\nhost-degraded-after = 3/1h\nevacuate = yes\n"
                         "evacuation-order = name\nmax-concurrent-migrations = 1\n"
                         "migrate-peers = test:///nonexistent-peer.xml\n")
    d = env.daemon(extra_args=["--libvirt-uri", f"test://{node}", "--qemu-log-directory", logs])
    d.wait_started()
    d.wait_line(lambda s: "Connected to libvirt" in s, 10, "the libvirt connection")
    mark = d.mark()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    for n in names[:3]:
        with open(os.path.join(logs, f"{n}.log"), "a") as f:
            f.write(f"{stamp} qemu-system-x86_64: Guest MCE Memory Error at QEMU addr "
                    f"0x7f89573ce000 and GUEST addr 0x10b5ce000 of type BUS_MCEERR_AR injected\n")
    d.wait_line(lambda s: "This host is degraded" in s, 10, "the host to be degraded", mark)

    def migrations_done():
        d.drain()
        return len([ln for ln in d.lines[mark:] if "Action migrate" in ln and " failed" in ln]) == 5
    h.poll_until(migrations_done, 30, "an evacuation attempt for all five domains")
    d.stop()
    lines = d.lines[mark:]
    h.check(len([ln for ln in lines if "This host is degraded" in ln]) == 1,
            "the host was reported degraded more than once")
    started = [re.search(r"domain '(vm\d)'", ln).group(1)
               for ln in lines if "Action migrate" in ln and " started" in ln]
    h.check(started == names, f"evacuation order {started}, expected {names}")
    # never two migrations at once: each start comes after the previous end
    inflight = 0
    for ln in lines:
        if "Action migrate" in ln and " started" in ln:
            inflight += 1
            h.check(inflight <= 1, f"two migrations at once at: {ln}")
        elif "Action migrate" in ln and (" failed" in ln or " succeeded" in ln):
            inflight -= 1


# ---- 3. journald ---------------------------------------------------------------


def setup_private_journald(sc):
    """Inside the mount namespace: tmpfs on /run (holding
    /run/systemd/journal and /run/log/journal), on /var/log/journal, and a
    catalog of our own; then journald in the background."""
    journald = h.need_program("systemd-journald", h.JOURNALD_CANDIDATES)
    h.need_program("journalctl")
    h.mount("--make-rprivate", "/")
    # /run/systemd/journal and /run/log/journal may not exist on the host:
    # a private /run holds both without creating anything outside.
    h.mount("-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run")
    for p in ("/run/systemd/journal", "/run/log/journal"):
        os.makedirs(p, exist_ok=True)
        h.mount("-t", "tmpfs", "-o", "mode=0755", "tmpfs", p)
    if h.is_dir("/var/log/journal"):
        h.mount("-t", "tmpfs", "-o", "mode=2755", "tmpfs", "/var/log/journal")
    jlog = open(sc.join("journald.log"), "wb")
    env = dict(os.environ, SYSTEMD_LOG_TARGET="console", SYSTEMD_LOG_LEVEL="info")
    p = sc.spawn([journald], stdin=subprocess.DEVNULL, stdout=jlog, stderr=jlog, env=env)
    h.poll_until(lambda: os.path.exists("/run/systemd/journal/socket") or p.poll() is not None,
                 10, "journald's socket")
    if p.poll() is not None:
        h.fail(f"systemd-journald exited ({p.returncode}): "
               + open(sc.join("journald.log"), errors="replace").read())
    return p


def install_catalog(sc):
    """Our catalog beside systemd's, in a private copy of the catalog
    directory, and a private database. Returns False if that cannot be
    done here."""
    srcdir = None
    for d in ("/usr/lib/systemd/catalog", "/lib/systemd/catalog"):
        if h.is_dir(d):
            srcdir = d
            break
    if srcdir is None or not h.is_dir("/var/lib/systemd/catalog"):
        h.log("no catalog directories: catalog check skipped")
        return False
    copy = sc.mkdir("catalog")
    for f in glob.glob(os.path.join(srcdir, "*.catalog")):
        with open(f, "rb") as a, open(os.path.join(copy, os.path.basename(f)), "wb") as b:
            b.write(a.read())
    with open(CATALOG, "rb") as a, open(os.path.join(copy, "kvm-mced.catalog"), "wb") as b:
        b.write(a.read())
    h.mount("--bind", copy, srcdir)
    h.mount("-t", "tmpfs", "tmpfs", "/var/lib/systemd/catalog")
    r = subprocess.run(["journalctl", "--update-catalog"], capture_output=True, timeout=60)
    if r.returncode != 0:
        h.fail(f"journalctl --update-catalog: {r.stderr.decode(errors='replace')}")
    return True


def journal_entries(*matches):
    r = subprocess.run(["journalctl", "-o", "json", "--no-pager"] + list(matches),
                       capture_output=True, timeout=60)
    if r.returncode not in (0, 1):
        h.fail(f"journalctl: {r.stderr.decode(errors='replace')}")
    return [json.loads(ln) for ln in r.stdout.decode(errors="replace").splitlines() if ln.strip()]


@case("journald", needs_mount_ns=True)
def case_journald(sc, kvm_mced):
    journald = setup_private_journald(sc)
    have_catalog = install_catalog(sc)
    env = Env(sc, kvm_mced)
    live = env.live()
    d = env.daemon(journal_log=True)
    d.wait_started()
    mark = d.mark()
    live.kernel(h.ppc64_guest_ue(12, 4005, 3))
    inc = d.wait_incident(5, "web1's incident to open", mark, event="opened", name="web1")
    closed = d.wait_incident(6, "web1's incident to close", inc.index, event="closed",
                             name="web1")

    match = f"KVM_MCED_INCIDENT={inc.id}"
    entries = h.poll_until(
        lambda: [e for e in journal_entries(match) if e.get("MESSAGE_ID") == MSGID_CLOSED]
        and journal_entries(match), 10, "the daemon's entries in the journal")
    opened = [e for e in entries if e.get("MESSAGE_ID") == MSGID_OPENED]
    h.check(len(opened) == 1, f"{len(opened)} incident-opened entries for {inc.id}, expected 1")
    e = opened[0]
    want = {
        "KVM_MCED_INCIDENT": inc.id,
        "KVM_MCED_DOMAIN": "web1",
        "KVM_MCED_DOMAIN_UUID": UUID_WEB1,
        "KVM_MCED_CLASS": "guest",
        "KVM_MCED_HOST_CPU": "12",
        "KVM_MCED_VCPU": "3",
        "KVM_MCED_ADDRESS": "0x201f3a3c1000",
        "KVM_MCED_SEVERITY": "severe",
        "KVM_MCED_DISPOSITION": "not-recovered",
        "KVM_MCED_ERROR_TYPE": "UE",
        "KVM_MCED_EVENT": "opened",
        "KVM_MCED_OBSERVATIONS": "1",
        "PRIORITY": "3",
    }
    bad = {k: (e.get(k), v) for k, v in want.items() if e.get(k) != v}
    h.check(not bad, f"opened entry fields (got, expected): {bad}\n  entry: {e}")
    h.check(e.get("MESSAGE"), f"opened entry has no MESSAGE: {e}")
    h.check(e["MESSAGE"] in inc.line, f"journal MESSAGE {e['MESSAGE']!r} is not the stderr line")
    h.check(any(x.get("MESSAGE_ID") == MSGID_CLOSED and x.get("KVM_MCED_INCIDENT") == closed.id
                for x in entries), "no incident-closed entry")

    if have_catalog:
        h.log("checking the catalog text with journalctl -x")
        r = subprocess.run(["journalctl", "-x", "--no-pager", f"MESSAGE_ID={MSGID_OPENED}",
                            match], capture_output=True, timeout=60)
        out = r.stdout.decode(errors="replace")
        h.check("Subject: Machine-check incident opened for web1" in out,
                f"journalctl -x does not show the catalog subject:\n{out}")
        h.check(f"journalctl KVM_MCED_INCIDENT={inc.id}" in out,
                f"journalctl -x does not fill in the catalog fields:\n{out}")
    d.stop()
    h.end_process(journald)


# ---- 4. restart-safety -----------------------------------------------------------


RESTART_VMS = [  # name, uuid, pid, vCPUs
    ("vm-a", "11111111-2222-4333-8444-555555555501", 6000, 8),
    ("vm-b", "11111111-2222-4333-8444-555555555502", 6100, 4),
    ("vm-c", None, 6200, 4),
    ("vm-d", "11111111-2222-4333-8444-555555555504", 6300, 16),
]


def restart_fixture(sc, proc, n_entries=10000, n_records=200, seed=20240611):
    """10,000 kernel entries 1 ms apart, about 200 machine-check records
    over four VMs and the host, one boot id. Returns the export bytes."""
    for name, uuid, pid, n in RESTART_VMS:
        proc.add_qemu(pid, name, uuid, {pid + 10 + k: k for k in range(n)})
    rng = random.Random(seed)
    clock = h.ExportClock(live=False)
    # Records start at random entry positions (at least 8 entries apart,
    # so that records of different CPUs do not overlap); sometimes the
    # same domain twice in a row, so incidents get updated.
    starts = sorted(rng.sample(range(20, n_entries - 40, 8), n_records))
    out = []
    i = 0
    prev = None
    for start in starts:
        while i < start:
            out.append(h.kernel_entry(clock, rng.choice(h.UNRELATED), priority=h.INFO))
            i += 1
        if prev is not None and rng.random() < 0.3:
            who = prev
        else:
            who = rng.randrange(len(RESTART_VMS) + 1)
        prev = who
        cpu = rng.randrange(64)
        if who == len(RESTART_VMS):
            lines = h.x86_host_block(cpu=cpu, bank=rng.randrange(20),
                                     addr=f"{rng.getrandbits(36):x}")
            prio = h.EMERG
        else:
            name, uuid, pid, n = RESTART_VMS[who]
            vcpu = rng.randrange(n)
            page = rng.getrandbits(20) << 12
            if rng.random() < 0.5:
                lines = h.ppc64_guest_ue(cpu, pid + 10 + vcpu, vcpu, dar=f"{page:016x}",
                                         paddr=f"{0x201f00000000 + page:016x}")
            else:
                lines = h.ppc64_guest_slb_recovered(cpu, pid + 10 + vcpu, vcpu,
                                                    dar=f"{page:016x}")
            prio = h.ERR
        for ln in lines:
            out.append(h.kernel_entry(clock, ln, priority=prio))
            i += 1
    while i < n_entries:
        out.append(h.kernel_entry(clock, rng.choice(h.UNRELATED), priority=h.INFO))
        i += 1
    return b"".join(out)


def wait_caught_up(d, sdir, last_cursor, timeout):
    """The state file says the daemon has applied the last entry and has
    nothing open. Nothing else signals this, so the file is polled."""
    def done():
        if not d.alive():
            d.fail_with_log("kvm-mced exited while catching up")
        st = h.read_state(sdir)
        return (st is not None and st.get("journal_cursor") == last_cursor
                and not st.get("open_incidents"))
    h.poll_until(done, timeout, "state.json to reach the last entry with nothing open",
                 interval=0.05)


@case("restart-safety")
def case_restart_safety(sc, kvm_mced):
    t_start = time.monotonic()
    env = Env(sc, kvm_mced, window="100ms")
    data = restart_fixture(sc, env.proc)
    h.write_journal(data, os.path.join(env.jdir, "big.journal"))
    last = h.journal_last_cursor(env.jdir)
    h.log(f"journal written in {time.monotonic() - t_start:.1f}s")

    # Reference: one clean run to the end.
    ref_dir = sc.mkdir("state-ref")
    d = env.daemon(state_dir=ref_dir, tag="ref")
    d.wait_started()
    wait_caught_up(d, ref_dir, last, 30)
    d.stop()
    reference = h.read_history(ref_dir)
    n_lines = len(d.incidents())
    h.check(len(reference) >= 50, f"reference history has only {len(reference)} incidents")
    h.log(f"reference: {len(reference)} incidents, {n_lines} incident lines, "
          f"{time.monotonic() - t_start:.1f}s")

    # Crashes. Catching up on 10,000 entries takes about 0.1 s and the
    # daemon writes its state at most once a second, so a run killed after
    # k lines would never have saved anything. Each run is therefore held:
    # its stderr pipe is one page, so it blocks in write(2) a few lines
    # after the harness stops reading. The harness reads k1 incident lines,
    # holds the daemon for HOLD_S (so that its save timer is due when it
    # goes on), then either (a) reads k2 more lines and kills it, which
    # often lands while it appends closed incidents to the history and
    # before it rewrites state.json, or (b) reads until state.json has
    # been replaced (a save completed), then k2 more lines, and kills it.
    # k1, k2 and the mode come from a seeded RNG; (b) makes progress.
    HOLD_S = 1.1
    rng = random.Random(7)
    crash_dir = sc.mkdir("state-crash")
    state_path = os.path.join(crash_dir, "state.json")
    runs = 0
    kills = 0
    while True:
        runs += 1
        h.check(runs <= 40, "no progress to the end after 40 runs")
        h.check(time.monotonic() - t_start < 58, f"over time after {runs} runs")
        d = env.daemon(state_dir=crash_dir, tag=f"crash{runs}", pipe_size=4096)
        d.wait_started()
        k1 = rng.randint(0, 60)
        k2 = rng.randint(1, 30)
        mode = "a" if rng.random() < 0.4 else "b"
        try:
            i = d.wait_n_incident_lines(k1, 3) if k1 else d.mark()
            time.sleep(HOLD_S)  # deliberately held, not waiting for anything
            if mode == "b":
                d.wait_file_replaced(state_path, 5)
                i = d.mark()
            d.wait_n_incident_lines(k2, 3, since=i)
        except h.Failure:
            # Fewer lines than that before the end: this run finishes.
            wait_caught_up(d, crash_dir, last, 20)
            d.stop()
            break
        d.kill9()
        kills += 1
        st = h.read_state(crash_dir) or {}
        h.log(f"run {runs}: mode {mode}, killed after {k1}+{k2} lines; "
              f"{len(h.read_history(crash_dir))} incidents in the history, "
              f"{len(st.get('open_incidents') or [])} open in the state")
    got = h.read_history(crash_dir)
    h.log(f"{runs} runs, {kills} kill -9, {time.monotonic() - t_start:.1f}s")
    if got != reference:
        h.fail(f"history after {kills} crashes differs from the reference:\n"
               + describe_history_diff(reference, got))


def describe_history_diff(reference, got):
    """Which incidents differ and in which keys (the lines are long)."""
    out = []
    if len(reference) != len(got):
        out.append(f"  {len(reference)} incidents in the reference, {len(got)} after crashes")
    ref = [json.loads(ln) for ln in reference]
    new = [json.loads(ln) for ln in got]
    ref_ids = [o.get("id") for o in ref]
    new_ids = [o.get("id") for o in new]
    if ref_ids != new_ids:
        missing = [i for i in ref_ids if i not in new_ids]
        extra = [i for i in new_ids if i not in ref_ids]
        dup = sorted({i for i in new_ids if new_ids.count(i) > 1})
        out.append(f"  ids: missing {missing[:10]}, extra {extra[:10]}, twice {dup[:10]}"
                   + ("" if missing or extra or dup else ", order differs"))
    by_id = {o.get("id"): o for o in new}
    for a in ref:
        b = by_id.get(a.get("id"))
        if b is None or a == b:
            continue
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        detail = []
        for k in keys:
            if k == "observations":
                ca = [o.get("cursor", "")[-18:] for o in a.get(k) or []]
                cb = [o.get("cursor", "")[-18:] for o in b.get(k) or []]
                detail.append(f"observations: {len(ca)} in the reference, {len(cb)} after "
                              f"crashes (missing cursors ...{[c for c in ca if c not in cb]})")
            else:
                detail.append(f"{k}: {a.get(k)!r} != {b.get(k)!r}")
        out.append(f"  {a.get('id')} ({h.incident_domain_name(a)}): " + "; ".join(detail))
    return "\n".join(out[:40])


# ---- 5. attribution -----------------------------------------------------------------


@case("attribution")
def case_attribution(sc, kvm_mced):
    env = Env(sc, kvm_mced, window="500ms")
    p = env.proc
    p.add_qemu(6000, "alpha", "aaaaaaaa-0000-4000-8000-000000000001", {6002: 0, 6003: 1},
               start_time=2000)
    p.add_qemu(7000, "beta", "bbbbbbbb-0000-4000-8000-000000000002", {7002: 0, 7003: 1},
               start_time=3000)
    p.add_other(9000, ["/usr/sbin/sshd", "-D"], "sshd")
    live = env.live()
    d = env.daemon()
    d.wait_started()

    # alpha dies (seen at the start, gone now); beta dies and its pid goes
    # to a new VM, gamma; delta starts after the daemon did.
    p.remove(6000)
    p.remove(7000)
    p.add_qemu(7000, "gamma", "cccccccc-0000-4000-8000-000000000003", {7010: 0, 7011: 1},
               start_time=9000)
    p.add_qemu(8000, "delta", None, {8010 + k: k for k in range(6)}, start_time=9500)

    checks = [
        # (tid, vcpu, expected domain or None for the host, why)
        (6003, 1, "alpha", "a QEMU process that died after the start"),
        (7011, 1, "gamma", "the VM that reused beta's pid"),
        (7003, 1, "beta", "beta's own (dead) thread after its pid was reused"),
        (8015, 5, "delta", "a VM started after the daemon"),
        (4009, 7, "web1", "a live VM's CPU 7/KVM thread"),
        (9000, 0, None, "a thread that is no QEMU's"),
    ]
    seen = {}
    for n, (tid, vcpu, want, why) in enumerate(checks):
        mark = d.mark()
        live.kernel(h.ppc64_guest_ue(20 + n, tid, vcpu))
        inc = d.wait_incident(5, f"an incident for thread {tid} ({why})", mark, event="opened")
        got = None if inc.host else inc.name
        h.check(got == want, f"thread {tid} ({why}) attributed to {got!r} ({inc!r}), "
                             f"expected {want!r}")
        seen[inc.id] = (want, vcpu)
        d.wait_incident(5, f"the incident of thread {tid} to close", inc.index, event="closed")
    d.stop()
    hist = h.history_objects(env.sdir)
    h.check([o.get("id") for o in hist] == list(seen),
            f"history ids {[o.get('id') for o in hist]}, expected {list(seen)}")
    for o in hist:
        want, vcpu = seen[o["id"]]
        if want is not None and "vcpus" in o:
            h.check(o["vcpus"] == [vcpu], f"{want}: vcpus {o['vcpus']}, expected [{vcpu}]")
    dom = by_name(hist)
    h.check(h.incident_domain_name(dom["gamma"]) == "gamma", "gamma missing")
    h.check(dom["gamma"].get("domain_uuid") == "cccccccc-0000-4000-8000-000000000003",
            f"gamma's uuid in the history: {dom['gamma'].get('domain_uuid')}")
    h.check(dom["gamma"].get("pid") == 7000, f"gamma's pid: {dom['gamma'].get('pid')}")


# ---- 6. bad-input ---------------------------------------------------------------------


@case("bad-input")
def case_bad_input(sc, kvm_mced):
    env = Env(sc, kvm_mced)
    live = env.live()
    d = env.daemon()
    d.wait_started()
    mark = d.mark()
    clk = live.clock
    rng = random.Random(99)
    bad = [
        # binary MESSAGE: NUL and invalid UTF-8 inside a machine-check record
        h.kernel_entry(clk, "MCE: CPU7: machine check (Severe) Guest UE Load/Store DAR: "
                            "00007fff00002000 paddr: 0000000a00002000 [Not recovered]"),
        h.kernel_entry(clk, b"MCE: CPU7: PID: 31337 Comm: qemu\xff\xfe-kvm Guest NIP: "
                            b"[c000000000001234]"),
        h.kernel_entry(clk, b"MCE: CPU7: Initiator CPU\x00 trailing \xc3\x28"),
        h.kernel_entry(clk, b"\x00\x00\x00"),
        h.kernel_entry(clk, bytes(rng.getrandbits(8) for _ in range(4096))),
        h.kernel_entry(clk, b"MCE: CPU\xff\xff: machine check (\x00) \xe2\x82"),
        # no MESSAGE; empty MESSAGE; no SYSLOG_FACILITY; odd facilities
        h.kernel_entry(clk, None),
        h.kernel_entry(clk, ""),
        h.kernel_entry(clk, h.ppc64_guest_ue(9, 4004, 2)[0], facility=None),
        h.kernel_entry(clk, h.ppc64_guest_ue(9, 4004, 2)[0], facility="00"),
        h.kernel_entry(clk, h.ppc64_guest_ue(9, 4004, 2)[0], facility=""),
        # a 1 MiB MESSAGE that starts like a machine-check line
        h.kernel_entry(clk, "MCE: CPU5: machine check (Severe) Guest UE Load/Store DAR: "
                            + "A" * (1 << 20)),
        # truncated record (summary and PID only), then a continuation
        # with no record, then garbage in every numeric slot
        h.kernel_entry(clk, "MCE: CPU21: machine check (Fatal) Host UE Load/Store DAR: "
                            "00007fff00005000 paddr: 0000000d00005000 [Not recovered]"),
        h.kernel_entry(clk, "MCE: CPU21: PID: 99999999999999999999999 Comm: x Guest NIP: [zz]"),
        h.kernel_entry(clk, "MCE: CPU30: Initiator CPU"),
        h.kernel_entry(clk, "MCE: CPU99999999999999999999: machine check (Severe) Guest UE "
                            "Load/Store DAR: ffffffffffffffffffff [Not recovered]"),
        h.kernel_entry(clk, "mce: [Hardware Error]: CPU 99999999999: Machine Check: 0 Bank "
                            "-1: zz"),
    ]
    # A whole genuine-looking record for web1 with the user facility, as
    # /dev/kmsg writers produce it but with the identifier left "kernel":
    # still not the kernel's, never acted on.
    for ln in h.ppc64_guest_ue(3, 4005, 3):
        bad.append(h.kernel_entry(clk, ln, facility="1", identifier="kernel"))
    for ln in h.ppc64_guest_ue(3, 4005, 3):
        bad.append(h.injected_entry(clk, ln[len("MCE: "):]))
    live.write(b"".join(bad))
    # Let whatever half-records there are complete (record timeout 200 ms)
    # by time, then the valid record for db1.
    live.kernel(h.UNRELATED[:2], priority=h.INFO)
    live.kernel(h.ppc64_guest_ue(40, 5005, 3))
    inc = d.wait_incident(10, "db1's incident to open after the bad input", mark,
                          event="opened", name="db1")
    h.check(inc.klass == "guest", f"db1's incident has class {inc.klass}")
    d.check_alive("after bad input")
    d.wait_incident(6, "db1's incident to close", inc.index, event="closed", name="db1")
    web1 = [i for i in d.incidents(mark) if i.name == "web1"]
    h.check(not web1, f"user-facility or unverified lines opened incidents: {web1}")
    d.stop()
    names = [h.incident_domain_name(o) for o in h.history_objects(env.sdir)]
    h.check("db1" in names, f"history has no db1 incident: {names}")
    h.check("web1" not in names, f"history has a web1 incident: {names}")


# ---- 7. state-dir ------------------------------------------------------------------------


@case("state-dir", needs_mount_ns=True)
def case_state_dir(sc, kvm_mced):
    """A read-only state directory (a read-only tmpfs in a private mount
    namespace), made writable while the daemon runs."""
    env = Env(sc, kvm_mced)
    h.mount("--make-rprivate", "/")
    h.mount("-t", "tmpfs", "-o", "ro,mode=0755", "tmpfs", env.sdir)
    sc.add_cleanup(lambda: subprocess.run(["umount", "-l", env.sdir]))
    live = env.live()
    d = env.daemon()
    d.wait_started()
    mark = d.mark()
    live.kernel(h.ppc64_guest_ue(12, 4005, 3))
    inc = d.wait_incident(5, "web1's incident to open", mark, event="opened", name="web1")
    # The first save is due about 1 s later: it must fail, be said, and
    # the daemon must go on.
    _, line = d.wait_line(lambda s: env.sdir in s and "incident" not in s, 10,
                          "a line about the read-only state directory", mark)
    h.log(f"read-only: {line}")
    d.check_alive("with a read-only state directory")
    d.wait_incident(6, "web1's incident to close", inc.index, event="closed", name="web1")
    h.check(not os.listdir(env.sdir), "files appeared in a read-only directory")

    # The directory becomes writable: the daemon saves and says so.
    mark = d.mark()
    h.mount("-o", "remount,rw", env.sdir)
    _, line = d.wait_line(lambda s: env.sdir in s, 10,
                          "a line saying the state directory works again", mark)
    h.log(f"writable: {line}")
    st = h.poll_until(lambda: h.read_state(env.sdir), 5, "state.json")
    h.check(st.get("journal_cursor"), "state.json has no cursor after recovery")
    hist = h.history_objects(env.sdir)
    h.check([o.get("id") for o in hist] == [inc.id],
            f"history after recovery {[o.get('id') for o in hist]}, expected [{inc.id}]")
    d.stop()


@case("state-dir-corrupt")
def case_state_dir_corrupt(sc, kvm_mced):
    env = Env(sc, kvm_mced)
    with open(os.path.join(env.sdir, "state.json"), "w") as f:
        f.write('{"version": 1, "journal_cursor": "s=1;i=2", "open_incidents": [')
    live = env.live()
    d = env.daemon()
    d.wait_started()
    bad = glob.glob(os.path.join(env.sdir, "state.json.bad-*"))
    h.check(len(bad) == 1, f"corrupt state.json not moved aside: {os.listdir(env.sdir)}")
    _, line = d.wait_line(lambda s: "state.json" in s, 1, "a message about the corrupt state")
    h.log(f"corrupt: {line}")
    with open(bad[0]) as f:
        h.check(f.read().endswith('"open_incidents": ['), "the moved file is not the old one")
    mark = d.mark()
    live.kernel(h.ppc64_guest_ue(12, 4005, 3))
    d.wait_incident(5, "web1's incident to open", mark, event="opened", name="web1")
    d.stop()
    st = h.read_state(env.sdir)
    h.check(st is not None and st.get("journal_cursor"), "no valid state.json after the stop")


@case("state-dir-unreadable")
def case_state_dir_unreadable(sc, kvm_mced):
    """A state directory path under a regular file: the state cannot even
    be read. lib/mced-state.h: mced_store_load() fails only then, and the
    daemon refuses to start with an error naming the path (status 2), not
    a crash and not a silent start from empty state."""
    env = Env(sc, kvm_mced)
    blocker = sc.join("not-a-dir")
    with open(blocker, "w") as f:
        f.write("a regular file\n")
    sdir = os.path.join(blocker, "state")
    d = env.daemon(state_dir=sdir)
    _, line = d.wait_line(lambda s: sdir in s, 15, "a line about the state directory")
    h.log(f"unreadable: {line}")
    rc = d.wait_exit()
    h.check(rc == 2, f"kvm-mced exited with {rc} on an unreadable state directory, expected 2")
    h.check(not any(d.STARTUP_RE.match(ln) for ln in d.lines),
            "kvm-mced started although its state could not be read")


# ---- 8. sighup -----------------------------------------------------------------------------


@case("sighup")
def case_sighup(sc, kvm_mced):
    env = Env(sc, kvm_mced, window="2s")
    live = env.live()
    d = env.daemon()
    d.wait_started()

    def window_of_next_incident(cpu):
        mark = d.mark()
        live.kernel(h.ppc64_guest_ue(cpu, 4005, 3))
        inc = d.wait_incident(5, "web1's incident to open", mark, event="opened", name="web1")
        t0 = time.monotonic()
        d.wait_incident(6, "web1's incident to close", inc.index, event="closed", name="web1")
        return time.monotonic() - t0

    # A bad configuration: the old one (2 s window) stays.
    with open(env.config, "w") as f:
        f.write("[daemon]\ncorrelation-window = 300ms\nrecord-timeout = 200ms\n"
                "correlation-windw = 1s\n")
    mark = d.mark()
    d.signal(signal.SIGHUP)
    _, line = d.wait_line("Reload failed", 5, "'Reload failed'", mark)
    h.check(f"{env.config}:4: [daemon] correlation-windw" in line,
            f"the reload error does not name file:line: [group] key: {line}")
    d.check_alive("after a bad reload")
    w = window_of_next_incident(12)
    h.check(w >= 1.7, f"incident closed {w:.2f}s after opening: the bad config was applied")

    # A good one is applied.
    h.write_config(env.config, window="300ms")
    mark = d.mark()
    d.signal(signal.SIGHUP)
    d.wait_line("reloaded", 5, "'Configuration reloaded'", mark)
    w = window_of_next_incident(13)
    h.check(w < 1.2, f"incident closed {w:.2f}s after opening: the new 300ms window "
                     "was not applied")
    d.stop()


# ---- runner ------------------------------------------------------------------------------


def main(argv):
    if len(argv) >= 2 and argv[1] == "--list":
        for name, _, _ in CASES:
            print(name)
        return 0
    if len(argv) != 4 or argv[1] != "--kvm-mced":
        print("usage: cases.py --list | --kvm-mced PATH CASE", file=sys.stderr)
        return 2
    kvm_mced, name = os.path.abspath(argv[2]), argv[3]
    found = [c for c in CASES if c[0] == name]
    if not found:
        print(f"unknown case {name}", file=sys.stderr)
        return 2
    _, fn, needs_ns = found[0]
    sc = None
    t0 = time.monotonic()
    try:
        if not os.access(kvm_mced, os.X_OK):
            h.fail(f"{kvm_mced} is not an executable")
        if needs_ns:
            h.in_mount_namespace()
        sc = h.Scratch(name)
        fn(sc, kvm_mced)
    except h.Skip as e:
        print(f"SKIP {e}", flush=True)
        return h.EXIT_SKIP
    except Exception as e:
        if sc is not None:
            sc.failed = True
        if isinstance(e, h.Failure):
            print(f"FAIL {name}: {e}", flush=True)
        else:
            traceback.print_exc()
            print(f"FAIL {name}: {e!r}", flush=True)
        return 1
    finally:
        if sc is not None:
            sc.close()
    print(f"PASS {name} ({time.monotonic() - t0:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
