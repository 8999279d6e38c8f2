/* smtpd_params - the main.cf parameters smtpd reads, read once.
 *
 * Every value is taken when the process starts (after -o overrides), so a
 * session never re-parses configuration. Defaults live only in params.def:
 * a test that wants them calls config_reset() and smtpd_params_init().
 */
#include <string.h>
#include <strings.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "receive_override.h"
#include "smtpd.h"
#include "str_split.h"

SMTPD_PARAMS smtpd_params;

/* smtpd_params_free - forget strings of an earlier init */
static void smtpd_params_free(void)
{
    xfree(smtpd_params.myhostname);
    xfree(smtpd_params.banner);
    xfree(smtpd_params.mail_name);
    xfree(smtpd_params.service);
    xfree(smtpd_params.sasl_path);
    xfree(smtpd_params.content_filter);
    memset(&smtpd_params, 0, sizeof(smtpd_params));
}

/* smtpd_params_tls_level - smtpd_tls_security_level as a mode. Empty is
 * "none" (Postfix reads the obsolete smtpd_use_tls then; we have none).
 * An unknown value turns TLS off with a warning rather than guessing. */
static int smtpd_params_tls_level(const char *value)
{
    if (strcasecmp(value, "may") == 0)
        return SMTPD_TLS_MAY;
    if (strcasecmp(value, "encrypt") == 0)
        return SMTPD_TLS_ENCRYPT;
    if (*value && strcasecmp(value, "none") != 0)
        msg_warn("smtpd_tls_security_level: unknown value \"%s\"; using \"none\"", value);
    return SMTPD_TLS_NONE;
}

/* smtpd_params_bare_newline - smtpd_forbid_bare_newline as a mode.
 * "no" is read as normalize: the pre-2024 behaviour (a bare LF line
 * ending DATA) is the smuggling hole itself, so it is never offered. */
static int smtpd_params_bare_newline(const char *value)
{
    if (strcasecmp(value, "reject") == 0)
        return SMTPD_BARE_LF_REJECT;
    if (strcasecmp(value, "normalize") != 0 && strcasecmp(value, "yes") != 0
        && strcasecmp(value, "no") != 0)
        msg_warn("smtpd_forbid_bare_newline: unknown value \"%s\"; using \"normalize\"",
                 value);
    return SMTPD_BARE_LF_NORMALIZE;
}

/* smtpd_params_stress - $stress: "yes" when the master started us while
 * the service was at its process limit (-o stress=yes, master_spawn.c).
 * It is no main.cf parameter, only a name the stress-dependent defaults
 * (${stress?{x}:{y}}) expand. */
static int smtpd_params_stress(void)
{
    BUF    *out = buf_alloc(16);
    BUF    *why = buf_alloc(16);
    int     yes;

    yes = config_expand("$stress", out, why) == 0 && strcasecmp(buf_str(out), "yes") == 0;
    buf_free(out);
    buf_free(why);
    return yes;
}

/* PLAIN and LOGIN are the only mechanisms, neither anonymous: of the
 * SASL security options only noplaintext changes what is offered. */
/* smtpd_params_init - read the parameters from the loaded configuration */
void    smtpd_params_init(const char *service)
{
    smtpd_params_free();
    smtpd_params.myhostname = xstrdup(config_str(P_myhostname));
    smtpd_params.banner = xstrdup(config_str(P_smtpd_banner));
    smtpd_params.mail_name = xstrdup(config_str(P_mail_name));
    smtpd_params.content_filter = xstrdup(config_str(P_content_filter));
    smtpd_params.receive_opts = receive_override_options();
    smtpd_params.service = xstrdup(service ? service : "smtp");
    smtpd_params.message_size_limit = config_int(P_message_size_limit);
    smtpd_params.queue_minfree = config_int(P_queue_minfree);
    smtpd_params.line_length_limit = config_int(P_line_length_limit);
    smtpd_params.recipient_limit = config_int(P_smtpd_recipient_limit);
    smtpd_params.timeout = config_time(P_smtpd_timeout);
    smtpd_params.ipc_timeout = config_time(P_ipc_timeout);
    smtpd_params.hard_error_limit = config_int(P_smtpd_hard_error_limit);
    smtpd_params.soft_error_limit = config_int(P_smtpd_soft_error_limit);
    smtpd_params.error_sleep = config_time(P_smtpd_error_sleep_time);
    smtpd_params.junk_limit = config_int(P_smtpd_junk_command_limit);
    smtpd_params.per_request_deadline = config_bool(P_smtpd_per_request_deadline);
    smtpd_params.min_data_rate = config_int(P_smtpd_min_data_rate);
    smtpd_params.stress = smtpd_params_stress();
    smtpd_params.peername_lookup = config_bool(P_smtpd_peername_lookup);
    smtpd_params.conn_limit = config_int(P_smtpd_client_connection_count_limit);
    smtpd_params.conn_rate_limit = config_int(P_smtpd_client_connection_rate_limit);
    smtpd_params.msg_rate_limit = config_int(P_smtpd_client_message_rate_limit);
    smtpd_params.rcpt_rate_limit = config_int(P_smtpd_client_recipient_rate_limit);
    smtpd_params.ntls_rate_limit = config_int(P_smtpd_client_new_tls_session_rate_limit);
    smtpd_params.auth_rate_limit = config_int(P_smtpd_client_auth_rate_limit);
    smtpd_params.bare_newline =
        smtpd_params_bare_newline(config_str(P_smtpd_forbid_bare_newline));
    smtpd_params.bare_newline_code = (int) config_int(P_smtpd_forbid_bare_newline_reject_code);
    smtpd_params.disable_vrfy = config_bool(P_disable_vrfy_command);
    smtpd_params.helo_required = config_bool(P_smtpd_helo_required);
    smtpd_params.strict_envelopes = config_bool(P_strict_rfc821_envelopes);
    smtpd_params.smtputf8_enable = config_bool(P_smtputf8_enable);
    smtpd_params.tls_level = smtpd_params_tls_level(config_str(P_smtpd_tls_security_level));
    smtpd_params.tls_wrappermode = config_bool(P_smtpd_tls_wrappermode);
    smtpd_params.tls_loglevel = (int) config_int(P_smtpd_tls_loglevel);
    smtpd_params.tls_received_header = config_bool(P_smtpd_tls_received_header);
    smtpd_params.sasl_enable = config_bool(P_smtpd_sasl_auth_enable);
    smtpd_params.tls_auth_only = config_bool(P_smtpd_tls_auth_only);
    smtpd_params.broken_sasl = config_bool(P_broken_sasl_auth_clients);
    smtpd_params.sasl_auth_header = config_bool(P_smtpd_sasl_authenticated_header);
    /* surel's own authd speaks Dovecot's protocol; Postfix's default path
     * "smtpd" (a Cyrus application name) means its socket there. */
    if (strcasecmp(config_str(P_smtpd_sasl_type), "surel") == 0
        && strcmp(config_str(P_smtpd_sasl_path), "smtpd") == 0)
        smtpd_params.sasl_path = xstrdup("private/authd");
    else
        smtpd_params.sasl_path = xstrdup(config_str(P_smtpd_sasl_path));
    smtpd_params.sasl_noplain = str_split_has(config_str(P_smtpd_sasl_security_options),
                                              "noplaintext");
    smtpd_params.sasl_tls_noplain =
        str_split_has(config_str(P_smtpd_sasl_tls_security_options), "noplaintext");
    if (smtpd_params.sasl_enable && strcasecmp(config_str(P_smtpd_sasl_type), "dovecot") != 0
        && strcasecmp(config_str(P_smtpd_sasl_type), "surel") != 0)
        msg_warn("smtpd_sasl_type: unsupported value \"%s\"; using \"dovecot\"",
                 config_str(P_smtpd_sasl_type));
}
