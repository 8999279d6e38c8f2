/*
 * NAME
 *      test-echo - single-server test daemon: answers each line with its pid
 * SYNOPSIS
 *      test-echo (started by master; see master_proto.h)
 * DESCRIPTION
 *      For every line a client sends, answers "<pid> <uid> <line>". The
 *      integration tests use it to see which process served a client and
 *      with which privileges: maxproc, max_use, restarts, reload, unpriv.
 * SECURITY
 *      Test program only; runs with whatever the skeleton leaves it.
 */
#include <unistd.h>

#include "buf.h"
#include "server.h"

/* echo_service - one client: echo lines until it hangs up */
static void echo_service(STREAM *client, const SERVER_CTX *ctx)
{
    BUF    *line = buf_alloc(100);

    (void) ctx;
    stream_set_timeout(client, 30);
    while (stream_get_line(client, line, 1000) >= STREAM_LINE_OK) {
        buf_trim_right(line);
        if (stream_printf(client, "%ld %ld %s\n", (long) getpid(),
                          (long) getuid(), buf_str(line)) < 0
            || stream_flush(client) < 0)
            break;
    }
    buf_free(line);
}

int     main(int argc, char **argv)
{
    single_server_main(argc, argv, echo_service, NULL);
}
