/* maillog - maillog_file rules; see maillog.h. */
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "maillog.h"
#include "msg.h"

/* maillog_prefix_match - path equals prefix or continues it with a '/' */
static int maillog_prefix_match(const char *path, const char *prefix)
{
    size_t  len = strlen(prefix);

    while (len > 1 && prefix[len - 1] == '/')
        len--;                          /* "/var/" is "/var" */
    if (len == 0 || strncmp(path, prefix, len) != 0)
        return 0;
    return path[len] == 0 || path[len] == '/' || prefix[len - 1] == '/';
}

/* maillog_file_allowed - 1 if path is under a maillog_file_prefixes entry;
 * 0 with why otherwise */
int maillog_file_allowed(const char *path, BUF *why)
{
    int     count;
    char  **list = config_split_list(config_str(P_maillog_file_prefixes), &count);
    int     ok = 0;
    int     i;

    /* A relative name or one with ".." could leave any prefix. */
    if (path[0] == '/' && strstr(path, "/../") == NULL
        && (strlen(path) < 3 || strcmp(path + strlen(path) - 3, "/..") != 0))
        for (i = 0; i < count && !ok; i++)
            ok = maillog_prefix_match(path, list[i]);
    config_free_list(list);
    if (!ok)
        buf_sprintf(why, "maillog_file %s is not under maillog_file_prefixes (%s)", path,
                    config_str(P_maillog_file_prefixes));
    return ok;
}

/* maillog_socket - public/$postlog_service_name */
void maillog_socket(BUF *out)
{
    buf_sprintf(out, "public/%s", config_str(P_postlog_service_name));
}

/* maillog_client - where a command (not a daemon) logs, once main.cf is
 * read: through the postlog socket when the master has one (absolute
 * path: a command's working folder is anyone's), else the file itself
 * when direct_ok (the administrator's commands; Postfix lets only root's
 * postfix, postsuper and postlog do that). 0, or -1 when the file could
 * not be opened (the caller decides whether that matters). */
int maillog_client(int direct_ok)
{
    const char *file = config_str(P_maillog_file);
    BUF    *sock;
    BUF    *rel;
    struct stat st;
    int     rc = 0;

    if (*file == 0)
        return 0;
    rel = buf_alloc(100);
    sock = buf_alloc(100);
    maillog_socket(rel);
    buf_sprintf(sock, "%s/%s", config_str(P_queue_directory), buf_str(rel));
    if (lstat(buf_str(sock), &st) == 0 && S_ISSOCK(st.st_mode)
        && msg_set_logservice(buf_str(sock), direct_ok ? file : NULL, 0) == 0)
        goto out;
    (void) msg_set_logservice(NULL, NULL, 0);
    if (direct_ok)
        rc = msg_set_logfile(file);
out:
    buf_free(rel);
    buf_free(sock);
    return rc;
}
