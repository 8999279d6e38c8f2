/* mail_proto - every IPC attribute name and service name, in one place.
 *
 * Requests and replies between daemons are attribute lists (attr.h). The
 * names they use are declared here and nowhere else, so that a grep shows
 * every producer and consumer of a field.
 */
#ifndef SUREL_MAIL_PROTO_H
#define SUREL_MAIL_PROTO_H

/* Services (sockets under private/ or public/). */
#define MAIL_SERVICE_CLEANUP    "cleanup"
#define MAIL_SERVICE_QMGR       "qmgr"
#define MAIL_SERVICE_PICKUP     "pickup"
#define MAIL_SERVICE_BOUNCE     "bounce"
#define MAIL_SERVICE_LOCAL      "local"

/* Attribute names. */
#define MAIL_ATTR_PROTO         "protocol"
#define MAIL_ATTR_REQ           "request"
#define MAIL_ATTR_STATUS        "status"
#define MAIL_ATTR_WHY           "reason"
#define MAIL_ATTR_QUEUEID       "queue_id"
#define MAIL_ATTR_FLAGS         "flags"
#define MAIL_ATTR_SENDER        "sender"
#define MAIL_ATTR_RECIP         "recipient"
#define MAIL_ATTR_ORCPT         "original_recipient"
#define MAIL_ATTR_OFFSET        "offset"
#define MAIL_ATTR_NREQ          "nrequest"
#define MAIL_ATTR_DSN_STATUS    "dsn_status"
#define MAIL_ATTR_DSN_ACTION    "dsn_action"
#define MAIL_ATTR_SIZE          "size"
#define MAIL_ATTR_CLIENT_ADDR   "client_address"
#define MAIL_ATTR_CLIENT_NAME   "client_name"

/* Trigger bytes written to a trigger service (qmgr, pickup). */
#define TRIGGER_WAKEUP          'W'     /* generic wakeup (master timer) */
#define TRIGGER_SCAN_INCOMING   'I'
#define TRIGGER_SCAN_DEFERRED   'D'
#define TRIGGER_SCAN_ALL        'A'
#define TRIGGER_FLUSH_DEAD      'F'

#endif
