/* mem - allocation that never returns NULL.
 *
 * Every allocator here either succeeds or ends the process through
 * msg_panic(): a daemon that cannot allocate a few bytes cannot do anything
 * useful, and checking NULL at every call site is where bugs hide.
 * Size arithmetic is overflow-checked (qmail CVE-2005-1513).
 */
#ifndef SUREL_MEM_H
#define SUREL_MEM_H

#include <stddef.h>
#include <stdlib.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *str);
char *xstrndup(const char *str, size_t len);
void *xmemdup(const void *data, size_t len);

/* xfree - free(), spelled so that grep finds every release. */
#define xfree(p) free(p)

#endif
