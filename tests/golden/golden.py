#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Golden tests for `kvm-mced --replay INPUT --json`.

    golden.py --list DIR
        Print the input files in DIR (*.txt, *.log, *.export, *.jsonl), one
        per line.
        tests/golden/meson.build registers one meson test per name.

    golden.py --kvm-mced PATH INPUT
        Replay INPUT and compare stdout with INPUT's .json file and stderr
        (the summary line) with its .stderr file, both next to INPUT with the
        input suffix replaced (journal-kernel.export -> journal-kernel.json,
        journal-kernel.stderr). Prints a unified diff and fails on mismatch.

        *.export inputs (Journal Export Format) are first written into a
        journal file with systemd-journal-remote; the test is skipped (exit
        77) only if that program is missing.

        *.jsonl inputs are captured QMP event streams, replayed with
        `--domain golden-vm`.

        With MCED_TEST_REGENERATE=1 the expected files are rewritten instead.
        Review every regenerated file against its input before committing.

Outputs are made independent of where the test runs: text inputs are
replayed from their own directory under their base name (cursors read
"NAME:LINE"), and the random seqnum id that systemd-journal-remote gives
each new journal file is replaced by SEQNUM_ID in journal cursors.
"""

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

INPUT_SUFFIXES = (".txt", ".log", ".export", ".jsonl")
QMP_SUFFIX = ".jsonl"
QMP_DOMAIN = "golden-vm"
EXIT_SKIP = 77
JOURNAL_REMOTE_CANDIDATES = (
    "/lib/systemd/systemd-journal-remote",
    "/usr/lib/systemd/systemd-journal-remote",
)
SEQNUM_ID_RE = re.compile(r"\bs=[0-9a-f]{32};")
TIMEOUT_S = 120


def expected_paths(input_path):
    stem, _ = os.path.splitext(input_path)
    return stem + ".json", stem + ".stderr"


def list_inputs(directory):
    names = sorted(n for n in os.listdir(directory) if n.endswith(INPUT_SUFFIXES))
    stems = {}
    for name in names:
        stem = os.path.splitext(name)[0]
        if stem in stems:
            print(
                f"golden: {name} and {stems[stem]} would share expected files; rename one",
                file=sys.stderr,
            )
            return 1
        stems[stem] = name
    for name in names:
        print(name)
    return 0


def find_journal_remote():
    for path in JOURNAL_REMOTE_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("systemd-journal-remote")


def run(argv, cwd=None):
    return subprocess.run(argv, cwd=cwd, capture_output=True, timeout=TIMEOUT_S, check=False)


def normalize(data):
    return SEQNUM_ID_RE.sub("s=SEQNUM_ID;", data.decode("utf-8", errors="surrogateescape"))


def check_json_lines(text):
    """Every stdout line must be one JSON object in valid UTF-8."""
    problems = []
    for lineno, line in enumerate(text.splitlines(), 1):
        try:
            line.encode("utf-8")
            obj = json.loads(line)
        except (UnicodeEncodeError, ValueError) as e:
            problems.append(f"stdout line {lineno}: not valid JSON/UTF-8: {e}")
            continue
        if not isinstance(obj, dict):
            problems.append(f"stdout line {lineno}: not a JSON object")
    return problems


def compare(label, expected_path, actual, regenerate):
    if regenerate:
        with open(expected_path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(actual)
        print(f"golden: wrote {expected_path}")
        return True
    try:
        with open(expected_path, encoding="utf-8", errors="surrogateescape") as f:
            expected = f.read()
    except FileNotFoundError:
        print(
            f"golden: {expected_path} is missing; run with MCED_TEST_REGENERATE=1, "
            "then review it against the input",
            file=sys.stderr,
        )
        return False
    if expected == actual:
        return True
    print(f"golden: {label} differs from {expected_path}:")
    sys.stdout.writelines(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=expected_path,
            tofile=f"{label} (actual)",
        )
    )
    return False


def replay(kvm_mced, input_path, tmpdir):
    if input_path.endswith(".export"):
        journal_remote = find_journal_remote()
        if journal_remote is None:
            print(
                "SKIP: systemd-journal-remote not found, cannot write a journal from "
                f"{os.path.basename(input_path)} (Debian: apt-get install systemd-journal-remote)"
            )
            sys.exit(EXIT_SKIP)
        journal = os.path.join(tmpdir, "x.journal")
        res = run([journal_remote, "-o", journal, input_path])
        if res.returncode != 0 or not os.path.exists(journal):
            sys.stderr.write(res.stderr.decode("utf-8", errors="replace"))
            print(f"golden: systemd-journal-remote failed on {input_path}", file=sys.stderr)
            sys.exit(1)
        return run([kvm_mced, "--replay", journal, "--json"])
    directory, name = os.path.split(input_path)
    argv = [kvm_mced, "--replay", name, "--json"]
    if input_path.endswith(QMP_SUFFIX):
        argv += ["--domain", QMP_DOMAIN]
    return run(argv, cwd=directory or ".")


def check_input(kvm_mced, input_path):
    regenerate = os.environ.get("MCED_TEST_REGENERATE") == "1"
    input_path = os.path.abspath(input_path)
    json_path, stderr_path = expected_paths(input_path)

    with tempfile.TemporaryDirectory(prefix="mced-golden-") as tmpdir:
        res = replay(kvm_mced, input_path, tmpdir)

    stdout = normalize(res.stdout)
    stderr = normalize(res.stderr)
    if res.returncode != 0:
        sys.stderr.write(stderr)
        print(f"golden: kvm-mced exited with {res.returncode}", file=sys.stderr)
        return 1

    problems = check_json_lines(stdout)
    for p in problems:
        print(f"golden: {p}", file=sys.stderr)

    ok = compare("stdout", json_path, stdout, regenerate)
    ok = compare("stderr", stderr_path, stderr, regenerate) and ok
    return 0 if ok and not problems else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--list", metavar="DIR", help="print the golden inputs in DIR")
    parser.add_argument("--kvm-mced", metavar="PATH", help="the built kvm-mced")
    parser.add_argument("input", nargs="?", help="input file to replay")
    args = parser.parse_args()

    if args.list is not None:
        return list_inputs(args.list)
    if args.kvm_mced is None or args.input is None:
        parser.error("need --list DIR, or --kvm-mced PATH INPUT")
    return check_input(os.path.abspath(args.kvm_mced), args.input)


if __name__ == "__main__":
    sys.exit(main())
