/* mail_date - header dates; see mail_date.h. */
#include <stdio.h>
#include <string.h>

#include "mail_date.h"

/* mail_date - when, formatted into out (at least MAIL_DATE_SIZE bytes) */
void mail_date(time_t when, char *out, size_t size)
{
    struct tm tm;

    localtime_r(&when, &tm);
    if (strftime(out, size, "%a, %e %b %Y %H:%M:%S %z (%Z)", &tm) == 0)
        snprintf(out, size, "Thu,  1 Jan 1970 00:00:00 +0000 (UTC)");
}
