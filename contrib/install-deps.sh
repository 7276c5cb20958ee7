#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install everything the build and the test suites need on Debian 12, with
# apt-get, non-interactively. Idempotent: when every package is already
# installed it touches nothing (no apt-get update), so it also works for a
# non-root user on a prepared machine.
#
# Some packages are for test suites that are still to come (a private
# libvirtd with QEMU TCG guests, a private dbus-daemon); they are listed now
# so that the set does not move under later work.
set -euo pipefail

packages=(
    # build
    build-essential meson ninja-build pkg-config gcc
    clang llvm lld libclang-rt-14-dev # clang build, ASan/UBSan, libFuzzer
    libglib2.0-dev libjson-c-dev libsystemd-dev libvirt-dev libvirt-glib-1.0-dev
    # tests and tools
    python3 valgrind libc6-dbg clang-format
    systemd systemd-journal-remote # journal fixtures, a private journald
    # integration and system tests: a private libvirtd with QEMU TCG guests
    # (never libvirt-daemon-system: it pulls in polkitd and iptables and may
    # start a global libvirtd; tests/system creates the libvirt-qemu account)
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
    qemu-system-x86 qemu-system-ppc qemu-utils dbus
    util-linux man-db # setpriv for unprivileged D-Bus callers; man -l for the pages
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages already installed"
    exit 0
fi

echo "install-deps: missing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: not root, cannot install. As root, run:" >&2
    echo "    apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run rather than failing on its lock.
apt_opts=(-q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}" </dev/null
echo "install-deps: installed ${#missing[@]} packages"
