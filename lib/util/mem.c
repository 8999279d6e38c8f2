/* mem - allocation that never returns NULL; see mem.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "msg.h"

/* xmalloc - allocate or die; a zero size still returns a unique pointer */
void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL)
        msg_panic("out of memory allocating %zu bytes", size);
    return p;
}

/* xcalloc - zeroed allocation with overflow check */
void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);

    if (p == NULL)
        msg_panic("out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

/* xrealloc - resize or die */
void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    if (p == NULL)
        msg_panic("out of memory reallocating %zu bytes", size);
    return p;
}

/* xreallocarray - resize an array, refusing count * size overflow */
void *xreallocarray(void *ptr, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        msg_panic("allocation overflow: %zu x %zu", count, size);
    return xrealloc(ptr, count * size);
}

/* xstrdup - copy a NUL-terminated string */
char *xstrdup(const char *str)
{
    return xmemdup(str, strlen(str) + 1);
}

/* xstrndup - copy at most len bytes and terminate */
char *xstrndup(const char *str, size_t len)
{
    size_t n = strnlen(str, len);
    char *p = xmalloc(n + 1);

    memcpy(p, str, n);
    p[n] = 0;
    return p;
}

/* xmemdup - copy a byte range */
void *xmemdup(const void *data, size_t len)
{
    void *p = xmalloc(len);

    memcpy(p, data, len);
    return p;
}
