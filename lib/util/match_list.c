/* match_list - parse Postfix-style match lists once, match them many times.
 *
 * Addresses are kept as 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d)
 * with its prefix length plus 96: one comparison then serves both
 * families, and an IPv4-mapped client matches the IPv4 networks. An IPv6
 * network shorter than /96 never matches an IPv4 client (::/0 is "every
 * IPv6 client", not "everybody").
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dict.h"
#include "match_list.h"
#include "mem.h"
#include "msg.h"
#include "str_split.h"

#define MATCH_FILE_DEPTH    5       /* /file patterns that name /files */

typedef enum entry_kind {
    ENTRY_NET,                      /* address or network */
    ENTRY_NAME,                     /* host or domain name pattern */
    ENTRY_TABLE                     /* type:table */
} ENTRY_KIND;

typedef struct MATCH_ENTRY {
    ENTRY_KIND kind;
    int     negate;                 /* pattern was !pattern */
    unsigned char net[16];          /* ENTRY_NET: network, host bits zero */
    int     prefix;                 /* ENTRY_NET: 0..128 */
    char   *name;                   /* ENTRY_NAME: lower case; ENTRY_TABLE: type:name */
    MAPS   *maps;                   /* ENTRY_TABLE */
} MATCH_ENTRY;

struct MATCH_LIST {
    char   *param;                  /* parameter name, for warnings */
    int     flags;                  /* MATCH_FLAG_* */
    int     hosts;                  /* host list: address patterns allowed */
    MATCH_ENTRY *entries;
    int     count;
    int     cap;
};

static int match_add_text(MATCH_LIST *list, const char *text, int depth, BUF *why);

/* match_parse_addr - IPv4 or IPv6 text to 16 bytes (IPv4 mapped) */
int match_parse_addr(const char *text, unsigned char addr[16])
{
    unsigned char v4[4];

    if (strchr(text, ':') != NULL)
        return inet_pton(AF_INET6, text, addr) == 1 ? 0 : -1;
    if (strspn(text, "0123456789.") != strlen(text) || inet_pton(AF_INET, text, v4) != 1)
        return -1;
    memset(addr, 0, 10);
    addr[10] = addr[11] = 0xff;
    memcpy(addr + 12, v4, 4);
    return 0;
}

/* is_mapped - inside ::ffff:0:0/96? */
static int is_mapped(const unsigned char addr[16])
{
    static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    return memcmp(addr, prefix, sizeof(prefix)) == 0;
}

/* net_contains - is addr inside net/prefix? */
static int net_contains(const unsigned char net[16], int prefix, const unsigned char addr[16])
{
    int     bytes = prefix / 8;
    int     bits = prefix % 8;

    if (memcmp(net, addr, (size_t) bytes) != 0)
        return 0;
    if (bits == 0)
        return 1;
    return ((net[bytes] ^ addr[bytes]) & (0xff << (8 - bits))) == 0;
}

/* entry_add - room for one more entry */
static MATCH_ENTRY *entry_add(MATCH_LIST *list)
{
    MATCH_ENTRY *entry;

    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->entries = xreallocarray(list->entries, (size_t) list->cap, sizeof(*entry));
    }
    entry = &list->entries[list->count++];
    memset(entry, 0, sizeof(*entry));
    return entry;
}

/* parse_net - "a.b.c.d[/n]", "[v6][/n]", "v6[/n]"; 1 if it is one, 0 if
 * not an address at all, -1 (with why) if it is a broken one */
static int parse_net(const char *pattern, unsigned char net[16], int *prefix, BUF *why)
{
    char    text[INET6_ADDRSTRLEN + 8];
    const char *slash;
    size_t  len;
    char   *end;
    long    bits = -1;
    int     bracketed = pattern[0] == '[';
    int     v4;
    int     i;

    slash = strrchr(pattern, '/');
    len = slash ? (size_t) (slash - pattern) : strlen(pattern);
    if (bracketed) {
        if (len < 3 || pattern[len - 1] != ']')
            return buf_sprintf(why, "bad address pattern: %s", pattern), -1;
        pattern++;
        len -= 2;
    } else if (strspn(pattern, "0123456789.") < len && strchr(pattern, ':') == NULL) {
        return 0;                       /* a name */
    }
    if (len >= sizeof(text))
        return buf_sprintf(why, "bad address pattern: %s", pattern), -1;
    memcpy(text, pattern, len);
    text[len] = 0;
    if (match_parse_addr(text, net) < 0)
        return strchr(text, ':') && !bracketed ? 0      /* type:table */
            : (buf_sprintf(why, "bad address pattern: %s", text), -1);
    v4 = strchr(text, ':') == NULL;
    if (slash) {
        if (!isdigit((unsigned char) slash[1])
            || (bits = strtol(slash + 1, &end, 10)) < 0 || *end != 0 || bits > (v4 ? 32 : 128))
            return buf_sprintf(why, "bad network prefix length: %s", slash), -1;
    }
    *prefix = (int) (bits < 0 ? 128 : v4 ? bits + 96 : bits);
    for (i = *prefix; i < 128; i++) {
        if (net[i / 8] & (0x80 >> (i % 8))) {
            buf_sprintf(why, "non-null host address bits in \"%s%s\"", text, slash ? slash : "");
            return -1;
        }
    }
    return 1;
}

/* add_file - patterns from /file/name, any number a line */
typedef struct FILE_CTX {
    MATCH_LIST *list;
    int     depth;
    BUF    *why;
} FILE_CTX;

static int add_file_line(char *line, int lineno, void *ctx)
{
    FILE_CTX *fc = ctx;

    return match_add_text(fc->list, line, fc->depth + 1, fc->why) < 0;
}

static int add_file(MATCH_LIST *list, const char *path, int depth, BUF *why)
{
    FILE_CTX fc = {list, depth, why};

    if (depth >= MATCH_FILE_DEPTH)
        return buf_sprintf(why, "%s: files nested too deep", path), -1;
    if (dict_read_lines(path, add_file_line, &fc, why) < 0) {
        if (buf_len(why) == 0)
            buf_sprintf(why, "%s: cannot read", path);
        return -1;
    }
    return 0;
}

/* add_pattern - one pattern, with its ! if any */
static int add_pattern(MATCH_LIST *list, const char *pattern, int depth, BUF *why)
{
    MATCH_ENTRY *entry;
    unsigned char net[16];
    int     prefix = 0;
    int     negate = 0;
    int     status;

    if (*pattern == '!') {
        negate = 1;
        pattern++;
        if (*pattern == 0 || *pattern == '!')
            return buf_sprintf(why, "bad negation in \"%s\"", pattern - 1), -1;
    }
    if (*pattern == '#')
        return buf_sprintf(why, "\"%s\": '#' is no comment inside a value; "
                           "put comments on lines of their own", pattern), -1;
    if (*pattern == '/') {
        if (negate)
            return buf_sprintf(why, "\"!%s\": a file can't be negated", pattern), -1;
        return add_file(list, pattern, depth, why);
    }
    status = list->hosts ? parse_net(pattern, net, &prefix, why) : 0;
    if (status < 0)
        return -1;
    if (status > 0) {
        entry = entry_add(list);
        entry->kind = ENTRY_NET;
        memcpy(entry->net, net, sizeof(net));
        entry->prefix = prefix;
    } else if (strchr(pattern, ':') != NULL && *pattern != '[') {
        MAPS   *maps = maps_open(pattern, 0, why);

        if (maps == NULL)
            return -1;
        entry = entry_add(list);
        entry->kind = ENTRY_TABLE;
        entry->maps = maps;
        entry->name = xstrdup(pattern);
    } else {
        entry = entry_add(list);
        entry->kind = ENTRY_NAME;
        entry->name = xstrdup(pattern);
        dict_fold(entry->name);
    }
    entry->negate = negate;
    return 0;
}

/* match_add_text - every pattern of a comma/space separated text */
static int match_add_text(MATCH_LIST *list, const char *text, int depth, BUF *why)
{
    const char *cp = text;
    char   *item;

    buf_reset(why);
    while ((item = str_split_next(&cp, why)) != NULL) {
        int     status = add_pattern(list, item, depth, why);

        xfree(item);
        if (status < 0)
            return -1;
    }
    return buf_len(why) ? -1 : 0;
}

/* list_init - a list of either kind; NULL + why on a broken pattern */
static MATCH_LIST *list_init(const char *param, const char *text, int flags, int hosts,
                             BUF *why)
{
    MATCH_LIST *list = xcalloc(1, sizeof(*list));
    BUF    *reason = buf_alloc(64);

    list->param = xstrdup(param);
    list->flags = flags;
    list->hosts = hosts;
    if (match_add_text(list, text, 0, reason) < 0) {
        if (why)
            buf_sprintf(why, "%s: %s", param, buf_str(reason));
        match_list_free(list);
        list = NULL;
    }
    buf_free(reason);
    return list;
}

MATCH_LIST *host_list_init(const char *param, const char *text, int flags, BUF *why)
{
    return list_init(param, text, flags, 1, why);
}

MATCH_LIST *domain_list_init(const char *param, const char *text, int flags, BUF *why)
{
    return list_init(param, text, flags, 0, why);
}

/* match_list_free - release a list and close its tables */
void    match_list_free(MATCH_LIST *list)
{
    int     i;

    if (list == NULL)
        return;
    for (i = 0; i < list->count; i++) {
        if (list->entries[i].maps)
            maps_close(list->entries[i].maps);
        xfree(list->entries[i].name);
    }
    xfree(list->entries);
    xfree(list->param);
    xfree(list);
}

/* name_matches - does a lower-case name match a name pattern? */
static int name_matches(const MATCH_LIST *list, const char *pattern, const char *name)
{
    size_t  plen = strlen(pattern);
    size_t  nlen = strlen(name);

    if (*pattern == '.')                /* .example.com: subdomains only */
        return nlen > plen && strcmp(name + nlen - plen, pattern) == 0;
    if (strcmp(name, pattern) == 0)
        return 1;
    return (list->flags & MATCH_FLAG_PARENT) && nlen > plen
        && name[nlen - plen - 1] == '.' && strcmp(name + nlen - plen, pattern) == 0;
}

/* table_find - one key; MATCH_YES, MATCH_NO or MATCH_TRYLATER */
static MATCH_RESULT table_find(const MATCH_LIST *list, const MATCH_ENTRY *entry,
                               const char *key, BUF *value, BUF *why)
{
    switch (maps_find(entry->maps, key, value, why)) {
    case DICT_FOUND:
        return MATCH_YES;
    case DICT_NOTFOUND:
        return MATCH_NO;
    default:
        msg_warn("%s: %s: lookup of \"%s\" failed: %s", list->param, entry->name, key,
                 buf_str(why));
        return MATCH_TRYLATER;
    }
}

/* table_name - the name, then its parents: "b.c", "c" with MATCH_FLAG_PARENT,
 * else ".b.c", ".c" (Postfix's access-table style) */
static MATCH_RESULT table_name(const MATCH_LIST *list, const MATCH_ENTRY *entry,
                               const char *name, BUF *value, BUF *why)
{
    const char *cp = name;
    MATCH_RESULT result;

    for (;;) {
        if ((result = table_find(list, entry, cp, value, why)) != MATCH_NO)
            return result;
        if ((cp = strchr(cp + 1, '.')) == NULL || cp[1] == 0)
            return MATCH_NO;
        if (list->flags & MATCH_FLAG_PARENT)
            cp++;
    }
}

/* lower_name - lower case copy without one trailing dot */
static char *lower_name(const char *name)
{
    char   *copy = xstrdup(name);
    size_t  len = strlen(copy);

    if (len > 1 && copy[len - 1] == '.' && copy[len - 2] != '.')
        copy[len - 1] = 0;
    dict_fold(copy);
    return copy;
}

/* list_match - the shared loop: first matching entry wins */
static MATCH_RESULT list_match(MATCH_LIST *list, const char *name, const char *addr)
{
    unsigned char bin[16];
    int     have_addr = addr && match_parse_addr(addr, bin) == 0;
    char   *low = name && *name ? lower_name(name) : NULL;
    char    v4text[INET_ADDRSTRLEN];
    BUF    *value = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    MATCH_RESULT result = MATCH_NO;
    int     i;

    if (have_addr && is_mapped(bin) && strchr(addr, ':'))
        inet_ntop(AF_INET, bin + 12, v4text, sizeof(v4text));
    else
        v4text[0] = 0;
    for (i = 0; i < list->count && result == MATCH_NO; i++) {
        const MATCH_ENTRY *entry = &list->entries[i];

        switch (entry->kind) {
        case ENTRY_NET:
            /* an IPv4 client matches only networks inside ::ffff:0:0/96 */
            if (have_addr && (!is_mapped(bin) || entry->prefix >= 96)
                && net_contains(entry->net, entry->prefix, bin))
                result = MATCH_YES;
            break;
        case ENTRY_NAME:
            if (low && name_matches(list, entry->name, low))
                result = MATCH_YES;
            break;
        case ENTRY_TABLE:
            if (low)
                result = table_name(list, entry, low, value, why);
            if (result == MATCH_NO && have_addr)
                result = table_find(list, entry, addr, value, why);
            if (result == MATCH_NO && *v4text)
                result = table_find(list, entry, v4text, value, why);
            break;
        }
        if (result == MATCH_YES && entry->negate)
            result = MATCH_NO, i = list->count;     /* stop: negated match */
    }
    xfree(low);
    buf_free(value);
    buf_free(why);
    return result;
}

/* host_list_match - does a client (name and address) match the list? */
MATCH_RESULT host_list_match(MATCH_LIST *list, const char *name, const char *addr)
{
    if (name && strcasecmp(name, "unknown") == 0)
        name = NULL;                    /* no verified name: match the address only */
    return list_match(list, name, addr);
}

/* domain_list_match - does a domain match the list? */
MATCH_RESULT domain_list_match(MATCH_LIST *list, const char *domain)
{
    if (domain == NULL || *domain == 0)
        return MATCH_NO;
    return list_match(list, domain, NULL);
}
