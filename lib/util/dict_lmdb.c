/* dict_lmdb - lmdb:/path/file tables: an LMDB file /path/file.lmdb built from
 * the text file /path/file; and hash:/path/file and btree:/path/file, the
 * same engine under Postfix's Berkeley DB names, in the file /path/file.db.
 *
 * Why hash: and btree: are LMDB here: Debian's stock main.cf says
 * `alias_maps = hash:/etc/aliases` and `default_database_type = hash`, and
 * administrators' scripts run `postmap hash:/etc/postfix/virtual`; those
 * names and the `.db` file next to the source must keep working. Berkeley
 * DB itself would be one more library (Oracle's, deprecated in Debian) for
 * no gain: its files are rebuilt from their text sources by one command. A
 * `.db` file that Postfix built is recognised by Berkeley DB's magic number
 * and refused with the command that rebuilds it, never misread.
 *
 * Building writes a complete new database into a temporary file in the same
 * folder, syncs it and renames it over the old one. A database file is thus
 * never written after it becomes visible under its name, which is what
 * makes lock-free readers safe: readers open with MDB_RDONLY | MDB_NOLOCK
 * (no lock file, no reader table, nothing a reader could leave stale), and
 * a reader that holds the old file keeps a consistent snapshot until it
 * notices the rename.
 *
 * Reopen on change: every lookup stat()s the database name and reopens when
 * the device, inode, size or modification time differ from the open file
 * (a rename always brings a new inode). In a chroot the name is out of
 * sight: the open file serves until it is replaced, then the process
 * restarts (lmdb_refresh). A stat costs about a microsecond,
 * far below a lookup's other costs, so it is done on every lookup rather
 * than rate-limited: a daemon sees `surel map build` results at once, and
 * tests need no clock.
 *
 * Keys are folded to lower case when built; values are stored as written.
 * Keys and values are stored without a terminating NUL.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dict.h"
#include "mem.h"
#include "msg.h"
#include "safe_file.h"

#define LMDB_MAP_MIN        ((size_t) 1024 * 1024)  /* map size unit of a build */
#define LMDB_MAP_MAX        ((size_t) 1 << 40)      /* give up beyond this */

/* The state of one open table. */
typedef struct LMDB_PRIV {
    char   *path;                       /* /path/file.lmdb or .db */
    MDB_env *env;                       /* the open database */
    MDB_dbi dbi;                        /* its main (unnamed) database */
    struct stat st;                     /* the file that is open, for change checks */
} LMDB_PRIV;

/* lmdb_db_path - the database file of a table name; malloc'ed */
static char *lmdb_db_path(const DICT_TYPE *type, const char *name)
{
    size_t  len = strlen(name) + strlen(type->file_suffix) + 1;
    char   *path = xmalloc(len);

    snprintf(path, len, "%s%s", name, type->file_suffix);
    return path;
}

/* lmdb_is_berkeley_db - does this file carry Berkeley DB's hash or btree magic? */
static int lmdb_is_berkeley_db(const char *path)
{
    unsigned char head[16];
    unsigned long be;
    unsigned long le;
    ssize_t n;
    int     fd;

    if ((fd = open(path, O_RDONLY | O_NOCTTY)) < 0)
        return 0;
    n = read(fd, head, sizeof(head));
    (void) close(fd);
    if (n != (ssize_t) sizeof(head))
        return 0;
    /* The magic is the 32-bit word at offset 12, in the builder's byte order. */
    be = (unsigned long) head[12] << 24 | (unsigned long) head[13] << 16
        | (unsigned long) head[14] << 8 | head[15];
    le = (unsigned long) head[15] << 24 | (unsigned long) head[14] << 16
        | (unsigned long) head[13] << 8 | head[12];
    return be == 0x061561UL || be == 0x053162UL || le == 0x061561UL || le == 0x053162UL;
}

/* lmdb_same_file - is this still the file that we have open? */
static int lmdb_same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino
        && a->st_size == b->st_size
        && a->st_mtim.tv_sec == b->st_mtim.tv_sec
        && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* lmdb_env_open - open a database file read-only and lock-free */
static int lmdb_env_open(const char *path, MDB_env **envp, MDB_dbi *dbip,
                         struct stat *st, BUF *why)
{
    MDB_env *env;
    MDB_txn *txn = NULL;
    int     fd;
    int     err;

    if ((err = mdb_env_create(&env)) != 0) {
        buf_sprintf(why, "%s: mdb_env_create: %s", path, mdb_strerror(err));
        return -1;
    }
    err = mdb_env_open(env, path, MDB_RDONLY | MDB_NOLOCK | MDB_NOSUBDIR | MDB_NORDAHEAD, 0);
    if (err != 0) {
        if (err == ENOENT)
            buf_sprintf(why, "table %s does not exist", path);
        else
            buf_sprintf(why, "open %s: %s", path, mdb_strerror(err));
        mdb_env_close(env);
        return -1;
    }
    /* Remember the file LMDB really opened, not what a stat before saw. */
    if (mdb_env_get_fd(env, &fd) != 0 || fstat(fd, st) < 0) {
        buf_sprintf(why, "fstat %s: %s", path, strerror(errno));
        mdb_env_close(env);
        return -1;
    }
    if ((err = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0
        || (err = mdb_dbi_open(txn, NULL, 0, dbip)) != 0) {
        buf_sprintf(why, "open %s: %s", path, mdb_strerror(err));
        if (txn != NULL && err != 0)
            mdb_txn_abort(txn);
        mdb_env_close(env);
        return -1;
    }
    mdb_txn_abort(txn);
    *envp = env;
    return 0;
}

/* lmdb_warn_stale - Postfix's reminder that a source file was edited after the build */
static void lmdb_warn_stale(const char *name, const char *path, const struct stat *db)
{
    struct stat src;

    if (stat(name, &src) == 0 && src.st_mtime > db->st_mtime)
        msg_warn("database %s is older than source file %s", path, name);
}

/* lmdb_open_as - open the type's database file of name read-only and lock-free */
static DICT *lmdb_open_as(const DICT_TYPE *type, const char *name, int flags, BUF *why)
{
    LMDB_PRIV *priv = xcalloc(1, sizeof(*priv));
    DICT   *dict;

    priv->path = lmdb_db_path(type, name);
    if (lmdb_env_open(priv->path, &priv->env, &priv->dbi, &priv->st, why) < 0) {
        if (access(priv->path, F_OK) < 0 && errno == ENOENT)
            buf_sprintf(why, "table %s does not exist; run surel map build %s:%s",
                        priv->path, type->name, name);
        else if (lmdb_is_berkeley_db(priv->path))
            buf_sprintf(why, "%s is a Berkeley DB file (as Postfix builds %s: tables);"
                        " surel keeps %s: tables in LMDB format under the same name:"
                        " rebuild it with surel map build %s:%s (postmap, or"
                        " newaliases for aliases)", priv->path, type->name,
                        type->name, type->name, name);
        xfree(priv->path);
        xfree(priv);
        return NULL;
    }
    lmdb_warn_stale(name, priv->path, &priv->st);
    dict = dict_alloc(type, name, flags);
    dict->priv = priv;
    return dict;
}

/* lmdb_refresh - reopen when the file under the name was replaced.
 * When the name cannot be seen at all (a chroot hides it) the open file
 * still serves as long as it has a name somewhere (st_nlink > 0); once it
 * was replaced or removed, lookups defer until the process restarts
 * (dict_note_changed): only a fresh process, opening the table before its
 * chroot, can reach the new file, and the old copy could reject a
 * recipient the new one has. */
static int lmdb_refresh(DICT *dict, BUF *why)
{
    LMDB_PRIV *priv = dict->priv;
    struct stat st;
    MDB_env *env;
    MDB_dbi dbi;
    int     fd;

    if (stat(priv->path, &st) < 0) {
        if (errno != ENOENT && errno != EACCES) {
            buf_sprintf(why, "table %s: %s", priv->path, strerror(errno));
            return -1;
        }
        if (mdb_env_get_fd(priv->env, &fd) != 0 || fstat(fd, &st) < 0) {
            buf_sprintf(why, "table %s: %s", priv->path, strerror(errno));
            return -1;
        }
        if (st.st_nlink == 0) {
            dict_note_changed(priv->path);
            buf_sprintf(why, "table %s has changed; the process restarts to reopen it",
                        priv->path);
            return -1;
        }
        return 0;
    }
    if (lmdb_same_file(&st, &priv->st))
        return 0;
    /* Keep the old database until the new one is open: if the new file is
     * unusable, we defer and try again on the next lookup. */
    if (lmdb_env_open(priv->path, &env, &dbi, &st, why) < 0)
        return -1;
    if (msg_verbose)
        msg_debug("lmdb:%s: reopened after a rebuild", dict->name);
    mdb_env_close(priv->env);
    priv->env = env;
    priv->dbi = dbi;
    priv->st = st;
    return 0;
}

/* lmdb_lookup - one key, after making sure the open file is still the current one */
static DICT_STATUS lmdb_lookup(DICT *dict, const char *key, BUF *result, BUF *why)
{
    LMDB_PRIV *priv = dict->priv;
    MDB_txn *txn;
    MDB_val k;
    MDB_val v;
    int     err;

    if (lmdb_refresh(dict, why) < 0)
        return DICT_TRYLATER;
    k.mv_data = (void *) key;
    k.mv_size = strlen(key);
    /* A key LMDB cannot store cannot be in the table. */
    if (k.mv_size == 0 || k.mv_size > (size_t) mdb_env_get_maxkeysize(priv->env))
        return DICT_NOTFOUND;
    if ((err = mdb_txn_begin(priv->env, NULL, MDB_RDONLY, &txn)) != 0) {
        buf_sprintf(why, "table %s: %s", priv->path, mdb_strerror(err));
        return DICT_TRYLATER;
    }
    err = mdb_get(txn, priv->dbi, &k, &v);
    if (err == 0)
        buf_append(result, v.mv_data, v.mv_size);
    mdb_txn_abort(txn);
    if (err == MDB_NOTFOUND)
        return DICT_NOTFOUND;
    if (err != 0) {
        buf_sprintf(why, "table %s: %s", priv->path, mdb_strerror(err));
        return DICT_TRYLATER;
    }
    return DICT_FOUND;
}

/* lmdb_close - release the environment */
static void lmdb_close(DICT *dict)
{
    LMDB_PRIV *priv = dict->priv;

    mdb_env_close(priv->env);
    xfree(priv->path);
    xfree(priv);
    dict_free(dict);
}

 /*
  * Building.
  */
typedef int (*LMDB_READER) (const char *, DICT_TEXT_FN, void *, BUF *);

/* What one build attempt carries through the text reader. */
typedef struct LMDB_BUILD {
    const char *src;                    /* source text file, for warnings */
    MDB_txn *txn;                       /* the write transaction */
    MDB_dbi dbi;
    size_t  maxkey;                     /* LMDB's key size limit */
    BUF    *key;                        /* folded key */
    BUF    *why;                        /* reason when err != 0 */
    int     err;                        /* LMDB error that stopped the build */
    long    count;                      /* entries stored */
} LMDB_BUILD;

/* lmdb_build_entry - store one entry; the first of duplicate keys wins */
static int lmdb_build_entry(const char *key, const char *value, int lineno, void *ctx)
{
    LMDB_BUILD *b = ctx;
    MDB_val k;
    MDB_val v;
    int     err;

    buf_set(b->key, key);
    dict_fold(buf_str(b->key));
    if (buf_len(b->key) > b->maxkey) {
        msg_warn("%s, line %d: key longer than %zu bytes: skipped", b->src, lineno,
                 b->maxkey);
        return 0;
    }
    k.mv_data = buf_str(b->key);
    k.mv_size = buf_len(b->key);
    v.mv_data = (void *) value;
    v.mv_size = strlen(value);
    err = mdb_put(b->txn, b->dbi, &k, &v, MDB_NOOVERWRITE);
    if (err == MDB_KEYEXIST) {
        msg_warn("%s, line %d: duplicate entry: \"%s\"", b->src, lineno, buf_str(b->key));
        return 0;
    }
    if (err != 0) {
        b->err = err;
        buf_sprintf(b->why, "%s, line %d: %s", b->src, lineno, mdb_strerror(err));
        return -1;
    }
    b->count++;
    return 0;
}

/* lmdb_build_try - fill a fresh temporary database; MDB_MAP_FULL asks for more room */
static int lmdb_build_try(const char *src, const char *tmp, const struct stat *src_st,
                          size_t mapsize, LMDB_READER reader, BUF *why)
{
    LMDB_BUILD b = {src, NULL, 0, 0, NULL, why, 0, 0};
    MDB_env *env = NULL;
    int     fd;
    int     err;
    int     ret;

    /* Make the file ourselves, exclusively (no link is followed, no old file
     * reused), with the owner of the source when root builds it. */
    if ((fd = safe_open(tmp, O_RDWR | O_CREAT | O_EXCL, 0644, SAFE_OWNER_ANY, NULL, why)) < 0)
        return -1;
    if (geteuid() == 0 && fchown(fd, src_st->st_uid, src_st->st_gid) < 0) {
        buf_sprintf(why, "chown %s: %s", tmp, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    if ((err = mdb_env_create(&env)) != 0
        || (err = mdb_env_set_mapsize(env, mapsize)) != 0
        || (err = mdb_env_open(env, tmp, MDB_NOSUBDIR | MDB_NOLOCK, 0644)) != 0
        || (err = mdb_txn_begin(env, NULL, 0, &b.txn)) != 0
        || (err = mdb_dbi_open(b.txn, NULL, 0, &b.dbi)) != 0) {
        buf_sprintf(why, "create %s: %s", tmp, mdb_strerror(err));
        ret = -1;
        goto done;
    }
    b.maxkey = (size_t) mdb_env_get_maxkeysize(env);
    b.key = buf_alloc(64);
    ret = reader(src, lmdb_build_entry, &b, why);
    buf_free(b.key);
    if (ret == 0) {
        err = mdb_txn_commit(b.txn);
        b.txn = NULL;
        if (err == 0)
            err = mdb_env_sync(env, 1);
        if (err != 0) {
            b.err = err;
            buf_sprintf(why, "write %s: %s", tmp, mdb_strerror(err));
            ret = -1;
        }
    }
    if (ret < 0 && b.err == MDB_MAP_FULL)
        ret = 1;

done:
    if (b.txn != NULL)
        mdb_txn_abort(b.txn);
    if (env != NULL)
        mdb_env_close(env);
    if (ret != 0)
        (void) unlink(tmp);
    else if (msg_verbose)
        msg_debug("%s: %ld entries", tmp, b.count);
    return ret;
}

/* lmdb_rebuild - write the type's file of name afresh from this reader and
 * rename it into place; the new file gets owner_file's owner (and a first
 * map size from its size) */
static int lmdb_rebuild(const DICT_TYPE *type, const char *name, const char *owner_file,
                        LMDB_READER reader, BUF *why)
{
    char   *path = lmdb_db_path(type, name);
    size_t  tlen = strlen(path) + 32;
    char   *tmp = xmalloc(tlen);
    struct stat src_st;
    size_t  mapsize;
    int     ret;

    if (stat(owner_file, &src_st) < 0) {
        buf_sprintf(why, "open source file %s: %s", owner_file, strerror(errno));
        ret = -1;
        goto done;
    }
    snprintf(tmp, tlen, "%s.%ld.tmp", path, (long) getpid());
    (void) unlink(tmp);                 /* left by a crashed build of ours */
    /* A first guess (the source size, in whole MiB, plus one); when LMDB
     * says the map is full, start over with twice the room. */
    mapsize = ((size_t) src_st.st_size / LMDB_MAP_MIN + 1) * LMDB_MAP_MIN;
    while ((ret = lmdb_build_try(name, tmp, &src_st, mapsize, reader, why)) > 0) {
        if (mapsize >= LMDB_MAP_MAX) {
            buf_sprintf(why, "%s: database would be larger than %zu bytes", path,
                        LMDB_MAP_MAX);
            ret = -1;
            break;
        }
        if (msg_verbose)
            msg_debug("%s: map size %zu is too small; trying %zu", path, mapsize,
                      2 * mapsize);
        mapsize *= 2;
    }
    if (ret == 0 && rename_sync(tmp, path) < 0) {
        buf_sprintf(why, "rename %s to %s: %s", tmp, path, strerror(errno));
        (void) unlink(tmp);
        ret = -1;
    }

done:
    xfree(tmp);
    xfree(path);
    return ret;
}

/* lmdb_build_from - build the type's file of name from its source, atomically */
static int lmdb_build_from(const DICT_TYPE *type, const char *name, LMDB_READER reader,
                           BUF *why)
{
    return lmdb_rebuild(type, name, name, reader, why);
}

/*
 * Listing and editing (postmap -s, -d, -i). An edit never writes into a
 * database that daemons may be reading (they open it lock-free): the
 * whole table is copied with the change into a new file, which replaces
 * the old one with a rename, as a build does. Edits of one table are
 * serialised by a lock on FILE.lock beside the database.
 */

static int lmdb_walk(DICT *, int (*)(const char *, const char *, int, void *), void *, BUF *);

/* What a rewrite copies: the old entries minus dropped keys, plus new ones. */
typedef struct LMDB_EDIT {
    const DICT_TYPE *type;              /* the table being edited ... */
    const char *name;                   /* ... by its name */
    const char *db;                     /* its current database file */
    const DICT_EDIT *edit;
    DICT_TEXT_FN store;                 /* the builder's entry function ... */
    void   *store_ctx;                  /* ... and its state */
    BUF    *folded;
} LMDB_EDIT;

static LMDB_EDIT *lmdb_edit_now;         /* the rewrite in progress (one at a time) */

/* lmdb_edit_changed - is key deleted or replaced by this edit? */
static int lmdb_edit_changed(const DICT_EDIT *edit, const char *key, BUF *folded)
{
    size_t  i;

    for (i = 0; i < edit->ndelete; i++) {
        buf_set(folded, edit->delete[i]);
        dict_fold(buf_str(folded));
        if (strcmp(buf_str(folded), key) == 0)
            return 1;
    }
    for (i = 0; i < edit->nadd; i++) {
        buf_set(folded, edit->add_keys[i]);
        dict_fold(buf_str(folded));
        if (strcmp(buf_str(folded), key) == 0)
            return 1;
    }
    return 0;
}

/* lmdb_edit_copy - one old entry into the new file, unless the edit changes it */
static int lmdb_edit_copy(const char *key, const char *value, int lineno, void *ctx)
{
    LMDB_EDIT *e = ctx;

    if (lmdb_edit_changed(e->edit, key, e->folded))
        return 0;
    return e->store(key, value, lineno, e->store_ctx);
}

/* lmdb_edit_reader - an LMDB_READER: the old entries, then the new ones */
static int lmdb_edit_reader(const char *src, DICT_TEXT_FN fn, void *ctx, BUF *why)
{
    LMDB_EDIT *e = lmdb_edit_now;
    size_t  i;

    (void) src;
    e->store = fn;
    e->store_ctx = ctx;
    if (access(e->db, F_OK) == 0) {
        DICT   *old = lmdb_open_as(e->type, e->name, 0, why);
        int     r = old ? lmdb_walk(old, lmdb_edit_copy, e, why) : -1;

        if (old)
            lmdb_close(old);
        if (r < 0)
            return -1;
    }
    for (i = 0; i < e->edit->nadd; i++)
        if (fn(e->edit->add_keys[i], e->edit->add_values[i], (int) i + 1, ctx) < 0)
            return -1;
    return 0;
}

/* lmdb_edit_lock - take FILE.lock beside the database; fd, or -1 + why */
static int lmdb_edit_lock(const char *db, BUF *why)
{
    size_t  len = strlen(db) + 6;
    char   *lock = xmalloc(len);
    int     fd;

    snprintf(lock, len, "%s.lock", db);
    if ((fd = safe_open(lock, O_RDWR | O_CREAT, 0644, SAFE_OWNER_ANY, NULL, why)) >= 0
        && flock(fd, LOCK_EX) < 0) {
        buf_sprintf(why, "lock %s: %s", lock, strerror(errno));
        close(fd);
        fd = -1;
    }
    xfree(lock);
    return fd;
}

/* lmdb_edit_as - rewrite the type's database of name with the edit */
static int lmdb_edit_as(const DICT_TYPE *type, const char *name, const DICT_EDIT *edit,
                        BUF *why)
{
    LMDB_EDIT e;
    char   *db = lmdb_db_path(type, name);
    int     lock;
    int     ret;

    if ((lock = lmdb_edit_lock(db, why)) < 0) {
        xfree(db);
        return -1;
    }
    memset(&e, 0, sizeof(e));
    e.type = type;
    e.name = name;
    e.db = db;
    e.edit = edit;
    e.folded = buf_alloc(64);
    lmdb_edit_now = &e;
    /* The new file takes the old one's owner; a first one its source's. */
    ret = lmdb_rebuild(type, name, access(db, F_OK) == 0 ? db : name, lmdb_edit_reader, why);
    lmdb_edit_now = NULL;
    buf_free(e.folded);
    close(lock);
    xfree(db);
    return ret;
}

/* One open, two builders and an editor per type name: the
 * DICT_TYPE interface carries no type, and these are the only three. */
#define LMDB_FLAVOUR(fn, type) \
    static DICT *fn##_open(const char *name, int flags, BUF *why) \
    { return lmdb_open_as(&type, name, flags, why); } \
    static int fn##_build(const char *name, BUF *why) \
    { return lmdb_build_from(&type, name, dict_read_text_file, why); } \
    static int fn##_build_aliases(const char *name, BUF *why) \
    { return lmdb_build_from(&type, name, dict_read_alias_file, why); } \
    static int fn##_edit(const char *name, const DICT_EDIT *edit, BUF *why) \
    { return lmdb_edit_as(&type, name, edit, why); }

LMDB_FLAVOUR(lmdb, dict_lmdb_type)
LMDB_FLAVOUR(hash, dict_hash_type)
LMDB_FLAVOUR(btree, dict_btree_type)

/* lmdb_walk - every entry, in key order, from one read transaction */
static int lmdb_walk(DICT *dict, int (*fn)(const char *, const char *, int, void *),
                     void *ctx, BUF *why)
{
    LMDB_PRIV *priv = dict->priv;
    BUF    *key = buf_alloc(64);
    BUF    *value = buf_alloc(64);
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k;
    MDB_val v;
    int     err;
    int     r = -1;

    if (lmdb_refresh(dict, why) < 0)
        goto out;
    if ((err = mdb_txn_begin(priv->env, NULL, MDB_RDONLY, &txn)) != 0
        || (err = mdb_cursor_open(txn, priv->dbi, &cur)) != 0) {
        buf_sprintf(why, "table %s: %s", priv->path, mdb_strerror(err));
        goto out;
    }
    for (err = mdb_cursor_get(cur, &k, &v, MDB_FIRST); err == 0;
         err = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        buf_reset(key);
        buf_append(key, k.mv_data, k.mv_size);
        buf_reset(value);
        buf_append(value, v.mv_data, v.mv_size);
        if (fn(buf_str(key), buf_str(value), 0, ctx)) {
            buf_sprintf(why, "table %s: stopped at %s", priv->path, buf_str(key));
            goto out;
        }
    }
    if (err != MDB_NOTFOUND) {
        buf_sprintf(why, "table %s: %s", priv->path, mdb_strerror(err));
        goto out;
    }
    r = 0;
  out:
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    buf_free(key);
    buf_free(value);
    return r;
}

const DICT_TYPE dict_lmdb_type = {
    "lmdb", lmdb_open, lmdb_lookup, lmdb_close, lmdb_build, lmdb_build_aliases, ".lmdb",
    lmdb_walk, lmdb_edit,
};

const DICT_TYPE dict_hash_type = {
    "hash", hash_open, lmdb_lookup, lmdb_close, hash_build, hash_build_aliases, ".db",
    lmdb_walk, hash_edit,
};

const DICT_TYPE dict_btree_type = {
    "btree", btree_open, lmdb_lookup, lmdb_close, btree_build, btree_build_aliases, ".db",
    lmdb_walk, btree_edit,
};
