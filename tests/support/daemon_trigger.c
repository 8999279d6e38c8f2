/*
 * NAME
 *      test-trigger - trigger-server test daemon: logs every trigger
 * SYNOPSIS
 *      test-trigger (started by master; see master_proto.h)
 * DESCRIPTION
 *      Logs "trigger service=<name> data=<bytes>" for each trigger it
 *      receives, so that the integration tests can count wakeups.
 * SECURITY
 *      Test program only. Non-printable bytes are logged as '?'.
 */
#include "buf.h"
#include "msg.h"
#include "server.h"

/* trigger_service - log what arrived */
static void trigger_service(const char *data, size_t len, const SERVER_CTX *ctx)
{
    BUF    *text = buf_alloc(len + 1);
    size_t  i;

    for (i = 0; i < len; i++)
        buf_putc(text, data[i] > 32 && data[i] < 127 ? data[i] : '?');
    msg_info("trigger service=%s data=%s", ctx->service, buf_str(text));
    buf_free(text);
}

int     main(int argc, char **argv)
{
    trigger_server_main(argc, argv, trigger_service, NULL);
}
