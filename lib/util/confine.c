/* confine - a process restricts itself: Landlock paths and a seccomp filter.
 *
 * See confine.h. The seccomp base list is what a daemon that only reads,
 * writes files and sockets and waits on an event loop needs, including what
 * glibc, OpenSSL, PCRE2, LMDB and the sanitizer runtimes call on their own.
 * It leaves out, on purpose: every way to run a program or make a process
 * (execve, execveat, fork, vfork, clone, clone3), every way to change ids
 * (setuid and friends, setgroups, capset), ptrace and process_vm_*, mount,
 * chroot, pivot_root, namespaces (unshare, setns), module, kexec, bpf,
 * perf_event_open, keyctl, userfaultfd, io_uring, reboot, swapon, acct.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "confine.h"
#include "mem.h"
#include "msg.h"

/* Rights of newer Landlock ABIs than the build's headers may know; only
 * handled when the running kernel's ABI has them. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER        (1ULL << 13)    /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE     (1ULL << 14)    /* ABI 3 */
#endif

#define CONFINE_PATHS_MAX   256         /* Landlock rules of one profile */
#define CONFINE_NAMES_MAX   64          /* extra or denied system calls */

#define CONFINE_R   1                   /* read files, list folders */
#define CONFINE_W   2                   /* create, write, rename, remove */
#define CONFINE_X   4                   /* execute */

typedef struct CONFINE_PATH {
    char   *path;
    int     how;
} CONFINE_PATH;

struct CONFINE {
    CONFINE_PATH paths[CONFINE_PATHS_MAX];
    int     npaths;
    int     overflow;                   /* too many paths: refuse to apply */
    int     landlock;                   /* 0: seccomp only */
    const char *names[CONFINE_NAMES_MAX];
    int     nnames;
    int     deny_only;
};

static const char *const confine_base[] = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "preadv2", "pwritev2", "lseek", "close", "close_range", "fstat", "stat", "lstat",
    "newfstatat", "statx", "fstatfs", "statfs", "open", "openat", "openat2", "access",
    "faccessat", "faccessat2", "mmap", "munmap", "mprotect", "mremap", "madvise", "msync",
    "mincore", "brk", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
    "rt_sigtimedwait", "rt_sigsuspend", "sigaltstack", "ioctl", "fcntl", "dup", "dup2",
    "dup3", "pipe", "pipe2", "poll", "ppoll", "select", "pselect6", "epoll_create",
    "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
    "eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime", "socket",
    "connect", "accept", "accept4", "bind", "listen", "getsockname", "getpeername",
    "setsockopt", "getsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
    "recvmmsg", "shutdown", "socketpair", "clock_gettime", "clock_getres",
    "clock_nanosleep", "nanosleep", "gettimeofday", "time", "getpid", "getppid",
    "gettid", "getpgrp", "getpgid", "getsid", "getuid", "geteuid", "getgid", "getegid",
    "getgroups", "getresuid", "getresgid", "uname", "getrandom", "futex", "futex_waitv",
    "set_robust_list", "get_robust_list", "set_tid_address", "rseq", "exit",
    "exit_group", "kill", "tgkill", "tkill", "rename", "renameat", "renameat2", "link",
    "linkat", "unlink", "unlinkat", "mkdir", "mkdirat", "rmdir", "fsync", "fdatasync",
    "sync_file_range",
    "flock", "ftruncate", "truncate", "fchmod", "fchmodat", "getdents", "getdents64",
    "readlink", "readlinkat", "umask", "chdir", "fchdir", "getcwd", "alarm",
    "setitimer", "getitimer", "prlimit64", "getrlimit", "sysinfo", "sched_yield",
    "sched_getaffinity", "sched_getparam", "sched_getscheduler", "wait4", "waitid",
    "restart_syscall", "utimensat", "sendfile", "splice", "copy_file_range",
    "fallocate", "fadvise64", "prctl", "arch_prctl", "membarrier", "getcpu",
    "getpriority", "memfd_create", "mlock", "munlock", "getxattr", "fgetxattr",
    "lgetxattr", "pidfd_open", NULL,
};

const char *const confine_kernel_surface[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2",
    "pivot_root", "unshare", "setns", "init_module", "finit_module", "delete_module",
    "kexec_load", "kexec_file_load", "bpf", "perf_event_open", "keyctl", "add_key",
    "request_key", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "reboot", "swapon", "swapoff", "acct", "quotactl",
    "open_by_handle_at", "name_to_handle_at", "fsopen", "fsmount", "fsconfig",
    "move_mount", "open_tree", "personality", "syslog", "iopl", "ioperm", NULL,
};

CONFINE *confine_create(void)
{
    CONFINE *c = xcalloc(1, sizeof(*c));

    c->landlock = 1;
    return c;
}

void    confine_free(CONFINE *c)
{
    int     i;

    for (i = 0; i < c->npaths; i++)
        xfree(c->paths[i].path);
    xfree(c);
}

/* confine_path - remember one Landlock rule */
static void confine_path(CONFINE *c, const char *path, int how)
{
    if (c->npaths >= CONFINE_PATHS_MAX) {
        c->overflow = 1;
        return;
    }
    c->paths[c->npaths].path = xstrdup(path);
    c->paths[c->npaths].how = how;
    c->npaths++;
}

void    confine_read(CONFINE *c, const char *path)
{
    confine_path(c, path, CONFINE_R);
}

void    confine_write(CONFINE *c, const char *dir)
{
    confine_path(c, dir, CONFINE_R | CONFINE_W);
}

void    confine_exec(CONFINE *c, const char *path)
{
    confine_path(c, path, CONFINE_R | CONFINE_X);
}

void    confine_no_landlock(CONFINE *c)
{
    c->landlock = 0;
}

/* confine_read_except - everything readable but one subtree.
 *
 * Landlock only adds rights, so "all but X" is built from the folders
 * along X's path: at each level every entry except the next component of
 * X gets the read right. An entry made after this call is not covered. */
void    confine_read_except(CONFINE *c, const char *except)
{
    char    real[PATH_MAX];
    char    dir[PATH_MAX];
    const char *next;
    const char *end;
    struct dirent *de;
    DIR    *dp;
    size_t  len;

    /* A path we may not walk (a 0700 folder above it) is used as given:
     * callers pass a canonical path (getcwd). */
    if (realpath(except, real) == NULL
        && (except[0] != '/' || snprintf(real, sizeof(real), "%s", except) >= (int) sizeof(real)))
        real[0] = 0;
    if (real[0] == 0 || strcmp(real, "/") == 0) {
        confine_read(c, "/");           /* nothing sensible to except */
        return;
    }
    strcpy(dir, "/");
    for (next = real + 1; *next; next = *end ? end + 1 : end) {
        end = next + strcspn(next, "/");
        len = (size_t) (end - next);
        if ((dp = opendir(dir)) == NULL)
            break;
        while ((de = readdir(dp)) != NULL) {
            char    entry[PATH_MAX];

            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0
                || (strlen(de->d_name) == len && strncmp(de->d_name, next, len) == 0))
                continue;
            snprintf(entry, sizeof(entry), "%s%s%s", dir, strcmp(dir, "/") ? "/" : "",
                     de->d_name);
            confine_read(c, entry);
        }
        closedir(dp);
        snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "%s%.*s",
                 strcmp(dir, "/") ? "/" : "", (int) len, next);
    }
}

/* confine_names - remember system call names */
static void confine_names(CONFINE *c, const char *const *names)
{
    for (; *names; names++) {
        if (c->nnames >= CONFINE_NAMES_MAX)
            msg_panic("confine: more than %d system call names", CONFINE_NAMES_MAX);
        c->names[c->nnames++] = *names;
    }
}

void    confine_syscalls(CONFINE *c, const char *const *names)
{
    confine_names(c, names);
}

void    confine_deny_only(CONFINE *c, const char *const *names)
{
    c->deny_only = 1;
    confine_names(c, names);
}

/* confine_landlock_rights - what the kernel's ABI can handle */
static uint64_t confine_landlock_rights(int abi)
{
    uint64_t fs = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE
        | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR
        | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE
        | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR
        | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK
        | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK
        | LANDLOCK_ACCESS_FS_MAKE_SYM;

    if (abi >= 2)
        fs |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
    return fs;
}

/* confine_rule_rights - the rights of one rule, as the object allows */
static uint64_t confine_rule_rights(int how, int is_dir, uint64_t handled)
{
    uint64_t file_only = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE
        | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
    uint64_t r = 0;

    if (how & CONFINE_R)
        r |= LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    if (how & CONFINE_W)
        r |= LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_FILE
            | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG
            | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_REFER
            | LANDLOCK_ACCESS_FS_TRUNCATE;
    if (how & CONFINE_X)
        r |= LANDLOCK_ACCESS_FS_EXECUTE;
    if (!is_dir)
        r &= file_only;
    return r & handled;
}

/* confine_landlock - build and enforce the ruleset; 0, 1 (no Landlock), -1 */
static int confine_landlock(CONFINE *c, BUF *why)
{
    struct landlock_ruleset_attr attr;
    struct landlock_path_beneath_attr rule;
    struct stat st;
    long    abi;
    int     ruleset;
    int     fd;
    int     i;

    abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1)
        return 1;
    memset(&attr, 0, sizeof(attr));
    attr.handled_access_fs = confine_landlock_rights((int) abi);
    if ((ruleset = (int) syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0)) < 0) {
        buf_sprintf(why, "landlock_create_ruleset: %s", strerror(errno));
        return -1;
    }
    for (i = 0; i < c->npaths; i++) {
        if ((fd = open(c->paths[i].path, O_PATH | O_CLOEXEC)) < 0)
            continue;                   /* a missing path needs no right */
        memset(&rule, 0, sizeof(rule));
        rule.parent_fd = fd;
        rule.allowed_access = fstat(fd, &st) == 0
            ? confine_rule_rights(c->paths[i].how, S_ISDIR(st.st_mode), attr.handled_access_fs) : 0;
        if (rule.allowed_access
            && syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0) {
            buf_sprintf(why, "landlock_add_rule %s: %s", c->paths[i].path, strerror(errno));
            close(fd);
            close(ruleset);
            return -1;
        }
        close(fd);
    }
    if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
        buf_sprintf(why, "landlock_restrict_self: %s", strerror(errno));
        close(ruleset);
        return -1;
    }
    close(ruleset);
    return 0;
}

/* confine_sigsys - a forbidden system call: say which, then die of it.
 *
 * Only the number is logged (names need a lookup that allocates, and the
 * call may have been made inside malloc); `scmp_sys_resolver N` names it.
 * The alarm ends the process should logging itself get stuck. */
static void confine_sigsys(int sig, siginfo_t *info, void *uctx)
{
    (void) uctx;
    alarm(2);
    msg_warn("confinement: forbidden system call %d (seccomp); the process stops",
             info->si_syscall);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* confine_seccomp - build and load the filter */
static int confine_seccomp(CONFINE *c, BUF *why)
{
    const char *const *np;
    struct sigaction sa;
    scmp_filter_ctx ctx;
    int     nr;
    int     i;
    int     rc;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = confine_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) < 0) {
        buf_sprintf(why, "sigaction SIGSYS: %s", strerror(errno));
        return -1;
    }
    if ((ctx = seccomp_init(c->deny_only ? SCMP_ACT_ALLOW : SCMP_ACT_TRAP)) == NULL) {
        buf_sprintf(why, "seccomp_init failed");
        return -1;
    }
    if (c->deny_only && geteuid() == 0)
        (void) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    for (np = c->deny_only ? NULL : confine_base; np && *np; np++)
        if ((nr = seccomp_syscall_resolve_name(*np)) != __NR_SCMP_ERROR)
            (void) seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    for (i = 0; i < c->nnames; i++)
        if ((nr = seccomp_syscall_resolve_name(c->names[i])) != __NR_SCMP_ERROR)
            (void) seccomp_rule_add(ctx, c->deny_only ? SCMP_ACT_TRAP : SCMP_ACT_ALLOW, nr, 0);
    rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc < 0) {
        buf_sprintf(why, "seccomp_load: %s", strerror(-rc));
        return -1;
    }
    return 0;
}

int     confine_apply(CONFINE *c, BUF *why)
{
    int     ll = 1;

    if (c->overflow) {
        buf_sprintf(why, "more than %d confinement paths", CONFINE_PATHS_MAX);
        return -1;
    }
    /* Landlock needs no_new_privs (or CAP_SYS_ADMIN); the allow-list filter
     * sets it anyway. A deny-only profile keeps set-uid helpers working. */
    if (c->landlock && !c->deny_only) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
            buf_sprintf(why, "prctl no_new_privs: %s", strerror(errno));
            return -1;
        }
        if ((ll = confine_landlock(c, why)) < 0)
            return -1;
        if (ll > 0)
            msg_debug("confinement: no Landlock in this kernel; seccomp only");
    }
    return confine_seccomp(c, why);
}
