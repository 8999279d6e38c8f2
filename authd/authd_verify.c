/* authd_verify - one password against the table: crypt(3) and a
 * constant-time compare.
 *
 * The table (authd_password_maps, any lookup table type) maps a login
 * name to a crypt(3) hash, the first word of the value: yescrypt ($y$,
 * Debian's default), SHA-512-crypt ($6$), or anything else the system's
 * libxcrypt knows. crypt_rn() hashes the password with the entry's
 * settings; the result is compared with the entry in constant time. An
 * entry that is not a hash ("*", "!", empty, a locked "!$y$...") makes
 * libxcrypt fail, and so the login. An unknown user is hashed against a
 * yescrypt dummy made at start-up, so that the time taken does not tell
 * a client which names exist. The password lives in the caller's buffers
 * and in the crypt_data here, which is wiped (explicit_bzero).
 */
#include <crypt.h>
#include <stdio.h>
#include <string.h>

#include "authd.h"
#include "msg.h"

static char authd_dummy_hash[CRYPT_OUTPUT_SIZE];   /* for unknown users */

/* authd_verify_init - the dummy hash (before confinement: crypt_gensalt
 * reads random bytes) */
void    authd_verify_init(void)
{
    struct crypt_data data;
    char    salt[CRYPT_GENSALT_OUTPUT_SIZE];

    memset(&data, 0, sizeof(data));
    if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL
        || crypt_rn("not a password", salt, &data, sizeof(data)) == NULL
        || data.output[0] == '*')
        msg_fatal("libcrypt cannot make a yescrypt hash");
    snprintf(authd_dummy_hash, sizeof(authd_dummy_hash), "%s", data.output);
    explicit_bzero(&data, sizeof(data));
}

/* authd_hash_equal - two NUL-terminated hashes equal, in time that
 * depends on their lengths only */
int     authd_hash_equal(const char *a, const char *b)
{
    size_t  la = strlen(a);
    size_t  lb = strlen(b);
    size_t  i;
    volatile unsigned char diff = (unsigned char) (la != lb);

    for (i = 0; i < la && i < lb; i++)
        diff |= (unsigned char) (a[i] ^ b[i]);
    return diff == 0;
}

/* authd_crypt - hash password with setting; 1 when it yields expect */
static int authd_crypt(const char *password, const char *setting)
{
    struct crypt_data data;
    int     ok;

    memset(&data, 0, sizeof(data));
    ok = crypt_rn(password, setting, &data, sizeof(data)) != NULL
        && data.output[0] != '*' && authd_hash_equal(data.output, setting);
    explicit_bzero(&data, sizeof(data));
    return ok;
}

/* authd_verify - check user's password against maps; why gets the reason
 * of a failure (never the password) */
AUTHD_RESULT authd_verify(MAPS *maps, const char *user, const char *password, BUF *why)
{
    BUF    *value = buf_alloc(128);
    BUF    *err = buf_alloc(64);
    AUTHD_RESULT result = AUTHD_FAIL;
    char   *hash;
    size_t  len;

    switch (maps ? maps_find(maps, user, value, err) : DICT_NOTFOUND) {
    case DICT_FOUND:
        /* The hash is the value's first word: room for more fields later. */
        hash = buf_str(value);
        hash += strspn(hash, " \t");
        len = strcspn(hash, " \t");
        hash[len] = 0;
        if (*hash != '$') {
            /* Not a modern hash ("*", "!", DES): refused without a try. */
            (void) authd_crypt(password, authd_dummy_hash);
            buf_set(why, "no usable password hash (locked entry?)");
        } else if (authd_crypt(password, hash)) {
            result = AUTHD_OK;
        } else {
            buf_set(why, "password mismatch");
        }
        break;
    case DICT_NOTFOUND:
        (void) authd_crypt(password, authd_dummy_hash);
        buf_set(why, "unknown user");
        break;
    default:
        buf_sprintf(why, "table lookup failed: %s", buf_str(err));
        result = AUTHD_TEMP;
        break;
    }
    explicit_bzero(value->data, value->cap);
    buf_free(value);
    buf_free(err);
    return result;
}
