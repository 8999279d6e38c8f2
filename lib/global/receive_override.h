/* receive_override - receive_override_options: what smtpd and pickup skip
 * for mail they receive (Postfix's input_transp). A re-injection service
 * after a content filter sets "-o receive_override_options=..." so that
 * the filtered mail is not mapped, checked or filtered a second time.
 *
 *   no_unknown_recipient_checks  smtpd: no reject_unlisted_recipient
 *   no_address_mappings          cleanup: no canonical/virtual mapping
 *                                (CLEANUP_FLAG_MAP_OK cleared)
 *   no_header_body_checks        cleanup: no header_checks/body_checks
 *                                (CLEANUP_FLAG_FILTER cleared)
 *   no_milters                   no smtpd_milters / non_smtpd_milters
 *
 * An unknown word gets a warning and is ignored. Needs the configuration.
 */
#ifndef SUREL_RECEIVE_OVERRIDE_H
#define SUREL_RECEIVE_OVERRIDE_H

#define RECEIVE_NO_UNKNOWN_RCPT   (1 << 0)
#define RECEIVE_NO_ADDR_MAPPINGS  (1 << 1)
#define RECEIVE_NO_HEADER_BODY    (1 << 2)
#define RECEIVE_NO_MILTERS        (1 << 3)

/* receive_override_options - the parameter as RECEIVE_* bits */
int     receive_override_options(void);

/* receive_override_cleanup_flags - CLEANUP_FLAG_* with what opts skips
 * taken out (FILTER, MAP_OK, MILTER, SMTPD_MILTERS) */
int     receive_override_cleanup_flags(int flags, int opts);

#endif
