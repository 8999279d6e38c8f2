/* cleanup_dup - a set of strings: the duplicate recipient filter.
 *
 * Open hashing with chains; it grows so that lookups stay O(1) for the
 * largest recipient list a message may have (CLEANUP_RCPT_MAX).
 */
#include <stdint.h>
#include <string.h>

#include "cleanup.h"
#include "mem.h"

typedef struct DUP_ENTRY {
    struct DUP_ENTRY *next;
    char   *key;
} DUP_ENTRY;

typedef struct DUP_SET {
    DUP_ENTRY **slots;
    size_t  size;                   /* power of two */
    size_t  used;
} DUP_SET;

/* dup_hash - FNV-1a */
static size_t dup_hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *key; key++) {
        h ^= (unsigned char) *key;
        h *= 1099511628211ULL;
    }
    return (size_t) h;
}

void   *cleanup_dup_create(void)
{
    DUP_SET *set = xcalloc(1, sizeof(*set));

    set->size = 16;
    set->slots = xcalloc(set->size, sizeof(*set->slots));
    return set;
}

/* dup_grow - double the table when it is as full as it is big */
static void dup_grow(DUP_SET *set)
{
    size_t  nsize = set->size * 2, i;
    DUP_ENTRY **nslots = xcalloc(nsize, sizeof(*nslots));

    for (i = 0; i < set->size; i++) {
        DUP_ENTRY *e = set->slots[i], *next;

        for (; e; e = next) {
            size_t  h = dup_hash(e->key) & (nsize - 1);

            next = e->next;
            e->next = nslots[h];
            nslots[h] = e;
        }
    }
    xfree(set->slots);
    set->slots = nslots;
    set->size = nsize;
}

/* cleanup_dup_seen - 1 if key was there; else remember it and say 0 */
int cleanup_dup_seen(void *context, const char *key)
{
    DUP_SET *set = context;
    size_t  h = dup_hash(key) & (set->size - 1);
    DUP_ENTRY *e;

    for (e = set->slots[h]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return 1;
    e = xmalloc(sizeof(*e));
    e->key = xstrdup(key);
    e->next = set->slots[h];
    set->slots[h] = e;
    if (++set->used > set->size)
        dup_grow(set);
    return 0;
}

void cleanup_dup_free(void *context)
{
    DUP_SET *set = context;
    size_t  i;

    if (set == NULL)
        return;
    for (i = 0; i < set->size; i++) {
        DUP_ENTRY *e = set->slots[i], *next;

        for (; e; e = next) {
            next = e->next;
            xfree(e->key);
            xfree(e);
        }
    }
    xfree(set->slots);
    xfree(set);
}
