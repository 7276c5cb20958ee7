#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Quick start on a fresh Debian 12, as root, from the top of the source tree:
#
#     contrib/quickstart.sh
#
# installs the build dependencies, builds into build/, and replays the
# sample host log in tests/data/sample/ so you can see what kvm-mced makes
# of a host's kernel log. Nothing is installed outside the package manager
# and build/.
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
