/*
 * NAME
 *      test-confine - a daemon under a real confinement profile, on request
 *      making the calls the profile forbids
 * SYNOPSIS
 *      test-confine (started by master)
 * DESCRIPTION
 *      Confined by the skeleton exactly as smtpd is (the smtpd profile of
 *      lib/global/server_confine.c), then for each client line:
 *          read PATH      open PATH for reading: "ok" or the error
 *          write PATH     create PATH: "ok" or the error
 *          exec           execve /bin/true (seccomp kills the process)
 *          status         the Seccomp and NoNewPrivs lines of /proc/self/status
 *      tests/integration/test_confine.py uses it to show that a violation
 *      kills the process and that the master logs it.
 * SECURITY
 *      Test program only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "server.h"

/* confine_try_open - "ok" or strerror */
static const char *confine_try_open(const char *path, int flags)
{
    int     fd = open(path, flags | O_CLOEXEC, 0600);

    if (fd < 0)
        return strerror(errno);
    close(fd);
    return "ok";
}

/* confine_status - the confinement lines of our own /proc status */
static void confine_status(BUF *out)
{
    char    line[256];
    FILE   *fp = fopen("/proc/self/status", "r");

    buf_reset(out);
    while (fp && fgets(line, sizeof(line), fp))
        if (strncmp(line, "Seccomp:", 8) == 0 || strncmp(line, "NoNewPrivs:", 11) == 0) {
            line[strcspn(line, "\n")] = 0;
            buf_printf(out, "%s ", line);
        }
    if (fp)
        fclose(fp);
}

/* confine_service - one client: one command per line */
static void confine_service(STREAM *client, const SERVER_CTX *ctx)
{
    BUF    *line = buf_alloc(100);
    BUF    *out = buf_alloc(100);
    char   *const argv[] = {(char *) "/bin/true", NULL};

    (void) ctx;
    stream_set_timeout(client, 30);
    while (stream_get_line(client, line, 1000) >= STREAM_LINE_OK) {
        buf_trim_right(line);
        if (strncmp(buf_str(line), "read ", 5) == 0)
            buf_set(out, confine_try_open(buf_str(line) + 5, O_RDONLY));
        else if (strncmp(buf_str(line), "write ", 6) == 0)
            buf_set(out, confine_try_open(buf_str(line) + 6, O_WRONLY | O_CREAT));
        else if (strcmp(buf_str(line), "exec") == 0)
            buf_sprintf(out, "exec returned: %s", (execve(argv[0], argv, NULL), strerror(errno)));
        else if (strcmp(buf_str(line), "status") == 0)
            confine_status(out);
        else
            buf_set(out, "unknown command");
        if (stream_printf(client, "%s\n", buf_str(out)) < 0 || stream_flush(client) < 0)
            break;
    }
    buf_free(line);
    buf_free(out);
}

int     main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {.confine = "smtpd"};

    single_server_main(argc, argv, confine_service, &hooks);
}
