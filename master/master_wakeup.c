/* master_wakeup - periodic wakeup triggers for unix and fifo services.
 *
 * Every `wakeup` seconds the master writes TRIGGER_WAKEUP to the service's
 * own socket or fifo, as any trigger client would; a service whose column
 * ends in `?` gets no wakeup before it has been used once. The first
 * wakeup is immediate otherwise (and right after a throttle pause).
 * The master never waits on a service: the connect and the write are
 * non-blocking, and a wakeup that cannot be delivered now is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "event.h"
#include "mail_proto.h"
#include "master.h"
#include "msg.h"

/* master_wakeup_write - connect or open, and write the byte */
static void master_wakeup_write(MASTER_SERV *serv)
{
    static const char trigger[1] = {TRIGGER_WAKEUP};
    struct sockaddr_un sun;
    struct stat st;
    int     fd;

    if (serv->unix_path == NULL)
        return;
    if (serv->type == MASTER_FIFO) {
        fd = open(serv->unix_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))) {
            msg_warn("service %s: wakeup: %s is not a fifo", serv->name, serv->unix_path);
            close(fd);
            return;
        }
    } else {
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", serv->unix_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0) {
        msg_warn("service %s: wakeup: %s: %m", serv->name, serv->unix_path);
        return;
    }
    if (write(fd, trigger, sizeof(trigger)) != (ssize_t) sizeof(trigger))
        msg_warn("service %s: wakeup write: %m", serv->name);
    close(fd);
}

/* master_wakeup_send - one trigger byte to the service's endpoint.
 *
 * As mail_owner (master_owner.c): the endpoint is a name in mail_owner's
 * folder, and root opening it could be pointed at any file (a hard link
 * to /etc/shadow in place of the fifo) or any socket (a symlink). The
 * fifo must still be a fifo once open. */
static void master_wakeup_send(MASTER_SERV *serv)
{
    master_owner_enter();
    master_wakeup_write(serv);
    master_owner_leave();
}

/* master_wakeup_event - timer: send a wakeup, schedule the next */
static void master_wakeup_event(int event, void *context)
{
    MASTER_SERV *serv = context;

    (void) event;
    if (!serv->wakeup_on_use || serv->used)
        master_wakeup_send(serv);
    event_request_timer(master_wakeup_event, serv, serv->wakeup * 1000L);
}

/* master_wakeup_start - wake the service up after delay_ms, then periodically */
void master_wakeup_start(MASTER_SERV *serv, long delay_ms)
{
    if (serv->wakeup <= 0 || master_stopping)
        return;
    if (serv->type != MASTER_UNIX && serv->type != MASTER_FIFO)
        return;
    event_request_timer(master_wakeup_event, serv, delay_ms);
}

/* master_wakeup_stop - no more wakeups (throttled, removed, stopping) */
void master_wakeup_stop(MASTER_SERV *serv)
{
    event_cancel_timer(master_wakeup_event, serv);
}
