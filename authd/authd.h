/* authd.h - the parts of authd a unit test calls: the server side of
 * Dovecot's auth protocol 1.1 (authd_proto.c) and the password check
 * (authd_verify.c). */
#ifndef SUREL_AUTHD_H
#define SUREL_AUTHD_H

#include "buf.h"
#include "dict.h"

/* What a password check answers. */
typedef enum authd_result {
    AUTHD_OK = 0,                   /* the password is right */
    AUTHD_FAIL = 1,                 /* wrong password, unknown user, locked entry */
    AUTHD_TEMP = 2                  /* the table cannot be read now */
} AUTHD_RESULT;

/* user and password are NUL-free; the user is already folded to lower case. */
typedef AUTHD_RESULT (*AUTHD_CHECK_FN)(const char *user, const char *password,
                                       void *ctx, BUF *why);

#define AUTHD_USER_MAX      256     /* longest login name taken */
#define AUTHD_LINE_MAX      16384   /* longest protocol line (a base64 answer fits) */
#define AUTHD_FIELDS_MAX    32
#define AUTHD_ID_MAX        4294967295UL

enum { AUTHD_S_VERSION, AUTHD_S_CPID, AUTHD_S_READY };     /* handshake state */
enum { AUTHD_M_NONE, AUTHD_M_PLAIN, AUTHD_M_LOGIN };       /* mechanism in progress */

/* One client connection (one smtpd) of the protocol. */
typedef struct AUTHD_CONN {
    int     state;                  /* AUTHD_S_* */
    int     mech;                   /* AUTHD_M_NONE: no request in progress */
    unsigned long id;               /* the request in progress */
    int     login_step;             /* LOGIN: 0 wants the user, 1 the password */
    BUF    *user;                   /* LOGIN: the name given so far */
    char    rip[64];                /* the SMTP client's address (for the log) */
} AUTHD_CONN;

/* What one client line asks of the caller. */
typedef enum authd_action {
    AUTHD_REPLY,                    /* send reply (may be empty) now */
    AUTHD_REPLY_FAILED,             /* reply is a FAIL for a wrong login: send after the delay */
    AUTHD_CLOSE                     /* protocol violation: drop the connection */
} AUTHD_ACTION;

void    authd_conn_init(AUTHD_CONN *c);
void    authd_conn_free(AUTHD_CONN *c);
void    authd_greeting(BUF *out, long spid, unsigned long cuid, const char *cookie);
AUTHD_ACTION authd_line(AUTHD_CONN *c, char *line, BUF *reply, AUTHD_CHECK_FN check,
                        void *ctx, BUF *why);
int     authd_user_ok(const char *user, size_t len);

/* authd_verify.c */
void    authd_verify_init(void);
AUTHD_RESULT authd_verify(MAPS *maps, const char *user, const char *password, BUF *why);
int     authd_hash_equal(const char *a, const char *b);

#endif
