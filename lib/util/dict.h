/* dict - lookup tables, all behind one interface.
 *
 * A table is named TYPE:NAME, as in Postfix:
 *     lmdb:/etc/aliases      an LMDB file /etc/aliases.lmdb built from the
 *                            text file /etc/aliases (`surel map build`); reopened
 *                            when the file is replaced (in a chroot: the
 *                            process restarts, see dict_note_changed)
 *     hash:/etc/aliases      the same engine in /etc/aliases.db (Postfix's
 *     btree:/etc/aliases     Berkeley DB names; see dict_lmdb.c for why)
 *     pcre:/etc/hdr_checks   PCRE2 patterns, Postfix's `/regex/flags result`
 *                            format with if/endif and $1 substitution
 *     inline:{k1=v1, { k2 = v 2 }}   a small table written in place
 *     static:value           every key finds value
 *     texthash:/file         a text file in postmap format, read into memory
 *     unix:passwd.byname     the password file, key = user name
 * Lookups answer three ways (never a bare boolean): found, not found, or
 * try later (a table that can't be read must defer mail, never bounce it).
 * Keys of lmdb, texthash, inline and unix tables are folded to lower case
 * unless DICT_FLAG_FIXED_CASE is given; pcre tables are matched as written.
 * More types (pgsql, redis, socketmap) plug in through dict_register().
 */
#ifndef SUREL_DICT_H
#define SUREL_DICT_H

#include "buf.h"
#include "str_split.h"

typedef enum dict_status {
    DICT_FOUND = 0,
    DICT_NOTFOUND = 1,
    DICT_TRYLATER = 2
} DICT_STATUS;

#define DICT_FLAG_FIXED_CASE    (1 << 0)    /* don't fold keys to lower case */

typedef struct DICT DICT;

/* The postmap source format, shared by lmdb and texthash builders. */
typedef int (*DICT_TEXT_FN)(const char *key, const char *value, int lineno, void *ctx);

/* An edit of a built table (postmap -d, -i): keys to delete, entries to
 * add (an added key replaces the old entry). */
typedef struct DICT_EDIT {
    const char *const *delete;
    size_t  ndelete;
    const char *const *add_keys;
    const char *const *add_values;
    size_t  nadd;
} DICT_EDIT;

/* What a table type implements; `open` fills in a DICT it allocates. */
typedef struct DICT_TYPE {
    const char *name;                       /* "lmdb" */
    DICT   *(*open)(const char *name, int flags, BUF *why);
    DICT_STATUS (*lookup)(DICT *dict, const char *key, BUF *result, BUF *why);
    void    (*close)(DICT *dict);
    int     (*build)(const char *name, BUF *why);   /* NULL: not buildable */
    int     (*build_aliases)(const char *name, BUF *why);  /* aliases(5) source; NULL: no */
    const char *file_suffix;                /* data in NAME + this (".lmdb"); NULL: no file */
    int     (*walk)(DICT *dict, int (*fn)(const char *key, const char *value, int lineno,
                                          void *ctx), void *ctx, BUF *why);
                                            /* every entry; NULL: cannot be listed (pcre) */
    int     (*edit)(const char *name, const DICT_EDIT *edit, BUF *why);      /* NULL: no */
} DICT_TYPE;

struct DICT {
    const DICT_TYPE *type;
    char   *name;                           /* part after "type:" */
    int     flags;
    void   *priv;                           /* the type's own state */
};

void    dict_register(const DICT_TYPE *type);
DICT   *dict_open(const char *type_name, int flags, BUF *why);    /* NULL + why */
DICT_STATUS dict_lookup(DICT *dict, const char *key, BUF *result, BUF *why);
void    dict_close(DICT *dict);
int     dict_data_file(const char *type_name, BUF *path);
int     dict_type_check(const char *type_name, BUF *why);  /* TYPE: known? 0, or -1 + why */  /* the file behind it; 0 or -1 */
int     dict_build(const char *type_name, BUF *why);  /* build TYPE:FILE from FILE; 0 or -1 */
int     dict_build_aliases(const char *type_name, BUF *why);  /* same, FILE in aliases(5) format */
int     dict_dump(const char *type_name, DICT_TEXT_FN fn, void *ctx, BUF *why);  /* every entry */
int     dict_edit(const char *type_name, const DICT_EDIT *edit, BUF *why);   /* 0 or -1 */
const char *dict_status_name(DICT_STATUS status);

/* A table whose file was replaced but cannot be reopened in this process
 * (its name is outside a chroot): the type answers TRYLATER and calls
 * dict_note_changed(); dict_changed() then names the
 * table (NULL while none changed) and the server skeleton restarts the
 * process after its current client, as Postfix's "table has changed --
 * restarting", so that a fresh process opens the new file before its
 * chroot. */
void    dict_note_changed(const char *type_name);

/* A process about to chroot cannot use tables of some types in the jail
 * (unix: needs the system's name service): after this call, dict_open()
 * of TYPE:NAME opens via's table named "TYPE:NAME" instead (the server
 * skeleton sends unix: through proxy:, see lib/global/dict_proxy.c). */
void    dict_redirect_type(const char *type, const DICT_TYPE *via);
const char *dict_changed(void);

/* The built-in types; dict_open() registers them on first use. */
extern const DICT_TYPE dict_lmdb_type;
extern const DICT_TYPE dict_hash_type;     /* LMDB in NAME.db, Postfix's name */
extern const DICT_TYPE dict_btree_type;    /* the same */
extern const DICT_TYPE dict_pcre_type;
extern const DICT_TYPE dict_inline_type;
extern const DICT_TYPE dict_static_type;
extern const DICT_TYPE dict_texthash_type;
extern const DICT_TYPE dict_unix_type;

/* A list of tables searched in order ("lmdb:/a, pcre:/b"), like Postfix maps.
 * The first FOUND wins; a TRYLATER before it makes the answer TRYLATER.
 * maps_open fails only for a list it cannot parse (an item with no
 * TYPE:, an unclosed '{'); a table of an unknown type, or one that cannot
 * be opened right now (missing file), is kept as a stand-in that answers
 * TRYLATER with the reason, after a warning, so the program runs and mail
 * waits instead of bouncing. */
typedef struct MAPS MAPS;
MAPS   *maps_open(const char *list, int flags, BUF *why);   /* NULL + why */
DICT_STATUS maps_find(MAPS *maps, const char *key, BUF *result, BUF *why);
void    maps_close(MAPS *maps);
/* maps_walk - every entry of every table, in search order (a key may come
 * again from a later table: the first one is the one maps_find returns).
 * The callback's non-zero return stops the walk. 0, or -1 with why: a
 * table whose type cannot be listed, one that could not be opened, a
 * read error, or a stop. */
int     maps_walk(MAPS *maps, int (*fn)(const char *key, const char *value, int lineno,
                                        void *ctx), void *ctx, BUF *why);

int     dict_read_text_file(const char *path, DICT_TEXT_FN fn, void *ctx, BUF *why);

/* The aliases(5) format (`name: value, value`), for newaliases: the name may
 * be quoted ("a b": x) and is folded to lower case; the value is passed as
 * written. Lines that break the format are warned about and skipped. */
int     dict_read_alias_file(const char *path, DICT_TEXT_FN fn, void *ctx, BUF *why);

/* For table implementations. Logical lines as every Postfix table file has
 * them: blank and `#` lines skipped, a line starting with white space
 * continues the one before. A callback that returns non-zero stops the read
 * (the reader then returns -1; the callback says why through its ctx). */
typedef int (*DICT_LINE_FN)(char *line, int lineno, void *ctx);
int     dict_read_lines(const char *path, DICT_LINE_FN fn, void *ctx, BUF *why);
DICT   *dict_alloc(const DICT_TYPE *type, const char *name, int flags);
void    dict_free(DICT *dict);                      /* what dict_alloc made */
void    dict_fold(char *text);                      /* ASCII lower case in place */
/* The list splitter is str_split_next() (str_split.h); this old name stays
 * for callers outside lib/ until they move (local/local_alias.c). */
#define dict_split_item(cpp, why) str_split_next((cpp), (why))

#endif
