#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The daemon benchmarks (DESIGN.md section 10; method and figures in
# docs/benchmarks.md): idle CPU and wakeups, journal append -> D-Bus signal
# latency, a 100k-line storm over 1000 domains, --replay against
# `journalctl -o cat` over 1M journal entries, and startup to READY=1 with
# 1000 domains. One line per figure; a count that differs from what was
# expected is printed as "MISMATCH ..." and makes the exit status 1.
#
# Runs the already-built daemon (default build/daemon/kvm-mced; build it with
# `meson setup build && ninja -C build`), as root, under `nice`. Arguments go
# to tests/bench/bench-daemon.py, e.g.
#
#   contrib/bench-daemon.sh                      # everything, about 2 minutes
#   contrib/bench-daemon.sh --only idle --idle-seconds 10
#   contrib/bench-daemon.sh --kvm-mced build-x/daemon/kvm-mced --only storm,latency
#
# `--help` lists the sizes. Not a test: nothing here passes or fails on a
# figure.
set -euo pipefail

cd "$(dirname "$0")/.."
exec nice -n "${BENCH_NICE:-10}" python3 tests/bench/bench-daemon.py "$@"
