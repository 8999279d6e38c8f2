/*
 * NAME
 *      surel logrotate - rotate maillog_file (Postfix's `postfix logrotate`)
 * SYNOPSIS
 *      surel [-c config_dir] logrotate
 * DESCRIPTION
 *      Renames maillog_file to maillog_file.SUFFIX, SUFFIX being the time
 *      formatted by maillog_file_rotate_suffix (strftime(3), default
 *      %Y%m%d-%H%M%S), creates a new, empty maillog_file with the old
 *      one's owner, group and mode (postlogd runs as mail_owner and only
 *      reopens it), waits until no writer is in the middle of a line of
 *      the renamed file (an exclusive flock: lib/util/logwriter.h, whose
 *      writers check the name under a shared one before every line), and
 *      then runs maillog_file_compressor (default gzip) on the renamed
 *      file. From the rename on, no line is written to the renamed file:
 *      postlogd, and the master when it writes directly, see that the
 *      name moved before their next line and reopen it, with no signal
 *      and no reload (Postfix's postfix-script reloads and sleeps a
 *      second instead). Works whether or not the mail system runs.
 *
 *      Refused (exit 1, nothing changed): an empty maillog_file,
 *      maillog_file_rotate_suffix or maillog_file_compressor; a /dev/
 *      file (/dev/stdout); a maillog_file outside maillog_file_prefixes;
 *      a maillog_file that is not a regular file with one link; a
 *      rotated name that exists already (two rotations in the same
 *      second with the default suffix). A compressor that fails leaves
 *      the renamed file as it is and exits 1.
 * SECURITY
 *      Needs the instance owner's rights (root for a system instance).
 *      The compressor is run with an argv list (compressor, file), found
 *      through PATH, never through a shell; the file names come from
 *      main.cf.
 * PARAMETERS READ
 *      maillog_file, maillog_file_rotate_suffix, maillog_file_compressor,
 *      maillog_file_prefixes, syslog_name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "maillog.h"
#include "msg.h"
#include "surel.h"

/* rotate_param - a parameter that must not be empty */
static const char *rotate_param(PARAM_ID param)
{
    const char *value = config_str(param);

    if (*value == 0)
        msg_fatal("empty '%s' parameter value - logfile rotation failed",
                  config_param_info(param)->name);
    return value;
}

/* rotate_new_file - the new maillog_file, as the old one was */
static void rotate_new_file(const char *path, const struct stat *old)
{
    int     fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      old->st_mode & 0666);

    if (fd < 0) {
        if (errno == EEXIST)            /* a writer was quicker: it made it */
            return;
        msg_fatal("create %s: %m", path);
    }
    if (fchown(fd, old->st_uid, old->st_gid) < 0 && geteuid() == 0)
        msg_warn("chown %s: %m", path);
    (void) fchmod(fd, old->st_mode & 0666);
    close(fd);
}

/* rotate_wait_writers - no writer is inside a line of the renamed file */
static void rotate_wait_writers(const char *rotated, const struct stat *old)
{
    struct stat st;
    int     fd = open(rotated, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        msg_fatal("open %s: %m", rotated);
    if (fstat(fd, &st) < 0 || st.st_dev != old->st_dev || st.st_ino != old->st_ino)
        msg_fatal("%s changed while it was rotated", rotated);
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR)
            msg_fatal("flock %s: %m", rotated);
    (void) flock(fd, LOCK_UN);
    close(fd);
}

/* rotate_compress - run the compressor on the renamed file, no shell */
static void rotate_compress(const char *compressor, const char *rotated)
{
    char   *argv[3];
    pid_t   pid;
    int     status;

    argv[0] = (char *) compressor;
    argv[1] = (char *) rotated;
    argv[2] = NULL;
    if ((pid = fork()) < 0)
        msg_fatal("fork: %m");
    if (pid == 0) {
        execvp(compressor, argv);
        fprintf(stderr, "surel/logrotate: exec %s: %s\n", compressor, strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            msg_fatal("waitpid: %m");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        msg_fatal("logfile '%s' rotation failed: %s %s: %s %d", config_str(P_maillog_file),
                  compressor, rotated, WIFEXITED(status) ? "exit status" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/* surel_logrotate_main - the `surel logrotate` verb */
int surel_logrotate_main(int argc, char **argv)
{
    const char *path;
    const char *suffix_fmt;
    const char *compressor;
    char    suffix[256];
    BUF    *rotated;
    BUF    *why;
    struct stat st;
    struct stat taken;
    struct tm tm;
    time_t  now = time(NULL);

    if (argc != 1) {
        fprintf(stderr, "usage: surel logrotate (no arguments)\n");
        return 2;
    }
    (void) argv;
    config_init(surel_config_dir);
    msg_set_name(config_str(P_syslog_name));
    path = rotate_param(P_maillog_file);
    suffix_fmt = rotate_param(P_maillog_file_rotate_suffix);
    compressor = rotate_param(P_maillog_file_compressor);
    if (strncmp(path, "/dev/", 5) == 0)
        msg_fatal("not rotating '%s'", path);
    why = buf_alloc(100);
    if (!maillog_file_allowed(path, why))
        msg_fatal("%s", buf_str(why));
    localtime_r(&now, &tm);
    /* The format is main.cf's, as Postfix's `date +$maillog_file_rotate_suffix`;
     * strftime takes no arguments from it, so it cannot read memory. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    if (strftime(suffix, sizeof(suffix), suffix_fmt, &tm) == 0 || strchr(suffix, '/'))
#pragma GCC diagnostic pop
        msg_fatal("maillog_file_rotate_suffix '%s' gives no usable suffix", suffix_fmt);
    rotated = buf_alloc(256);
    buf_sprintf(rotated, "%s.%s", path, suffix);
    if (lstat(path, &st) < 0)
        msg_fatal("logfile '%s' rotation failed: %m", path);
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
        msg_fatal("logfile '%s' rotation failed: not a regular file with one link", path);
    if (lstat(buf_str(rotated), &taken) == 0 || errno != ENOENT)
        msg_fatal("logfile '%s' rotation failed: %s exists", path, buf_str(rotated));

    if (rename(path, buf_str(rotated)) < 0)
        msg_fatal("logfile '%s' rotation failed: rename to %s: %m", path, buf_str(rotated));
    rotate_new_file(path, &st);
    rotate_wait_writers(buf_str(rotated), &st);
    rotate_compress(compressor, buf_str(rotated));
    /* Through postlogd (or directly) into the new file. */
    (void) maillog_client(1);
    msg_info("logfile '%s' rotated to '%s' (%s)", path, buf_str(rotated), compressor);
    buf_free(rotated);
    buf_free(why);
    return 0;
}
