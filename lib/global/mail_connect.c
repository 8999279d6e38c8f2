/* mail_connect - private/NAME, then public/NAME (see mail_connect.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "mail_connect.h"
#include "mail_queue.h"

/* mail_connect_class - one try: fd, or -1 with errno and why appended */
static int mail_connect_class(const char *queue_dir, const char *class,
                              const char *service, BUF *why)
{
    struct sockaddr_un sun;
    int     fd;
    int     saved;
    int     n;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    n = queue_dir ? snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s/%s", queue_dir,
                             class, service)
        : snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", class, service);
    if (n < 0 || (size_t) n >= sizeof(sun.sun_path)) {
        buf_printf(why, "%s%s/%s: socket path too long", buf_len(why) ? "; " : "",
                   class, service);
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        saved = errno;
        buf_printf(why, "%ssocket: %s", buf_len(why) ? "; " : "", strerror(saved));
        errno = saved;
        return -1;
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
        saved = errno;
        buf_printf(why, "%sconnect to %s: %s", buf_len(why) ? "; " : "", sun.sun_path,
                   strerror(saved));
        (void) close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* mail_connect - private/service, else public/service */
int mail_connect(const char *queue_dir, const char *service, BUF *why)
{
    int     fd;

    buf_reset(why);
    if ((fd = mail_connect_class(queue_dir, MAIL_QUEUE_PRIVATE, service, why)) >= 0)
        return fd;
    /* Missing (master.cf says public) or refusing (a stale name): try public/. */
    if (errno != ENOENT && errno != ECONNREFUSED)
        return -1;
    if ((fd = mail_connect_class(queue_dir, MAIL_QUEUE_PUBLIC, service, why)) >= 0)
        buf_reset(why);
    return fd;
}
