#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check-source.sh SRCROOT: reject the calls and includes kvm-mced does not
# want in daemon/, lib/ and kernel/ (*.c, *.h). Prints file:line: reason for
# each hit and exits 1 if there was any. Comments and string literals are
# blanked out before matching, so a comment may name a banned call.
#
# Banned everywhere, with the reason printed:
#   sprintf vsprintf strcpy strcat gets      unbounded writes
#   atoi atol atoll strtol strtoul strtoull  unchecked numbers
#   g_error                                  aborts the daemon
#   sleep usleep g_usleep                    wait for the event instead
#   getenv secure_getenv g_getenv            only in *mced-paths.c, the one
#                                            table of injectable roots
#   exit _exit                               only in a file that defines
#                                            main(), on a line that says EXIT_
# Layering (DESIGN.md section 3):
#   kernel/, lib/: no <libvirt...>, no <systemd/...>
#   kernel/:       no <json-c/...>, no <json.h>
set -u

root=${1:-.}
cd "$root" || exit 2

files=$(find daemon lib kernel -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | LC_ALL=C sort)
if [ -z "$files" ]; then
    echo "check-source: no sources under $root/{daemon,lib,kernel}" >&2
    exit 2
fi

# shellcheck disable=SC2086
awk '
function report(msg) {
    printf "%s:%d: %s\n", FILENAME, FNR, msg
    bad++
}
FNR == 1 {
    in_comment = 0
    is_main = 0
    path = FILENAME
    is_paths = (path ~ /mced-paths\.c$/)
    layer = path
    sub(/\/.*/, "", layer)
    # Does this file define main()? The house style puts the return type on
    # its own line; accept "int main(" too.
    cmd = "grep -Eqs \"^(int[[:space:]]+)?main[[:space:]]*\\(\" \"" path "\""
    is_main = (system(cmd) == 0)
}
{
    raw = $0
    # Blank out comments and string/char literals, keeping the rest.
    out = ""
    s = raw
    while (length(s) > 0) {
        if (in_comment) {
            i = index(s, "*/")
            if (i == 0) { s = ""; break }
            s = substr(s, i + 2)
            in_comment = 0
            out = out " "
            continue
        }
        c = substr(s, 1, 1)
        two = substr(s, 1, 2)
        if (two == "/*") { in_comment = 1; s = substr(s, 3); continue }
        if (two == "//") break
        if (c == "\"" || c == "\047") {
            q = c; j = 2; n = length(s)
            while (j <= n) {
                d = substr(s, j, 1)
                if (d == "\\") { j += 2; continue }
                if (d == q) break
                j++
            }
            out = out q q
            s = substr(s, j + 1)
            continue
        }
        out = out c
        s = substr(s, 2)
    }
    code = out

    # Includes are checked on the raw line (the header name is a literal).
    if (raw ~ /^[ \t]*#[ \t]*include/) {
        if ((layer == "kernel" || layer == "lib") && raw ~ /[<"](libvirt|systemd\/)/)
            report("libvirt and libsystemd belong in daemon/ only (layering)")
        if (layer == "kernel" && raw ~ /[<"](json-c\/|json\.h)/)
            report("json-c belongs in lib/ and daemon/, not kernel/ (layering)")
        next
    }

    if (code ~ /(^|[^A-Za-z0-9_])v?sprintf[ \t]*\(/)
        report("sprintf/vsprintf: use g_snprintf or g_strdup_printf")
    if (code ~ /(^|[^A-Za-z0-9_])(strcpy|strcat)[ \t]*\(/)
        report("strcpy/strcat: use g_strlcpy, g_strlcat or GString")
    if (code ~ /(^|[^A-Za-z0-9_])gets[ \t]*\(/)
        report("gets: never")
    if (code ~ /(^|[^A-Za-z0-9_])(atoi|atol|atoll)[ \t]*\(/)
        report("atoi/atol: unchecked; use g_ascii_string_to_(un)signed or a checked scanner")
    if (code ~ /(^|[^A-Za-z0-9_])(strtol|strtoul|strtoull)[ \t]*\(/)
        report("strtol/strtoul: use g_ascii_string_to_(un)signed or mced_scan_*")
    if (code ~ /(^|[^A-Za-z0-9_])g_error[ \t]*\(/)
        report("g_error: aborts the process; return a GError instead")
    if (code ~ /(^|[^A-Za-z0-9_])(sleep|usleep|g_usleep)[ \t]*\(/)
        report("sleep: wait for the event (a GSource, a timeout) instead")
    if (!is_paths && code ~ /(^|[^A-Za-z0-9_])(getenv|secure_getenv|g_getenv)[ \t]*\(/)
        report("getenv: only mced-paths.c reads the environment (STYLE.md habit 10)")
    if (code ~ /(^|[^A-Za-z0-9_])_?exit[ \t]*\(/ && !(is_main && code ~ /EXIT_/))
        report("exit: only main() ends the process (return an error instead)")
}
END {
    if (bad > 0) {
        printf "check-source: %d problem(s)\n", bad
        exit 1
    }
}
' $files
rc=$?
if [ "$rc" -eq 0 ]; then
    echo "check-source: $(echo "$files" | wc -l) files clean"
fi
exit "$rc"
