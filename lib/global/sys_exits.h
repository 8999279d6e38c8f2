/* sys_exits - what a command's sysexits(3) exit status means for a
 * delivery (Postfix's global/sys_exits.c).
 *
 * local (|command, mailbox_command) and pipe run commands and turn their
 * exit status into a DSN status; both read this one table, so that exit
 * 75 defers and exit 67 bounces with 5.1.1 in both:
 *     64 5.3.0 command line usage error     72 5.3.0 critical OS file missing
 *     65 5.6.0 data format error            73 5.2.0 can't create user output file
 *     66 5.3.0 cannot open input            74 5.3.0 input/output error
 *     67 5.1.1 user unknown                 75 4.3.0 temporary failure
 *     68 5.1.2 host name unknown            76 5.5.0 remote error in protocol
 *     69 5.3.0 service unavailable          77 5.7.0 permission denied
 *     70 5.3.0 internal software error      78 5.3.5 local configuration error
 *     71 4.3.0 system resource problem
 */
#ifndef SUREL_SYS_EXITS_H
#define SUREL_SYS_EXITS_H

typedef struct SYS_EXITS_DETAIL {
    int     status;                 /* the exit status */
    const char *dsn;                /* "5.1.1" */
    const char *text;               /* "user unknown" */
} SYS_EXITS_DETAIL;

/* sys_exits_detail - the entry of a sysexits(3) status, NULL for others */
const SYS_EXITS_DETAIL *sys_exits_detail(int status);

#endif
