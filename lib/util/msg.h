/* msg - the one logger, with fixed severities.
 *
 * Lines look like Postfix's so that pflogsumm, fail2ban and grep habits work:
 *     surel/smtpd[123]: 4Xk9...: client=host[1.2.3.4]
 * Severities mean one thing each:
 *     msg_info   an event worth a log line;
 *     msg_warn   something went wrong and we recovered ("warning: ");
 *     msg_fatal  configuration or environment is unusable; exit(1) ("fatal: ");
 *     msg_panic  our own bug; abort() ("panic: ").
 * Destinations: syslog (facility mail) by default; the file named by
 * `maillog_file` instead when set; and stderr when asked (foreground master,
 * command-line tools, tests). With a postlog service (msg_set_logservice)
 * each formatted line goes as one datagram to postlogd, the file's one
 * writer; the file is written directly only when the socket cannot take
 * the line. Each direct write is one write(2) with O_APPEND, under the
 * rotation lock of logwriter.h, so that processes sharing a log file never
 * interleave within a line nor write to a rotated file.
 */
#ifndef SUREL_MSG_H
#define SUREL_MSG_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#define MSG_TO_STDERR   (1 << 0)    /* also write to stderr */
#define MSG_TO_SYSLOG   (1 << 1)    /* write to syslog (unless a file is set) */

#define MSG_SERVICE_NONBLOCK (1 << 0)   /* never wait on the socket: queue (the master) */
#define MSG_SERVICE_TIMEOUT  10         /* seconds a blocked send waits, then the file */
#define MSG_PENDING_MAX      (256 * 1024)   /* NONBLOCK: bytes queued at most */

extern int msg_verbose;             /* >0: msg_debug lines are written */

void    msg_init(const char *progname, int flags);
void    msg_set_name(const char *syslog_name);   /* "postfix": postfix/smtpd[pid] */
pid_t   msg_pid(void);                          /* getpid(), cached; a fork forgets it */
int     msg_set_logfile(const char *path);
int     msg_set_logservice(const char *sock_path, const char *file_path, int flags);
void    msg_service_flush(void);
int     msg_service_pending(void);
void    msg_write_direct(const char *line, size_t len);
void    msg_set_stderr(int on);
const char *msg_progname(void);
void    msg_on_exit(void (*cleanup)(void));

void    msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void    msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void    msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void    msg_fatal(const char *fmt, ...)
            __attribute__((format(printf, 1, 2), noreturn));
void    msg_panic(const char *fmt, ...)
            __attribute__((format(printf, 1, 2), noreturn));
void    msg_vlog(int severity, const char *fmt, va_list ap)
            __attribute__((format(printf, 2, 0)));

/* Severities for msg_vlog. */
#define MSG_INFO    0
#define MSG_WARN    1
#define MSG_FATAL   2
#define MSG_PANIC   3

#endif
