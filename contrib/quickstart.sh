#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Quick start on a fresh Debian 12, as root, from the top of the source tree:
#
#     contrib/quickstart.sh
#
# installs the build dependencies, builds into build/, replays the sample
# host log in tests/data/sample/ so you can see what kvm-mced makes of a
# host's kernel log, and then runs the daemon itself for a few seconds on
# an embedded default: libvirt's in-process test:/// driver, a journal made
# from the bundled sample kernel events, and a QEMU log for the test
# driver's domain. Nothing is installed outside the package manager and
# build/; the daemon's state goes to a temporary directory.
set -euo pipefail

cd "$(dirname "$0")/.."

sample=tests/data/sample/host-sample.log

if [ -x contrib/install-deps.sh ]; then
    contrib/install-deps.sh
else
    if [ "$(id -u)" -ne 0 ]; then
        echo "quickstart: run as root to install build dependencies with apt-get" >&2
        exit 1
    fi
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        meson ninja-build pkg-config gcc libglib2.0-dev libjson-c-dev libsystemd-dev \
        libvirt-dev libvirt-glib-1.0-dev
fi

if [ ! -f build/build.ninja ]; then
    meson setup build
fi
ninja -C build

echo
echo "quickstart: replaying $sample"
echo
build/daemon/kvm-mced --replay "$sample"
echo
echo "quickstart: for one JSON object per observation, run: build/daemon/kvm-mced --replay $sample --json"

# ---- the daemon on test:/// ---------------------------------------------
demo=$(mktemp -d /tmp/kvm-mced-quickstart.XXXXXX)
trap 'kill "$pid" "$bus_pid" 2>/dev/null || true; rm -rf "$demo"' EXIT
mkdir -p "$demo/journal" "$demo/state" "$demo/qemu"
/lib/systemd/systemd-journal-remote -o "$demo/journal/sample.journal" \
    tests/data/golden/journal-kernel.export 2>/dev/null
: > "$demo/qemu/test.log"
printf '[daemon]\ncorrelation-window = 2s\n[libvirt]\nuri = test:///default\n' > "$demo/kvm-mced.conf"

# A bus of its own for the D-Bus API and kvm-mcectl (a session-type bus:
# the system bus and its policy file are for an installed kvm-mced).
dbus-daemon --session --nofork --address="unix:path=$demo/bus" --print-address=1 \
    > "$demo/bus.address" &
bus_pid=$!
for _ in $(seq 100); do [ -s "$demo/bus.address" ] && break; sleep 0.1; done
bus="unix:path=$demo/bus"
ctl() { echo "\$ kvm-mcectl $*"; build/daemon/kvm-mcectl --bus-address="$bus" "$@"; echo; }

echo
echo "quickstart: running the daemon on libvirt's test:///default driver"
echo
build/daemon/kvm-mced --config "$demo/kvm-mced.conf" --state-directory "$demo/state" \
    --journal-directory "$demo/journal" --qemu-log-directory "$demo/qemu" \
    --bus-address "$bus" --no-journal-log 2> >(tee "$demo/daemon.log" >&2) &
pid=$!

# Wait for the daemon to say it is connected (no fixed sleeps), then have
# "QEMU" report a guest memory error for the test driver's domain.
for _ in $(seq 100); do
    grep -q "Connected to libvirt" "$demo/daemon.log" 2>/dev/null && break
    sleep 0.1
done
echo "$(date -u +%Y-%m-%dT%H:%M:%S.000000Z) qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f89573ce000 and GUEST addr 0x10b5ce000 of type BUS_MCEERR_AR injected" \
    >> "$demo/qemu/test.log"
for _ in $(seq 100); do
    grep -q "closed for domain 'test'" "$demo/daemon.log" 2>/dev/null && break
    sleep 0.1
done

echo
echo "quickstart: what an operator sees (kvm-mcectl, over the D-Bus API)"
echo
ctl status
ctl incidents
ctl drill --domain=test --class=fatal
for _ in $(seq 100); do
    grep -q "\[drill\] Machine-check incident .* closed" "$demo/daemon.log" 2>/dev/null && break
    sleep 0.1
done
ctl incidents
kill -TERM "$pid"
wait "$pid" || true

echo
echo "quickstart: the incident history the daemon wrote (history.jsonl in its state directory):"
python3 - "$demo/state/history.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    who = o["domain"] or "the host"
    print(f"  {o['id']}  {who:10} {o['class']:9} {o['n_observations']} observation(s), "
          f"addresses {', '.join(o['addresses']) or '-'}"
          + ("  (drill)" if o.get("synthetic") else ""))
PY
