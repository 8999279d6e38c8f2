/* tls_grade - cipher grade to OpenSSL cipher list; see tls_grade.h. */
#include <strings.h>

#include "config.h"
#include "tls_grade.h"

/* tls_grade_cipherlist - tls_<grade>_cipherlist, or NULL */
const char *tls_grade_cipherlist(const char *grade)
{
    if (strcasecmp(grade, "high") == 0)
        return config_str(P_tls_high_cipherlist);
    if (strcasecmp(grade, "medium") == 0)
        return config_str(P_tls_medium_cipherlist);
    if (strcasecmp(grade, "null") == 0)
        return config_str(P_tls_null_cipherlist);
    return NULL;
}
