#!/bin/bash
# Install the build into a scratch DESTDIR and check the tree as a
# distribution package would ship it: every file where systemd, journald
# and the admin look for it; the unit passes `systemd-analyze verify` and
# its sandbox scores below 2.0 in `systemd-analyze security`; the catalog
# compiles and carries every MESSAGE_ID the daemon logs; the shipped
# configuration validates with the installed daemon.
# Usage: check-install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
for p in systemd-analyze journalctl man; do
    command -v "$p" >/dev/null || { echo "SKIP $p is not installed (apt-get install systemd man-db)"; exit 77; }
done
dest=$(mktemp -d /tmp/mced-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

meson install -C "$build" --no-rebuild --quiet --destdir "$dest" >/dev/null

introspect() { meson introspect "$build" --buildoptions |
    python3 -c "import json,sys; print({o['name']: o['value'] for o in json.load(sys.stdin)}['$1'])"; }
prefix=$(introspect prefix)
sbindir=$(introspect sbindir)
sysconfdir=$(introspect sysconfdir)
case $sbindir in /*) ;; *) sbindir=$prefix/$sbindir ;; esac
case $sysconfdir in /*) ;; *) sysconfdir=$prefix/$sysconfdir ;; esac

unit=$(find "$dest" -name kvm-mced.service -path '*/systemd/system/*')
catalog=$(find "$dest" -name kvm-mced.catalog -path '*/systemd/catalog/*')
[ -n "$unit" ] || fail "no kvm-mced.service under a systemd/system directory"
[ -n "$catalog" ] || fail "no kvm-mced.catalog under a systemd/catalog directory"
[ -x "$dest$sbindir/kvm-mced" ] || fail "no executable $sbindir/kvm-mced"
[ -f "$dest$sysconfdir/kvm-mced/kvm-mced.conf" ] || fail "no $sysconfdir/kvm-mced/kvm-mced.conf"
[ -d "$dest$sysconfdir/kvm-mced/conf.d" ] || fail "no conf.d directory"
[ "$(stat -c %a "$dest$sysconfdir/kvm-mced/hooks.d")" = 700 ] || fail "hooks.d is not mode 0700"
grep -q "^ExecStart=$sbindir/kvm-mced\$" "$unit" || fail "ExecStart does not name $sbindir/kvm-mced"

# The unit as systemd reads it. ExecStart is relocated into DESTDIR, as the
# binary is not installed on this machine; everything else is as shipped.
scratch=$dest/verify
mkdir -p "$scratch"
sed "s|^ExecStart=|ExecStart=$dest|" "$unit" >"$scratch/kvm-mced.service"
# verify exits 0 on unknown keys and bad values: any output is a failure.
if ! systemd-analyze verify --man=no "$scratch/kvm-mced.service" 2>"$scratch/verify.err" ||
    [ -s "$scratch/verify.err" ]; then
    cat "$scratch/verify.err" >&2
    fail "systemd-analyze verify"
fi
if ! systemd-analyze security --offline=true --threshold=19 "$scratch/kvm-mced.service" >"$scratch/security"; then
    tail -n 1 "$scratch/security" >&2
    fail "the unit's exposure is 2.0 or more"
fi
tail -n 1 "$scratch/security"

# The catalog compiles, and every MESSAGE_ID the daemon uses is in it.
journalctl --root="$dest" --update-catalog || fail "journalctl --update-catalog"
journalctl --root="$dest" --list-catalog >"$scratch/catalog"
ids=$(grep -oE '^#define MCED_MSGID_[A-Z_]+ +"[0-9a-f]{32}"' "$src/daemon/mced-names.h" |
      grep -oE '[0-9a-f]{32}' | sort -u)
n=0
for id in $ids; do
    grep -q "^$id " "$scratch/catalog" || fail "MESSAGE_ID $id has no catalog entry"
    n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "found no MESSAGE_IDs in mced-names.h"
echo "catalog: $n MESSAGE_IDs, each with an entry"

policy=$(find "$dest" -name org.kvm_mced.Manager1.conf -path '*/dbus-1/system.d/*')
[ -n "$policy" ] || fail "no D-Bus policy under a dbus-1/system.d directory"
python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$policy" ||
    fail "the D-Bus policy is not well-formed XML"

# The manual pages render without a warning.
mandir=$(introspect mandir)
case $mandir in /*) ;; *) mandir=$prefix/$mandir ;; esac
for page in man8/kvm-mced.8 man5/kvm-mced.conf.5 man1/kvm-mcectl.1; do
    [ -f "$dest$mandir/$page" ] || fail "no $mandir/$page"
    grep -q '@VERSION@' "$dest$mandir/$page" && fail "$page: the version was not filled in"
    if command -v man >/dev/null; then
        LC_ALL=C MANWIDTH=80 man -l "$dest$mandir/$page" 2>"$scratch/man.err" >"$scratch/man.out" ||
            fail "man -l $page"
        [ -s "$scratch/man.err" ] && { cat "$scratch/man.err" >&2; fail "man -l $page warned"; }
        grep -q "NAME" "$scratch/man.out" || fail "$page rendered without a NAME section"
    fi
done

# kvm-mcectl and its bash completion.
bindir=$(introspect bindir)
case $bindir in /*) ;; *) bindir=$prefix/$bindir ;; esac
[ -x "$dest$bindir/kvm-mcectl" ] || fail "no executable $bindir/kvm-mcectl"
completion=$(find "$dest" -path '*/bash-completion/completions/kvm-mcectl')
[ -n "$completion" ] || fail "no bash completion for kvm-mcectl"
got=$(bash -c 'source "$1"; compopt() { :; }; COMP_WORDS=(kvm-mcectl inc); COMP_CWORD=1
               _kvm_mcectl; echo "${COMPREPLY[*]}"' _ "$completion")
[ "$got" = incidents ] || fail "completion of 'kvm-mcectl inc' gave '$got'"
got=$(bash -c 'source "$1"; compopt() { :; }; COMP_WORDS=(kvm-mcectl drill --class=f); COMP_CWORD=2
               _kvm_mcectl; echo "${COMPREPLY[*]}"' _ "$completion")
[ "$got" = --class=fatal ] || fail "completion of 'kvm-mcectl drill --class=f' gave '$got'"

# The libvirt hook: where libvirtd looks, executable, pointing at the
# installed kvm-mcectl; it never fails libvirt's operation and never writes
# on stdout (libvirt would take that as a new domain XML), even with no
# daemon and no bus to talk to.
hook="$dest$sysconfdir/libvirt/hooks/qemu.d/kvm-mced"
[ -x "$hook" ] || fail "no executable libvirt hook at $sysconfdir/libvirt/hooks/qemu.d/kvm-mced"
sh -n "$hook" || fail "the libvirt hook is not valid sh"
grep -q "^ *$bindir/kvm-mcectl libvirt-hook " "$hook" || fail "the hook does not run $bindir/kvm-mcectl"
sed "s|$bindir/kvm-mcectl|$dest$bindir/kvm-mcectl|" "$hook" > "$dest/hook-test"
for op in "prepare begin" "started begin" "stopped end" "migrate begin"; do
    # shellcheck disable=SC2086
    out=$(echo "<domain><name>vm</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid></domain>" |
          DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus sh "$dest/hook-test" vm $op -) ||
        fail "the libvirt hook failed for '$op'"
    [ -z "$out" ] || fail "the libvirt hook wrote on stdout for '$op': $out"
done

"$dest$sbindir/kvm-mced" --check-config --config "$dest$sysconfdir/kvm-mced/kvm-mced.conf" ||
    fail "the shipped configuration does not validate"
echo "installed tree OK"
