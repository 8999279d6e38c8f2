/* cleanup_conf - the main.cf parameters cleanup works with, read once.
 *
 * Tables are opened here, before the daemon drops privileges (pre_init),
 * as Postfix's cleanup does: a table list that cannot be parsed is a
 * configuration error (fatal); a table that cannot be read right now
 * answers TRYLATER (dict.h), which defers mail instead of bouncing it.
 */
#include <stdlib.h>

#include "cleanup.h"
#include "config.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "resolve_local.h"

CLEANUP_CONF cleanup_conf;

/* cleanup_maps - open a table list parameter; NULL when it is empty */
static MAPS *cleanup_maps(PARAM_ID id)
{
    const char *list = config_str(id);
    BUF    *why;
    MAPS   *maps;
    const char *cp;

    for (cp = list; *cp == ' ' || *cp == '\t' || *cp == ','; cp++)
         /* void */ ;
    if (*cp == 0)
        return NULL;
    why = buf_alloc(100);
    if ((maps = maps_open(list, 0, why)) == NULL)
        msg_fatal("%s = %s: %s", config_param_info(id)->name, list, buf_str(why));
    buf_free(why);
    return maps;
}

/* cleanup_conf_init - see cleanup.h */
void cleanup_conf_init(void)
{
    BUF    *why = buf_alloc(100);

    cleanup_conf_free();
    cleanup_conf.queue_dir = xstrdup(config_str(P_queue_directory));
    cleanup_conf.myhostname = xstrdup(config_str(P_myhostname));
    cleanup_conf.myorigin = xstrdup(config_str(P_myorigin));
    /* $mydestination and our address literals: resolve_local (opened now). */
    if (resolve_local_init(why) < 0)
        msg_fatal("%s", buf_str(why));
    buf_free(why);
    cleanup_conf.recipient_delimiter = xstrdup(config_str(P_recipient_delimiter));
    cleanup_conf.canonical_maps = cleanup_maps(P_canonical_maps);
    cleanup_conf.send_canon_maps = cleanup_maps(P_sender_canonical_maps);
    cleanup_conf.rcpt_canon_maps = cleanup_maps(P_recipient_canonical_maps);
    cleanup_conf.virtual_alias_maps = cleanup_maps(P_virtual_alias_maps);
    cleanup_conf.sender_bcc_maps = cleanup_maps(P_sender_bcc_maps);
    cleanup_conf.recipient_bcc_maps = cleanup_maps(P_recipient_bcc_maps);
    cleanup_conf.always_bcc = xstrdup(config_str(P_always_bcc));
    cleanup_masq_init();
    why = buf_alloc(100);
    if ((cleanup_conf.header_rewrite = header_rewrite_init(why)) == NULL)
        msg_fatal("%s", buf_str(why));
    buf_free(why);
    cleanup_conf.header_checks = cleanup_maps(P_header_checks);
    cleanup_conf.body_checks = cleanup_maps(P_body_checks);
    cleanup_conf.message_size_limit = config_int(P_message_size_limit);
    cleanup_conf.header_size_limit = config_int(P_header_size_limit);
    cleanup_conf.virt_expansion_limit = config_int(P_virtual_alias_expansion_limit);
    cleanup_conf.virt_recursion_limit = config_int(P_virtual_alias_recursion_limit);
    cleanup_conf.replace_stray_cr_lf = config_bool(P_cleanup_replace_stray_cr_lf);
    cleanup_conf.delay_warning_time = config_time(P_delay_warning_time);
    cleanup_conf.ipc_timeout = (int) config_time(P_ipc_timeout);
    qfile_set_dir_fsync(mail_queue_dir_fsync());       /* the commit's folder fsyncs */
}

/* cleanup_conf_free - forget the configuration (tests reload it) */
void cleanup_conf_free(void)
{
    MAPS  **maps[] = {
        &cleanup_conf.canonical_maps, &cleanup_conf.send_canon_maps,
        &cleanup_conf.rcpt_canon_maps, &cleanup_conf.virtual_alias_maps,
        &cleanup_conf.sender_bcc_maps, &cleanup_conf.recipient_bcc_maps,
        &cleanup_conf.header_checks, &cleanup_conf.body_checks,
    };
    size_t  i;

    for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        if (*maps[i])
            maps_close(*maps[i]);
        *maps[i] = NULL;
    }
    header_rewrite_free(cleanup_conf.header_rewrite);
    cleanup_conf.header_rewrite = NULL;
    xfree(cleanup_conf.queue_dir);
    xfree(cleanup_conf.myhostname);
    xfree(cleanup_conf.myorigin);
    xfree(cleanup_conf.recipient_delimiter);
    xfree(cleanup_conf.always_bcc);
    cleanup_masq_free();
    cleanup_conf.always_bcc = NULL;
    cleanup_conf.queue_dir = cleanup_conf.myhostname = cleanup_conf.myorigin = NULL;
    cleanup_conf.recipient_delimiter = NULL;
}
