/* testsupport - small helpers shared by the Check suites. */
#ifndef SUREL_TESTSUPPORT_H
#define SUREL_TESTSUPPORT_H

#include <stddef.h>

char   *ts_tempdir(void);                       /* a fresh folder, removed at exit */
char   *ts_path(const char *dir, const char *name);     /* dir/name, malloc'ed */
void    ts_write_file(const char *path, const char *text);
char   *ts_read_file(const char *path, size_t *len);    /* malloc'ed, NUL-terminated */
int     ts_run_suite(void *suite);              /* Check Suite *; exit status */

#endif
