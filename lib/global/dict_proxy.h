/* dict_proxy - the proxy: table type (see dict_proxy.c): lookups through
 * the proxymap service, for daemons whose tables are outside their chroot.
 * config_boot() registers it, so every program that reads main.cf knows it.
 */
#ifndef SUREL_DICT_PROXY_H
#define SUREL_DICT_PROXY_H

#include "dict.h"

extern const DICT_TYPE dict_proxy_type;

#endif
