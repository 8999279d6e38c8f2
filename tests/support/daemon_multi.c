/*
 * NAME
 *      test-multi - multi-server test daemon: one process, many clients
 * SYNOPSIS
 *      test-multi (started by master; see master_proto.h)
 * DESCRIPTION
 *      Like test-echo, but every client is driven by the event loop of one
 *      process: each line is answered with "<pid> <uid> <line>".
 * SECURITY
 *      Test program only.
 */
#include <unistd.h>

#include "buf.h"
#include "event.h"
#include "server.h"

/* multi_read - a client is readable: answer every whole line we have */
static void multi_read(int event, void *context)
{
    STREAM *client = context;
    BUF    *line = buf_alloc(100);

    (void) event;
    do {
        if (stream_get_line(client, line, 1000) < STREAM_LINE_OK) {
            buf_free(line);
            multi_server_disconnect(client);
            return;
        }
        buf_trim_right(line);
        if (stream_printf(client, "%ld %ld %s\n", (long) getpid(),
                          (long) getuid(), buf_str(line)) < 0
            || stream_flush(client) < 0) {
            buf_free(line);
            multi_server_disconnect(client);
            return;
        }
    } while (stream_buffered(client) > 0);
    buf_free(line);
}

/* multi_service - a new client: watch it */
static void multi_service(STREAM *client, const SERVER_CTX *ctx)
{
    (void) ctx;
    stream_set_timeout(client, 30);
    event_enable_read(stream_fd(client), multi_read, client);
}

int     main(int argc, char **argv)
{
    multi_server_main(argc, argv, multi_service, NULL);
}
