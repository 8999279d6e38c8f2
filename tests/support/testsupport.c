/* testsupport - small helpers shared by the Check suites; see testsupport.h. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "msg.h"
#include "testsupport.h"

static char *ts_dirs[64];
static int ts_ndirs;
static pid_t ts_owner_pid;

/* ts_cleanup - remove the temp folders this process made (not its forks') */
static void ts_cleanup(void)
{
    char    cmd[4200];
    int     i;

    if (getpid() != ts_owner_pid)
        return;
    for (i = 0; i < ts_ndirs; i++) {
        /* Test-owned mkdtemp paths only; no user data reaches this string. */
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ts_dirs[i]);
        (void) !system(cmd);
    }
}

char *ts_tempdir(void)
{
    char    tmpl[] = "/tmp/surel-test-XXXXXX";
    char   *dir = mkdtemp(tmpl);

    if (dir == NULL)
        msg_fatal("mkdtemp: %m");
    if (ts_ndirs == 0) {
        ts_owner_pid = getpid();
        atexit(ts_cleanup);
    }
    if (ts_ndirs < (int) (sizeof(ts_dirs) / sizeof(ts_dirs[0])))
        ts_dirs[ts_ndirs++] = xstrdup(dir);
    return xstrdup(dir);
}

char *ts_path(const char *dir, const char *name)
{
    size_t  len = strlen(dir) + strlen(name) + 2;
    char   *p = xmalloc(len);

    snprintf(p, len, "%s/%s", dir, name);
    return p;
}

void ts_write_file(const char *path, const char *text)
{
    FILE   *fp = fopen(path, "w");

    if (fp == NULL)
        msg_fatal("open %s: %m", path);
    fputs(text, fp);
    if (fclose(fp) != 0)
        msg_fatal("write %s: %m", path);
}

char *ts_read_file(const char *path, size_t *lenp)
{
    FILE   *fp = fopen(path, "r");
    char   *data;
    long    len;

    if (fp == NULL)
        return NULL;
    fseek(fp, 0, SEEK_END);
    len = ftell(fp);
    rewind(fp);
    data = xmalloc((size_t) len + 1);
    if (fread(data, 1, (size_t) len, fp) != (size_t) len)
        msg_fatal("read %s: %m", path);
    data[len] = 0;
    fclose(fp);
    if (lenp)
        *lenp = (size_t) len;
    return data;
}

/* ts_run_suite - run a suite (fork mode: a crash fails one test, not all) */
int ts_run_suite(void *suite)
{
    SRunner *sr = srunner_create((Suite *) suite);
    int     failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
