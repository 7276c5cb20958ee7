/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mced-error.h"
#include "mced-registry.h"

/* Each case builds its own procfs tree in a temporary directory, laid out
 * as Linux shows it: <pid>/{cmdline,stat,status,task/<tid>/{comm,stat}},
 * and <tid>/{status,stat,cmdline} for every thread (hidden from a real
 * /proc listing, but present here, which the registry must cope with). */

#define LIBVIRT_UUID "c7a5fdbd-edaf-9455-926a-d65c16db1809"
#define OTHER_UUID   "5b1ec0de-0000-4000-8000-00000000abcd"

typedef struct {
    char *root;
    McedRegistry *r;
} Fixture;

static void
rm_rf(const char *path)
{
    GStatBuf st;

    if (g_lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *e;

        while (dir != NULL && (e = g_dir_read_name(dir)) != NULL) {
            g_autofree char *child = g_build_filename(path, e, NULL);
            rm_rf(child);
        }
        g_assert_cmpint(g_rmdir(path), ==, 0);
    } else {
        g_assert_cmpint(g_unlink(path), ==, 0);
    }
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->root = g_dir_make_tmp("mced-proc-XXXXXX", &error);
    g_assert_no_error(error);
    f->r = mced_registry_new(f->root);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    mced_registry_free(f->r);
    rm_rf(f->root);
    g_free(f->root);
}

static void
put_file(Fixture *f, gint64 id, const char *rel, const char *data, gssize len)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *id_str = g_strdup_printf("%" G_GINT64_FORMAT, id);
    g_autofree char *path = g_build_filename(f->root, id_str, rel, NULL);
    g_autofree char *dir = g_path_get_dirname(path);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_file_set_contents(path, data, len, &error);
    g_assert_no_error(error);
}

/* argv joined the way /proc/<pid>/cmdline holds it: each followed by NUL. */
static GByteArray *
cmdline_of(const char *const *argv)
{
    GByteArray *b = g_byte_array_new();

    for (; *argv != NULL; argv++)
        g_byte_array_append(b, (const guint8 *)*argv, (guint)strlen(*argv) + 1);
    return b;
}

static char *
stat_line(gint64 tid, const char *comm, guint64 start)
{
    /* fields 1..22: pid (comm) state ppid pgrp session tty tpgid flags
     * minflt cminflt majflt cmajflt utime stime cutime cstime priority
     * nice num_threads itrealvalue starttime, then the rest */
    return g_strdup_printf("%" G_GINT64_FORMAT " (%s) S 1 %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                           " 0 -1 4194560 1234 0 0 0 50 60 0 0 20 0 4 0 %" G_GUINT64_FORMAT
                           " 123456789 4567 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 17"
                           " 3 0 0 0 0 0\n",
                           tid, comm, tid, tid, start);
}

static char *
status_text(const char *comm, gint64 tgid, gint64 pid)
{
    return g_strdup_printf("Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\n"
                           "Tgid:\t%" G_GINT64_FORMAT "\nNgid:\t0\nPid:\t%" G_GINT64_FORMAT
                           "\nPPid:\t1\nTracerPid:\t0\nNSpid:\t%" G_GINT64_FORMAT "\n",
                           comm, tgid, pid, pid);
}

/* A process @pid started at @start with @argv and threads @tids (the
 * leader included or not; it is always written). Thread i > 0 is named
 * "CPU <i-1>/KVM" as QEMU names vCPU threads with debug-threads=on. */
static void
add_process_full(Fixture *f, gint64 pid, guint64 start, const char *comm, const guint8 *cmdline,
                 gsize cmdline_len, const gint64 *tids, guint n_tids, gboolean thread_dirs)
{
    g_autofree char *stat = stat_line(pid, comm, start);
    g_autofree char *status = status_text(comm, pid, pid);

    put_file(f, pid, "cmdline", (const char *)cmdline, (gssize)cmdline_len);
    put_file(f, pid, "stat", stat, -1);
    put_file(f, pid, "status", status, -1);
    {
        g_autofree char *comm_nl = g_strconcat(comm, "\n", NULL);
        put_file(f, pid, "comm", comm_nl, -1);
    }

    for (guint i = 0; i < n_tids; i++) {
        gint64 tid = tids[i];
        g_autofree char *tcomm = tid == pid ? g_strdup(comm) : g_strdup_printf("CPU %u/KVM", i - 1);
        g_autofree char *tstat = stat_line(tid, tcomm, start + i);
        g_autofree char *tstatus = status_text(tcomm, pid, tid);
        g_autofree char *rel_comm = g_strdup_printf("task/%" G_GINT64_FORMAT "/comm", tid);
        g_autofree char *rel_stat = g_strdup_printf("task/%" G_GINT64_FORMAT "/stat", tid);
        g_autofree char *comm_nl = g_strconcat(tcomm, "\n", NULL);

        put_file(f, pid, rel_comm, comm_nl, -1);
        put_file(f, pid, rel_stat, tstat, -1);
        if (tid == pid || !thread_dirs)
            continue;
        /* /proc/<tid> of a non-leader thread: its status names the leader,
         * its cmdline is the process's */
        put_file(f, tid, "status", tstatus, -1);
        put_file(f, tid, "stat", tstat, -1);
        put_file(f, tid, "cmdline", (const char *)cmdline, (gssize)cmdline_len);
    }
}

static void
add_process(Fixture *f, gint64 pid, guint64 start, const char *const *argv, const gint64 *tids,
            guint n_tids)
{
    g_autoptr(GByteArray) cmd = cmdline_of(argv);
    const char *slash = strrchr(argv[0], '/');
    g_autofree char *comm = g_strndup(slash != NULL ? slash + 1 : argv[0], 15);

    add_process_full(f, pid, start, comm, cmd->data, cmd->len, tids, n_tids, TRUE);
}

static void
remove_process(Fixture *f, gint64 pid, const gint64 *tids, guint n_tids)
{
    g_autofree char *id_str = g_strdup_printf("%" G_GINT64_FORMAT, pid);
    g_autofree char *path = g_build_filename(f->root, id_str, NULL);

    rm_rf(path);
    for (guint i = 0; i < n_tids; i++) {
        g_autofree char *t = g_strdup_printf("%" G_GINT64_FORMAT, tids[i]);
        g_autofree char *tpath = g_build_filename(f->root, t, NULL);
        rm_rf(tpath);
    }
}

static const char *const libvirt_argv[] = {
    "/usr/bin/qemu-system-x86_64",
    "-name", "guest=QEMUGuest1,debug-threads=on",
    "-S",
    "-object", "{\"qom-type\":\"secret\",\"id\":\"masterKey0\",\"format\":\"raw\","
               "\"file\":\"/var/lib/libvirt/qemu/domain--1-QEMUGuest1/master-key.aes\"}",
    "-machine", "pc,usb=off,dump-guest-core=off",
    "-accel", "kvm",
    "-m", "size=219136k",
    "-smp", "2,sockets=2,cores=1,threads=1",
    "-uuid", LIBVIRT_UUID,
    "-display", "none",
    "-no-user-config",
    "-nodefaults",
    "-chardev", "socket,id=charmonitor,fd=1729,server=on,wait=off",
    "-mon", "chardev=charmonitor,id=monitor,mode=control",
    "-rtc", "base=utc",
    "-no-shutdown",
    "-msg", "timestamp=on",
    NULL,
};

static const char *const proxmox_argv[] = {
    "/usr/bin/kvm", "-id", "100", "-name", "s,debug-threads=on", "-no-shutdown",
    "-smp", "4,sockets=1,cores=4,maxcpus=4", NULL,
};

static const char *const bash_argv[] = {
    "/bin/bash", "-c", "echo -name guest=impostor -uuid " LIBVIRT_UUID, NULL,
};

static void
assert_ref(McedVmRef *ref, const char *name, const char *uuid, gint64 pid)
{
    g_assert_nonnull(ref);
    g_assert_cmpstr(ref->name, ==, name);
    g_assert_cmpstr(ref->uuid, ==, uuid);
    g_assert_cmpint(ref->pid, ==, pid);
    mced_vm_ref_free(ref);
}

static gboolean
has_tid(const McedQemuProcess *p, gint64 tid)
{
    for (guint i = 0; i < p->tids->len; i++) {
        if (g_array_index(p->tids, gint64, i) == tid)
            return TRUE;
    }
    return FALSE;
}

/* ---- command lines ---- */

static gboolean
parse_argv(const char *const *argv, char **ret_name, char **ret_uuid)
{
    g_autoptr(GByteArray) b = cmdline_of(argv);

    return mced_qemu_cmdline_parse((const char *)b->data, b->len, ret_name, ret_uuid);
}

static void
check_name(const char *const *argv, const char *name, const char *uuid)
{
    g_autofree char *n = NULL;
    g_autofree char *u = NULL;

    g_assert_true(parse_argv(argv, &n, &u));
    g_assert_cmpstr(n, ==, name);
    g_assert_cmpstr(u, ==, uuid);
}

static void
test_cmdline_libvirt(void)
{
    check_name(libvirt_argv, "QEMUGuest1", LIBVIRT_UUID);
}

static void
test_cmdline_forms(void)
{
    check_name(proxmox_argv, "s", NULL);
    check_name((const char *const[]){ "qemu-kvm", "-name", "bare", NULL }, "bare", NULL);
    check_name((const char *const[]){ "/usr/libexec/qemu-kvm", "-name", "guest=a,,b,debug-threads=on",
                                      NULL },
               "a,b", NULL);
    check_name((const char *const[]){ "qemu-system-ppc64", "-name", "x,,y,,,process=q", NULL }, "x,y,",
               NULL);
    check_name((const char *const[]){ "qemu-system-ppc64", "-name", "debug-threads=on,guest=late",
                                      NULL },
               "late", NULL);
    check_name((const char *const[]){ "qemu-system-x86_64", "-name", "guest=Ünïcødé-вм-名前", NULL },
               "Ünïcødé-вм-名前", NULL);
    check_name((const char *const[]){ "qemu-system-x86_64", "-name",
                                      "guest=it's \"quoted\" $(rm -rf /) `id`;", NULL },
               "it's \"quoted\" $(rm -rf /) `id`;", NULL);
    /* "guest=" takes the rest up to a single ',', '=' included */
    check_name((const char *const[]){ "qemu-system-x86_64", "-name", "guest=a=b", NULL }, "a=b", NULL);
    /* the last -name and -uuid win, as in QEMU; "--opt" is "-opt" */
    check_name((const char *const[]){ "qemu-system-x86_64", "-name", "first", "--name", "guest=second",
                                      "-uuid", OTHER_UUID, "--uuid", LIBVIRT_UUID, NULL },
               "second", LIBVIRT_UUID);
    /* upper-case UUIDs are folded */
    check_name((const char *const[]){ "qemu-system-x86_64", "-uuid",
                                      "C7A5FDBD-EDAF-9455-926A-D65C16DB1809", NULL },
               NULL, LIBVIRT_UUID);
    /* option values are not options: a -name value of "-uuid" */
    check_name((const char *const[]){ "qemu-system-x86_64", "-name", "-uuid", LIBVIRT_UUID, NULL },
               "-uuid", NULL);
    /* "-name=x" is not how QEMU is called */
    check_name((const char *const[]){ "qemu-system-x86_64", "-name=x", NULL }, NULL, NULL);
    /* QEMU without a name is still QEMU */
    check_name((const char *const[]){ "qemu-system-x86_64", "-m", "1G", NULL }, NULL, NULL);
}

static void
test_cmdline_not_qemu(void)
{
    g_autofree char *n = NULL;
    g_autofree char *u = NULL;

    g_assert_false(parse_argv(bash_argv, &n, &u));
    g_assert_null(n);
    g_assert_false(parse_argv((const char *const[]){ "/opt/qemu/bin/bash", "-name", "x", NULL }, &n,
                              &u));
    g_assert_false(parse_argv((const char *const[]){ "", "qemu-system-x86_64", "-name", "x", NULL },
                              &n, &u));
    g_assert_false(parse_argv((const char *const[]){ "kvmtool", "-name", "x", NULL }, &n, &u));
    g_assert_false(parse_argv((const char *const[]){ "/usr/bin/", "-name", "x", NULL }, &n, &u));
    g_assert_false(mced_qemu_cmdline_parse("", 0, &n, &u));
    g_assert_false(mced_qemu_cmdline_parse(NULL, 0, &n, &u));
    g_assert_null(n);
    g_assert_null(u);
}

static void
test_cmdline_hostile(void)
{
    static const char unterminated[] = "qemu-system-x86_64\0-uuid\0" LIBVIRT_UUID "\0-name\0guest=abc";
    static const char unterminated_argv0[] = "/usr/bin/qemu-system-x8";
    g_autofree char *n = NULL;
    g_autofree char *u = NULL;
    g_autofree char *long_name = NULL;
    g_autofree char *max_name = NULL;
    g_autofree char *long_value = NULL;
    g_autofree char *max_value = NULL;

    /* a value without its NUL may have been cut: not used */
    g_assert_true(mced_qemu_cmdline_parse(unterminated, sizeof(unterminated) - 1, &n, &u));
    g_assert_null(n);
    g_assert_cmpstr(u, ==, LIBVIRT_UUID);
    g_clear_pointer(&u, g_free);
    g_assert_true(mced_qemu_cmdline_parse(unterminated_argv0, sizeof(unterminated_argv0) - 1, &n,
                                          &u));
    g_assert_null(n);
    g_assert_null(u);

    /* a missing value, empty arguments, an empty name */
    check_name((const char *const[]){ "qemu-system-x86_64", "-uuid", LIBVIRT_UUID, "-name", NULL },
               NULL, LIBVIRT_UUID);
    check_name((const char *const[]){ "qemu-system-x86_64", "", "", "-name", "", "", NULL }, NULL, NULL);
    check_name((const char *const[]){ "qemu-system-x86_64", "-name", "guest=,debug-threads=on", NULL },
               NULL, NULL);
    check_name((const char *const[]){ "qemu-system-x86_64", "-name", ",guest", NULL }, NULL, NULL);
    check_name((const char *const[]){ "qemu-system-x86_64", "-name", ",,,,", NULL }, ",,", NULL);

    /* names: at most 1024 bytes, valid UTF-8, no control characters */
    max_name = g_strnfill(1024, 'n');
    long_name = g_strnfill(1025, 'n');
    max_value = g_strconcat("guest=", max_name, NULL);
    long_value = g_strconcat("guest=", long_name, NULL);
    check_name((const char *const[]){ "qemu-kvm", "-name", max_value, NULL }, max_name, NULL);
    check_name((const char *const[]){ "qemu-kvm", "-name", long_value, NULL }, NULL, NULL);
    check_name((const char *const[]){ "qemu-kvm", "-name", "guest=bad\xff\xfe", NULL }, NULL, NULL);
    check_name((const char *const[]){ "qemu-kvm", "-name", "guest=two\nlines", NULL }, NULL, NULL);
    check_name((const char *const[]){ "qemu-kvm", "-name", "guest=esc\x1b[2J", NULL }, NULL, NULL);

    /* UUIDs: 8-4-4-4-12 hex digits exactly */
    check_name((const char *const[]){ "qemu-kvm", "-uuid", "c7a5fdbd-edaf-9455-926a-d65c16db180", NULL },
               NULL, NULL);
    check_name((const char *const[]){ "qemu-kvm", "-uuid", "c7a5fdbd-edaf-9455-926a-d65c16db18099",
                                      NULL },
               NULL, NULL);
    check_name((const char *const[]){ "qemu-kvm", "-uuid", "c7a5fdbdedaf-9455-926a-d65c16db1809-",
                                      NULL },
               NULL, NULL);
    check_name((const char *const[]){ "qemu-kvm", "-uuid", "g7a5fdbd-edaf-9455-926a-d65c16db1809",
                                      NULL },
               NULL, NULL);
    check_name((const char *const[]){ "qemu-kvm", "-uuid", "c7a5fdbdaedafa9455a926aad65c16db1809",
                                      NULL },
               NULL, NULL);
    check_name((const char *const[]){ "qemu-kvm", "-uuid", "", NULL }, NULL, NULL);
}

/* ---- status and stat ---- */

static gboolean
tgid_of(const char *s, gint64 *ret)
{
    return mced_proc_status_tgid(s, strlen(s), ret);
}

static void
test_status_tgid(void)
{
    gint64 tgid = -1;
    g_autofree char *status = status_text("CPU 0/KVM", 4242, 4243);

    g_assert_true(tgid_of(status, &tgid));
    g_assert_cmpint(tgid, ==, 4242);
    g_assert_true(tgid_of("Tgid: \t 7  \n", &tgid));
    g_assert_cmpint(tgid, ==, 7);
    g_assert_true(tgid_of("Name:\tx\nTgid:\t2147483647", &tgid));
    g_assert_cmpint(tgid, ==, G_MAXINT32);

    tgid = -1;
    g_assert_false(tgid_of("Name:\tx\nPid:\t12\n", &tgid));
    g_assert_false(tgid_of("NSTgid:\t12\n", &tgid));
    g_assert_false(tgid_of("Name:\tTgid:\t12\n", &tgid));
    g_assert_false(tgid_of("Tgid:\n", &tgid));
    g_assert_false(tgid_of("Tgid:\t\n", &tgid));
    g_assert_false(tgid_of("Tgid:\t0\n", &tgid));
    g_assert_false(tgid_of("Tgid:\t-5\n", &tgid));
    g_assert_false(tgid_of("Tgid:\t12abc\n", &tgid));
    g_assert_false(tgid_of("Tgid:\t2147483648\n", &tgid));
    g_assert_false(tgid_of("Tgid:\t99999999999999999999999\n", &tgid));
    /* the first Tgid line decides */
    g_assert_false(tgid_of("Tgid:\tx\nTgid:\t5\n", &tgid));
    g_assert_false(mced_proc_status_tgid("", 0, &tgid));
    g_assert_cmpint(tgid, ==, -1);
    /* bounded by len, not by a NUL */
    g_assert_true(mced_proc_status_tgid("Tgid:\t123456", 8, &tgid));
    g_assert_cmpint(tgid, ==, 12);
}

static gboolean
start_of(const char *s, guint64 *ret)
{
    return mced_proc_stat_start_time(s, strlen(s), ret);
}

static void
test_stat_start_time(void)
{
    guint64 start = 0;
    g_autofree char *plain = stat_line(1000, "qemu-system-x86", 987654);
    g_autofree char *parens = stat_line(1001, "a) b) c", 42);
    g_autofree char *parens2 = stat_line(1001, "(a) b) c)", 44);
    g_autofree char *fake = stat_line(1002, "x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 666", 43);
    g_autofree char *maxed = stat_line(1003, "m", G_MAXUINT64);
    g_autofree char *overflow = NULL;

    g_assert_true(start_of(plain, &start));
    g_assert_cmpuint(start, ==, 987654);
    g_assert_true(start_of(parens, &start));
    g_assert_cmpuint(start, ==, 42);
    g_assert_true(start_of(parens2, &start));
    g_assert_cmpuint(start, ==, 44);
    g_assert_true(start_of(fake, &start));
    g_assert_cmpuint(start, ==, 43);
    g_assert_true(start_of(maxed, &start));
    g_assert_cmpuint(start, ==, G_MAXUINT64);
    g_assert_true(start_of("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77", &start));
    g_assert_cmpuint(start, ==, 77);

    start = 5;
    overflow = g_strdup_printf("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %s 1 2\n",
                               "18446744073709551616");
    g_assert_false(start_of(overflow, &start));
    g_assert_false(start_of("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0", &start));
    g_assert_false(start_of("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 \n", &start));
    g_assert_false(start_of("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -3 1\n", &start));
    g_assert_false(start_of("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 3x 1\n", &start));
    g_assert_false(start_of("1 x S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 3 1\n", &start));
    g_assert_false(start_of("1 (x) S\n1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 3 1\n", &start));
    g_assert_false(start_of(")", &start));
    g_assert_false(mced_proc_stat_start_time("", 0, &start));
    g_assert_cmpuint(start, ==, 5);
}

/* ---- the registry over a tree ---- */

static const gint64 vm1_tids[] = { 1000, 1001, 1002, 1003 };
static const gint64 vm2_tids[] = { 2000, 2004, 2005 };
static const gint64 bash_tids[] = { 500, 501 };

static void
build_host(Fixture *f)
{
    add_process(f, 1000, 5000, libvirt_argv, vm1_tids, G_N_ELEMENTS(vm1_tids));
    add_process(f, 2000, 6000, proxmox_argv, vm2_tids, G_N_ELEMENTS(vm2_tids));
    add_process(f, 500, 100, bash_argv, bash_tids, G_N_ELEMENTS(bash_tids));
    put_file(f, 1, "cmdline", "/sbin/init\0splash", 18);
    put_file(f, 1, "status", "Name:\tsystemd\nTgid:\t1\n", -1);
    put_file(f, 2, "cmdline", "", 0); /* a kernel thread */
    put_file(f, 2, "status", "Name:\tkthreadd\nTgid:\t2\n", -1);
    put_file(f, 1000, "../self/cmdline", "qemu-kvm\0-name\0self\0", 20);
}

static void
test_scan(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    const McedQemuProcess *p;

    build_host(f);
    g_assert_cmpuint(mced_registry_scan(f->r, &error), ==, 2);
    g_assert_no_error(error);
    /* the thread directories (1001, 2004, ...) are not processes */
    g_assert_cmpuint(mced_registry_size(f->r), ==, 2);

    p = mced_registry_get(f->r, 1000);
    g_assert_nonnull(p);
    g_assert_cmpint(p->pid, ==, 1000);
    g_assert_cmpuint(p->start_time, ==, 5000);
    g_assert_cmpstr(p->name, ==, "QEMUGuest1");
    g_assert_cmpstr(p->uuid, ==, LIBVIRT_UUID);
    g_assert_true(p->alive);
    g_assert_cmpuint(p->tids->len, ==, 4);
    for (guint i = 0; i < G_N_ELEMENTS(vm1_tids); i++)
        g_assert_cmpint(g_array_index(p->tids, gint64, i), ==, vm1_tids[i]);

    p = mced_registry_get(f->r, 2000);
    g_assert_nonnull(p);
    g_assert_cmpstr(p->name, ==, "s");
    g_assert_null(p->uuid);
    g_assert_null(mced_registry_get(f->r, 500));
    g_assert_null(mced_registry_get(f->r, 1001));

    assert_ref(mced_registry_lookup_tid(f->r, 1002), "QEMUGuest1", LIBVIRT_UUID, 1000);
    assert_ref(mced_registry_lookup_tid(f->r, 1000), "QEMUGuest1", LIBVIRT_UUID, 1000);
    assert_ref(mced_registry_lookup_tid(f->r, 2005), "s", NULL, 2000);
    assert_ref(mced_registry_lookup_pid(f->r, 2000), "s", NULL, 2000);
    g_assert_null(mced_registry_lookup_tid(f->r, 501));
    g_assert_null(mced_registry_lookup_tid(f->r, 500));
    g_assert_null(mced_registry_lookup_pid(f->r, 500));
    g_assert_null(mced_registry_lookup_tid(f->r, 9999));
    g_assert_null(mced_registry_lookup_tid(f->r, 0));
    g_assert_null(mced_registry_lookup_tid(f->r, -1));
    g_assert_null(mced_registry_lookup_tid(f->r, G_MAXINT64));
    /* a thread id is not a pid */
    g_assert_null(mced_registry_lookup_pid(f->r, 1001));

    /* scanning again changes nothing */
    g_assert_cmpuint(mced_registry_scan(f->r, &error), ==, 2);
    g_assert_cmpuint(mced_registry_size(f->r), ==, 2);
    g_assert_cmpuint(mced_registry_get(f->r, 1000)->tids->len, ==, 4);
}

static void
test_scan_missing_root(void)
{
    g_autoptr(McedRegistry) r = mced_registry_new("/nonexistent/mced-proc");
    g_autoptr(GError) error = NULL;

    g_assert_cmpuint(mced_registry_scan(r, &error), ==, 0);
    g_assert_error(error, MCED_ERROR, MCED_ERROR_IO);
    g_assert_null(mced_registry_lookup_tid(r, 1));
}

static void
test_lookup_without_scan(Fixture *f, gconstpointer data)
{
    const McedQemuProcess *p;

    build_host(f);
    assert_ref(mced_registry_lookup_tid(f->r, 1003), "QEMUGuest1", LIBVIRT_UUID, 1000);
    g_assert_cmpuint(mced_registry_size(f->r), ==, 1);
    p = mced_registry_get(f->r, 1000);
    g_assert_nonnull(p);
    g_assert_cmpuint(p->start_time, ==, 5000);
    for (guint i = 0; i < G_N_ELEMENTS(vm1_tids); i++)
        g_assert_true(has_tid(p, vm1_tids[i]));

    assert_ref(mced_registry_lookup_pid(f->r, 2000), "s", NULL, 2000);
    g_assert_cmpuint(mced_registry_size(f->r), ==, 2);
    g_assert_true(has_tid(mced_registry_get(f->r, 2000), 2004));
}

static void
test_died_between_scans(Fixture *f, gconstpointer data)
{
    const McedQemuProcess *p;

    build_host(f);
    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 2);
    remove_process(f, 1000, vm1_tids, G_N_ELEMENTS(vm1_tids));
    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 1);

    p = mced_registry_get(f->r, 1000);
    g_assert_nonnull(p);
    g_assert_false(p->alive);
    g_assert_true(mced_registry_get(f->r, 2000)->alive);
    g_assert_cmpuint(mced_registry_size(f->r), ==, 2);

    /* a line about the dead VM's vCPU still attributes */
    assert_ref(mced_registry_lookup_tid(f->r, 1002), "QEMUGuest1", LIBVIRT_UUID, 1000);
    assert_ref(mced_registry_lookup_pid(f->r, 1000), "QEMUGuest1", LIBVIRT_UUID, 1000);
    g_assert_false(mced_registry_get(f->r, 1000)->alive);
    /* but it is no longer a running VM one can name */
    g_assert_null(mced_registry_lookup_vm(f->r, "QEMUGuest1"));
    assert_ref(mced_registry_lookup_vm(f->r, "s"), "s", NULL, 2000);
}

/* Running VMs by name or UUID (any case); nothing else matches. */
static void
test_lookup_vm(Fixture *f, gconstpointer data)
{
    g_autofree char *upper = g_ascii_strup(LIBVIRT_UUID, -1);

    build_host(f);
    g_assert_null(mced_registry_lookup_vm(f->r, "QEMUGuest1")); /* not scanned yet */
    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 2);
    assert_ref(mced_registry_lookup_vm(f->r, "QEMUGuest1"), "QEMUGuest1", LIBVIRT_UUID, 1000);
    assert_ref(mced_registry_lookup_vm(f->r, LIBVIRT_UUID), "QEMUGuest1", LIBVIRT_UUID, 1000);
    assert_ref(mced_registry_lookup_vm(f->r, upper), "QEMUGuest1", LIBVIRT_UUID, 1000);
    g_assert_null(mced_registry_lookup_vm(f->r, "qemuguest1")); /* names are exact */
    g_assert_null(mced_registry_lookup_vm(f->r, "QEMUGuest"));
    g_assert_null(mced_registry_lookup_vm(f->r, ""));
}

static void
test_pid_reuse(Fixture *f, gconstpointer data)
{
    static const char *const new_argv[] = {
        "/usr/bin/qemu-system-ppc64", "-name", "guest=newcomer,debug-threads=on", "-uuid",
        OTHER_UUID, NULL,
    };
    static const gint64 new_tids[] = { 1000, 1002, 1005 };
    gboolean by_scan = GPOINTER_TO_INT(data);
    const McedQemuProcess *p;

    build_host(f);
    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 2);

    /* the VM dies; a new one gets pid 1000 and tid 1002 */
    remove_process(f, 1000, vm1_tids, G_N_ELEMENTS(vm1_tids));
    add_process(f, 1000, 90000, new_argv, new_tids, G_N_ELEMENTS(new_tids));
    if (by_scan) {
        g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 2);
    } else {
        /* first heard of through a line about one of its threads */
        assert_ref(mced_registry_lookup_tid(f->r, 1005), "newcomer", OTHER_UUID, 1000);
    }

    g_assert_cmpuint(mced_registry_size(f->r), ==, 3);
    p = mced_registry_get(f->r, 1000);
    g_assert_cmpstr(p->name, ==, "newcomer");
    g_assert_cmpuint(p->start_time, ==, 90000);
    g_assert_true(p->alive);

    /* old threads -> old VM, new (and reused) threads -> new VM */
    assert_ref(mced_registry_lookup_tid(f->r, 1001), "QEMUGuest1", LIBVIRT_UUID, 1000);
    assert_ref(mced_registry_lookup_tid(f->r, 1003), "QEMUGuest1", LIBVIRT_UUID, 1000);
    assert_ref(mced_registry_lookup_tid(f->r, 1005), "newcomer", OTHER_UUID, 1000);
    assert_ref(mced_registry_lookup_tid(f->r, 1002), "newcomer", OTHER_UUID, 1000);
    assert_ref(mced_registry_lookup_tid(f->r, 1000), "newcomer", OTHER_UUID, 1000);
    assert_ref(mced_registry_lookup_pid(f->r, 1000), "newcomer", OTHER_UUID, 1000);

    /* the new one dies too: both stay, each with its own threads */
    remove_process(f, 1000, new_tids, G_N_ELEMENTS(new_tids));
    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 1);
    assert_ref(mced_registry_lookup_tid(f->r, 1001), "QEMUGuest1", LIBVIRT_UUID, 1000);
    assert_ref(mced_registry_lookup_tid(f->r, 1005), "newcomer", OTHER_UUID, 1000);
    assert_ref(mced_registry_lookup_pid(f->r, 1000), "newcomer", OTHER_UUID, 1000);
}

static void
test_tid_reused_by_other_vm(Fixture *f, gconstpointer data)
{
    static const gint64 vm3_tids[] = { 3000, 1003 };

    /* VM1 dies; its vCPU tid 1003 now belongs to a new VM at pid 3000 */
    build_host(f);
    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 2);
    remove_process(f, 1000, vm1_tids, G_N_ELEMENTS(vm1_tids));
    add_process(f, 3000, 7000,
                (const char *const[]){ "qemu-system-x86_64", "-uuid", OTHER_UUID, NULL }, vm3_tids,
                G_N_ELEMENTS(vm3_tids));

    assert_ref(mced_registry_lookup_tid(f->r, 1003), NULL, OTHER_UUID, 3000);
    assert_ref(mced_registry_lookup_tid(f->r, 1002), "QEMUGuest1", LIBVIRT_UUID, 1000);
}

static void
test_exec_into_qemu(Fixture *f, gconstpointer data)
{
    static const gint64 tids[] = { 600 };
    g_autoptr(GByteArray) qemu = cmdline_of(libvirt_argv);

    /* libvirt forks (not QEMU yet), then execs QEMU: same pid, same start */
    add_process(f, 600, 800, bash_argv, tids, 1);
    g_assert_null(mced_registry_lookup_tid(f->r, 600));
    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 0);
    g_assert_null(mced_registry_lookup_pid(f->r, 600));

    put_file(f, 600, "cmdline", (const char *)qemu->data, qemu->len);
    assert_ref(mced_registry_lookup_tid(f->r, 600), "QEMUGuest1", LIBVIRT_UUID, 600);
    g_assert_cmpuint(mced_registry_get(f->r, 600)->start_time, ==, 800);
}

static void
test_add(Fixture *f, gconstpointer data)
{
    const McedQemuProcess *p;

    /* nothing in procfs: what libvirt says is what we know */
    mced_registry_add(f->r, 4000, "from-libvirt", "C7A5FDBD-EDAF-9455-926A-D65C16DB1809");
    g_assert_cmpuint(mced_registry_size(f->r), ==, 1);
    assert_ref(mced_registry_lookup_pid(f->r, 4000), "from-libvirt", LIBVIRT_UUID, 4000);
    assert_ref(mced_registry_lookup_tid(f->r, 4000), "from-libvirt", LIBVIRT_UUID, 4000);
    g_assert_null(mced_registry_lookup_tid(f->r, 4001));

    /* nothing usable: ignored */
    mced_registry_add(f->r, 4100, NULL, NULL);
    mced_registry_add(f->r, 4101, "bad\nname", "not-a-uuid");
    mced_registry_add(f->r, 0, "zero", NULL);
    mced_registry_add(f->r, -4, "negative", NULL);
    g_assert_cmpuint(mced_registry_size(f->r), ==, 1);

    /* unknown fields are filled in; known ones stay */
    build_host(f);
    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 2);
    mced_registry_add(f->r, 2000, NULL, OTHER_UUID);
    mced_registry_add(f->r, 2000, "s", NULL);
    p = mced_registry_get(f->r, 2000);
    g_assert_cmpstr(p->name, ==, "s");
    g_assert_cmpstr(p->uuid, ==, OTHER_UUID);
    g_assert_cmpuint(p->start_time, ==, 6000);
    assert_ref(mced_registry_lookup_tid(f->r, 2004), "s", OTHER_UUID, 2000);
    g_assert_cmpuint(mced_registry_size(f->r), ==, 3);

    /* a conflicting identity is another process */
    mced_registry_add(f->r, 1000, "renamed", OTHER_UUID);
    g_assert_cmpuint(mced_registry_size(f->r), ==, 4);
    g_assert_cmpstr(mced_registry_get(f->r, 1000)->name, ==, "renamed");

    /* the scan after it goes by procfs: the QEMU command line wins */
    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 2);
    assert_ref(mced_registry_lookup_pid(f->r, 1000), "QEMUGuest1", LIBVIRT_UUID, 1000);
    g_assert_false(mced_registry_get(f->r, 4000)->alive);
}

static void
test_add_not_qemu_cmdline(Fixture *f, gconstpointer data)
{
    static const gint64 tids[] = { 700, 701 };

    /* a QEMU started under a name we do not recognise, known from libvirt */
    add_process(f, 700, 321, (const char *const[]){ "/usr/local/bin/vmm", "-name", "x", NULL }, tids,
                G_N_ELEMENTS(tids));
    g_assert_null(mced_registry_lookup_tid(f->r, 701));
    mced_registry_add(f->r, 700, "vmm-domain", NULL);
    g_assert_cmpuint(mced_registry_get(f->r, 700)->start_time, ==, 321);
    assert_ref(mced_registry_lookup_tid(f->r, 701), "vmm-domain", NULL, 700);
    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 1);
    g_assert_true(mced_registry_get(f->r, 700)->alive);
}

/* ---- hostile trees ---- */

static void
test_huge_cmdline(Fixture *f, gconstpointer data)
{
    static const gint64 tids1[] = { 800 };
    static const gint64 tids2[] = { 810 };
    static const char head[] = "/usr/bin/qemu-system-x86_64\0-name\0guest=big\0-append\0";
    static const char tail[] = "\0-uuid\0" LIBVIRT_UUID "\0";
    gsize filler = 1024 * 1024;
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autoptr(GByteArray) late = g_byte_array_new();
    g_autofree guint8 *junk = g_malloc(filler);

    memset(junk, 'A', filler);
    /* 1 MiB: -name before the cut is read, -uuid after it is not */
    g_byte_array_append(b, (const guint8 *)head, sizeof(head) - 1);
    g_byte_array_append(b, junk, (guint)filler);
    g_byte_array_append(b, (const guint8 *)tail, sizeof(tail) - 1);
    add_process_full(f, 800, 1, "qemu-system-x86", b->data, b->len, tids1, 1, TRUE);
    /* a name only past the cut: not a VM we can name */
    g_byte_array_append(late, (const guint8 *)"qemu-kvm\0", 9);
    g_byte_array_append(late, junk, (guint)filler);
    g_byte_array_append(late, (const guint8 *)"\0-name\0late\0", 12);
    add_process_full(f, 810, 1, "qemu-kvm", late->data, late->len, tids2, 1, TRUE);

    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 1);
    assert_ref(mced_registry_lookup_tid(f->r, 800), "big", NULL, 800);
    g_assert_null(mced_registry_lookup_tid(f->r, 810));
}

static void
test_hostile_files(Fixture *f, gconstpointer data)
{
    static const gint64 tids[] = { 900 };
    g_autoptr(GByteArray) qemu = cmdline_of(libvirt_argv);
    g_autofree char *outside = g_strconcat(f->root, "-outside-cmdline", NULL);
    g_autofree char *fifo_dir = g_build_filename(f->root, "901", NULL);
    g_autofree char *fifo = g_build_filename(fifo_dir, "cmdline", NULL);
    g_autofree char *link_dir = g_build_filename(f->root, "902", NULL);
    g_autofree char *link = g_build_filename(link_dir, "cmdline", NULL);
    g_autofree char *status = status_text("x", 901, 901);
    g_autofree char *status2 = status_text("x", 902, 902);

    /* a stat whose comm is "(a) b) c)", a status without Tgid */
    add_process_full(f, 900, 1, "(a) b) c)", qemu->data, qemu->len, tids, 1, TRUE);
    put_file(f, 900, "status", "Name:\tqemu\nPid:\t900\n", -1);

    /* a FIFO must not block us; a symlink must not lead out of the root */
    g_assert_cmpint(g_mkdir(fifo_dir, 0755), ==, 0);
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    put_file(f, 901, "status", status, -1);
    g_assert_cmpint(g_mkdir(link_dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(outside, (const char *)qemu->data, qemu->len, NULL));
    g_assert_cmpint(symlink(outside, link), ==, 0);
    put_file(f, 902, "status", status2, -1);
    /* odd entry names */
    put_file(f, 0, "cmdline", (const char *)qemu->data, qemu->len);
    put_file(f, 903, "../0903/cmdline", (const char *)qemu->data, qemu->len);
    put_file(f, 903, "../99999999999999999999/cmdline", (const char *)qemu->data, qemu->len);
    put_file(f, 903, "../-904/cmdline", (const char *)qemu->data, qemu->len);

    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 0);
    g_assert_cmpuint(mced_registry_size(f->r), ==, 0);
    g_assert_null(mced_registry_lookup_tid(f->r, 900));
    g_assert_null(mced_registry_lookup_tid(f->r, 901));
    g_assert_null(mced_registry_lookup_pid(f->r, 902));

    /* with a good status it is found, comm and all */
    g_assert_true(g_unlink(outside) == 0);
    put_file(f, 900, "status", "Name:\tqemu\nTgid:\t900\n", -1);
    assert_ref(mced_registry_lookup_tid(f->r, 900), "QEMUGuest1", LIBVIRT_UUID, 900);
    g_assert_cmpuint(mced_registry_get(f->r, 900)->start_time, ==, 1);
}

/* ---- bounds ---- */

static void
test_bound_processes(Fixture *f, gconstpointer data)
{
    static const gint64 dead_tids[] = { 2000, 2004, 2005 };
    g_autofree char *uuid = NULL;

    build_host(f);
    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 2);
    remove_process(f, 2000, dead_tids, G_N_ELEMENTS(dead_tids));
    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 1);
    /* used after VM1: VM1 (alive) is now the least recently used */
    assert_ref(mced_registry_lookup_tid(f->r, 2004), "s", NULL, 2000);

    for (gint64 pid = 100000; mced_registry_size(f->r) < MCED_REGISTRY_MAX_PROCESSES; pid++) {
        g_autofree char *name = g_strdup_printf("vm-%" G_GINT64_FORMAT, pid);
        mced_registry_add(f->r, pid, name, NULL);
    }
    g_assert_nonnull(mced_registry_get(f->r, 1000));
    g_assert_nonnull(mced_registry_get(f->r, 2000));

    /* full: the dead one goes first, though it was used more recently */
    mced_registry_add(f->r, 200000, "one-more", NULL);
    g_assert_cmpuint(mced_registry_size(f->r), ==, MCED_REGISTRY_MAX_PROCESSES);
    g_assert_null(mced_registry_get(f->r, 2000));
    g_assert_null(mced_registry_lookup_tid(f->r, 2004));
    g_assert_nonnull(mced_registry_get(f->r, 1000));

    /* then the least recently used */
    mced_registry_add(f->r, 200001, "two-more", NULL);
    g_assert_cmpuint(mced_registry_size(f->r), ==, MCED_REGISTRY_MAX_PROCESSES);
    g_assert_null(mced_registry_get(f->r, 1000));
    g_assert_nonnull(mced_registry_get(f->r, 200001));
    g_assert_nonnull(mced_registry_get(f->r, 100000));

    /* a still running QEMU is found again from procfs */
    uuid = g_strdup(LIBVIRT_UUID);
    assert_ref(mced_registry_lookup_tid(f->r, 1002), "QEMUGuest1", uuid, 1000);
    g_assert_cmpuint(mced_registry_size(f->r), ==, MCED_REGISTRY_MAX_PROCESSES);
}

static void
test_bound_threads(Fixture *f, gconstpointer data)
{
    guint n = MCED_REGISTRY_MAX_THREADS + 8;
    g_autofree gint64 *tids = g_new(gint64, n);
    g_autoptr(GByteArray) qemu = cmdline_of(libvirt_argv);
    const McedQemuProcess *p;

    for (guint i = 0; i < n; i++)
        tids[i] = 50000 + i;
    /* thread dirs only for the leader and the last thread */
    add_process_full(f, 50000, 10, "qemu-system-x86", qemu->data, qemu->len, tids, n, FALSE);
    {
        g_autofree char *st = status_text("CPU 9/KVM", 50000, tids[n - 1]);
        put_file(f, tids[n - 1], "status", st, -1);
    }

    g_assert_cmpuint(mced_registry_scan(f->r, NULL), ==, 1);
    p = mced_registry_get(f->r, 50000);
    g_assert_cmpuint(p->tids->len, ==, MCED_REGISTRY_MAX_THREADS);
    g_assert_true(has_tid(p, 50000));
    g_assert_false(has_tid(p, tids[n - 1]));

    /* a line about a thread past the bound still resolves, and is kept */
    assert_ref(mced_registry_lookup_tid(f->r, tids[n - 1]), "QEMUGuest1", LIBVIRT_UUID, 50000);
    p = mced_registry_get(f->r, 50000);
    g_assert_cmpuint(p->tids->len, ==, MCED_REGISTRY_MAX_THREADS);
    g_assert_true(has_tid(p, tids[n - 1]));
    g_assert_true(has_tid(p, 50000));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/registry/cmdline/libvirt", test_cmdline_libvirt);
    g_test_add_func("/registry/cmdline/forms", test_cmdline_forms);
    g_test_add_func("/registry/cmdline/not-qemu", test_cmdline_not_qemu);
    g_test_add_func("/registry/cmdline/hostile", test_cmdline_hostile);
    g_test_add_func("/registry/status/tgid", test_status_tgid);
    g_test_add_func("/registry/stat/start-time", test_stat_start_time);
    g_test_add_func("/registry/scan/missing-root", test_scan_missing_root);
#define ADD(path, fn, data) \
    g_test_add(path, Fixture, data, fixture_setup, fn, fixture_teardown)
    ADD("/registry/scan/host", test_scan, NULL);
    ADD("/registry/lookup/without-scan", test_lookup_without_scan, NULL);
    ADD("/registry/lookup/died-between-scans", test_died_between_scans, NULL);
    ADD("/registry/lookup/vm", test_lookup_vm, NULL);
    ADD("/registry/lookup/pid-reuse-scan", test_pid_reuse, GINT_TO_POINTER(TRUE));
    ADD("/registry/lookup/pid-reuse-lookup", test_pid_reuse, GINT_TO_POINTER(FALSE));
    ADD("/registry/lookup/tid-reused", test_tid_reused_by_other_vm, NULL);
    ADD("/registry/lookup/exec-into-qemu", test_exec_into_qemu, NULL);
    ADD("/registry/add/fill-and-conflict", test_add, NULL);
    ADD("/registry/add/unrecognised-cmdline", test_add_not_qemu_cmdline, NULL);
    ADD("/registry/hostile/huge-cmdline", test_huge_cmdline, NULL);
    ADD("/registry/hostile/files", test_hostile_files, NULL);
    ADD("/registry/bounds/processes", test_bound_processes, NULL);
    ADD("/registry/bounds/threads", test_bound_threads, NULL);
#undef ADD
    return g_test_run();
}
