/* fuzz_cleanup_input - the client's record stream through cleanup's whole
 * state machine: record framing, the protocol grammar, header assembly,
 * header/body checks, canonical and virtual mapping, the queue file.
 * The first byte chooses the client flags; the rest is what a client
 * (smtpd, pickup: fed from the network and from local users) could send.
 * Whatever cleanup commits must pass qfile_verify; nothing may be left
 * in temp/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "qfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char queue_dir[] = "/tmp/fuzz_cleanup.XXXXXX";

/* fuzz_init - a queue folder and a configuration with every feature on */
static void fuzz_init(void)
{
    static const char *dirs[] = {"temp", "incoming", "hold", "public"};
    char    path[200];
    FILE   *fp;
    size_t  i;

    if (mkdtemp(queue_dir) == NULL)
        abort();
    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", queue_dir, dirs[i]);
        mkdir(path, 0700);
    }
    snprintf(path, sizeof(path), "%s/checks", queue_dir);
    if ((fp = fopen(path, "w")) == NULL)
        abort();
    fputs("/^Subject: r/ REJECT\n/^Subject: d/ DISCARD\n/^Subject: h/ HOLD\n"
          "/^X-I/ IGNORE\n/^X-R: (.*)/ REPLACE X-S: $1\n/^X-P/ PREPEND X-Q: 1\n"
          "/^To: x/ REDIRECT y@z\n/^b/ REPLACE c\n/^w/ WARN\n", fp);
    fclose(fp);
    msg_set_stderr(0);
    config_set("queue_directory", queue_dir);
    config_set("myhostname", "mx.example");
    config_set("myorigin", "example.org");
    config_set("recipient_delimiter", "+");
    config_set("header_size_limit", "2048");
    config_set("message_size_limit", "100000");
    config_set("hopcount_limit", "5");
    config_set("virtual_alias_expansion_limit", "20");
    config_set("virtual_alias_recursion_limit", "5");
    config_set("append_dot_mydomain", "yes");
    config_set("mydomain", "example.org");
    config_set("always_bcc", "copy");
    config_set("recipient_bcc_maps", "inline:{@y=bcc@y}");
    config_set("masquerade_domains", "!k.y, y");
    snprintf(path, sizeof(path), "pcre:%s/checks", queue_dir);
    config_set("header_checks", path);
    config_set("body_checks", path);
    config_set("canonical_maps", "inline:{a=b, @x=@y, c@example.org=@z}");
    config_set("virtual_alias_maps", "inline:{{l@y=a@y, b@y, l@y}, a@y=b@y, {q@y=q@y,r@y}}");
    cleanup_conf_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialized;
    CLEANUP_STATE *state;
    BUF    *why, *path;
    char    id[QUEUE_ID_BUFSZ];
    const char *queues[] = {"incoming", "hold"};
    size_t  i;

    if (!initialized++)
        fuzz_init();
    if (size < 1)
        return 0;
    why = buf_alloc(100);
    path = buf_alloc(100);
    if ((state = cleanup_open(data[0] & 0xf, why)) == NULL)
        abort();
    snprintf(id, sizeof(id), "%s", state->queue_id);
    (void) cleanup_input(state, (const char *) data + 1, size - 1);
    (void) cleanup_finish(state);
    cleanup_free(state);
    for (i = 0; i < 2; i++) {
        QFILE_SUMMARY sum;
        struct stat st;
        int     fd;

        buf_sprintf(path, "%s/%s/%s", queue_dir, queues[i], id);
        if ((fd = qfile_open_ready(buf_str(path), 0, &st, why)) >= 0) {
            STREAM *s = stream_fdopen(fd);

            if (qfile_verify(s, &sum, why) != 0)
                __builtin_trap();       /* we committed a file readers refuse */
            stream_close(s);
            unlink(buf_str(path));
        }
    }
    buf_sprintf(path, "%s/temp/%s", queue_dir, id);
    if (access(buf_str(path), F_OK) == 0)
        __builtin_trap();               /* a file was left behind */
    buf_free(why);
    buf_free(path);
    return 0;
}
