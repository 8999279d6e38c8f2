/* queue_id - make and check queue IDs; see queue_id.h for the format. */
#include <string.h>

#include "queue_id.h"

/* Digits, then consonants: ASCII order equals numeric order. */
static const char queue_id_digits[] =
    "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

#define QID_BASE_TIME   52
#define QID_BASE_INODE  51          /* no 'z': it separates the parts */
#define QID_SEC_CHARS   6
#define QID_USEC_CHARS  4
#define QID_SEPARATOR   'z'

/* queue_id_put - value as exactly `width` base-`base` digits (width 0: as many as needed) */
static char *queue_id_put(char *out, unsigned long long value, unsigned base, int width)
{
    char    tmp[32];
    int     n = 0;

    do {
        tmp[n++] = queue_id_digits[value % base];
        value /= base;
    } while ((value != 0 || n < width) && n < (int) sizeof(tmp));
    while (n > 0)
        *out++ = tmp[--n];
    return out;
}

/* queue_id_digit - value of one ID character, or -1 */
static int queue_id_digit(int ch, unsigned base)
{
    const char *p = ch ? strchr(queue_id_digits, ch) : NULL;

    if (p == NULL || (unsigned) (p - queue_id_digits) >= base)
        return -1;
    return (int) (p - queue_id_digits);
}

/* queue_id_make - the ID of a file with this arrival time and inode */
void queue_id_make(char *id, const struct timeval *tv, ino_t inode)
{
    char   *cp = id;

    cp = queue_id_put(cp, (unsigned long long) tv->tv_sec, QID_BASE_TIME, QID_SEC_CHARS);
    cp = queue_id_put(cp, (unsigned long long) tv->tv_usec, QID_BASE_TIME, QID_USEC_CHARS);
    *cp++ = QID_SEPARATOR;
    cp = queue_id_put(cp, (unsigned long long) inode, QID_BASE_INODE, 0);
    *cp = 0;
}

/* queue_id_time - decode the arrival time; 0 on success, -1 if malformed */
int queue_id_time(const char *id, struct timeval *tv)
{
    unsigned long long sec = 0, usec = 0;
    int     i, d;

    if (!queue_id_valid(id))
        return -1;
    for (i = 0; i < QID_SEC_CHARS; i++) {
        d = queue_id_digit(id[i], QID_BASE_TIME);
        sec = sec * QID_BASE_TIME + (unsigned) d;
    }
    for (; i < QID_SEC_CHARS + QID_USEC_CHARS; i++) {
        d = queue_id_digit(id[i], QID_BASE_TIME);
        usec = usec * QID_BASE_TIME + (unsigned) d;
    }
    if (usec >= 1000000)
        return -1;
    tv->tv_sec = (time_t) sec;
    tv->tv_usec = (suseconds_t) usec;
    return 0;
}

/* queue_id_valid - well-formed ID? (also a safe file name: no '/', no '.') */
int queue_id_valid(const char *id)
{
    size_t  len = strnlen(id, QUEUE_ID_MAX + 1);
    size_t  i;

    if (len > QUEUE_ID_MAX || len < QID_SEC_CHARS + QID_USEC_CHARS + 2)
        return 0;
    for (i = 0; i < QID_SEC_CHARS + QID_USEC_CHARS; i++)
        if (queue_id_digit(id[i], QID_BASE_TIME) < 0)
            return 0;
    if (id[i++] != QID_SEPARATOR)
        return 0;
    for (; i < len; i++)
        if (queue_id_digit(id[i], QID_BASE_INODE) < 0)
            return 0;
    return 1;
}
