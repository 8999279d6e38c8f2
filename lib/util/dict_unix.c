/* dict_unix - unix:passwd.byname and unix:group.byname: the system's
 * account databases (through NSS, so LDAP or sssd accounts count too).
 *
 * The result is the entry in /etc/passwd (or /etc/group) form, as Postfix
 * returns it: name:passwd:uid:gid:gecos:dir:shell, or
 * name:passwd:gid:member,member. A failing name service (not "no such
 * user", but an error) answers TRYLATER: local_recipient_maps must not
 * bounce mail because LDAP is down.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "dict.h"
#include "mem.h"

#define UNIX_BUF_MAX    (1024 * 1024)   /* getpw*_r scratch space limit */

typedef DICT_STATUS (*UNIX_LOOKUP) (const char *, BUF *, BUF *, char *, size_t, int *);

/* unix_passwd - one passwd entry in /etc/passwd form */
static DICT_STATUS unix_passwd(const char *key, BUF *result, BUF *why,
                               char *scratch, size_t size, int *err)
{
    struct passwd pw;
    struct passwd *pwp = NULL;

    if ((*err = getpwnam_r(key, &pw, scratch, size, &pwp)) != 0)
        return DICT_TRYLATER;
    if (pwp == NULL)
        return DICT_NOTFOUND;
    buf_sprintf(result, "%s:%s:%ld:%ld:%s:%s:%s", pw.pw_name, pw.pw_passwd,
                (long) pw.pw_uid, (long) pw.pw_gid, pw.pw_gecos, pw.pw_dir,
                pw.pw_shell);
    return DICT_FOUND;
}

/* unix_group - one group entry in /etc/group form */
static DICT_STATUS unix_group(const char *key, BUF *result, BUF *why,
                              char *scratch, size_t size, int *err)
{
    struct group gr;
    struct group *grp = NULL;
    char  **mem;

    if ((*err = getgrnam_r(key, &gr, scratch, size, &grp)) != 0)
        return DICT_TRYLATER;
    if (grp == NULL)
        return DICT_NOTFOUND;
    buf_sprintf(result, "%s:%s:%ld:", gr.gr_name, gr.gr_passwd, (long) gr.gr_gid);
    for (mem = gr.gr_mem; *mem; mem++)
        buf_printf(result, "%s%s", mem == gr.gr_mem ? "" : ",", *mem);
    return DICT_FOUND;
}

/* The tables this type knows. */
typedef struct UNIX_TABLE {
    const char *name;
    UNIX_LOOKUP fn;
} UNIX_TABLE;

static const UNIX_TABLE unix_tables[] = {
    {"passwd.byname", unix_passwd},
    {"group.byname", unix_group},
};

/* unix_open - pick passwd.byname or group.byname */
static DICT *unix_open(const char *name, int flags, BUF *why)
{
    DICT   *dict;
    size_t  i;

    for (i = 0; i < sizeof(unix_tables) / sizeof(unix_tables[0]); i++) {
        if (strcmp(name, unix_tables[i].name) == 0) {
            dict = dict_alloc(&dict_unix_type, name, flags);
            dict->priv = (void *) &unix_tables[i];
            return dict;
        }
    }
    buf_sprintf(why, "unix:%s: unknown table (known: passwd.byname, group.byname)", name);
    return NULL;
}

/* unix_lookup - ask NSS, growing the scratch buffer for big entries */
static DICT_STATUS unix_lookup(DICT *dict, const char *key, BUF *result, BUF *why)
{
    const UNIX_TABLE *table = dict->priv;
    DICT_STATUS status;
    size_t  size = 4096;
    char   *scratch;
    int     err;

    if (*key == 0)
        return DICT_NOTFOUND;
    for (;;) {
        scratch = xmalloc(size);
        status = table->fn(key, result, why, scratch, size, &err);
        xfree(scratch);
        if (status != DICT_TRYLATER || err != ERANGE || size >= UNIX_BUF_MAX)
            break;
        size *= 2;                      /* a big group: more room */
    }
    /* Some NSS modules say "no such name" with these errors. */
    if (status == DICT_TRYLATER && (err == ENOENT || err == ESRCH))
        return DICT_NOTFOUND;
    if (status == DICT_TRYLATER)
        buf_sprintf(why, "unix:%s: lookup of \"%s\": %s", dict->name, key, strerror(err));
    return status;
}

/* unix_close - release the table */
static void unix_close(DICT *dict)
{
    dict_free(dict);
}

const DICT_TYPE dict_unix_type = {
    "unix", unix_open, unix_lookup, unix_close, NULL, NULL, NULL, NULL,
};
