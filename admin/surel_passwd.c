/* surel_passwd - `surel passwd [-6]`: a crypt(3) hash for authd_password_maps.
 *
 * Reads one password from standard input (its first line, without the
 * line end; never from argv, where ps would show it), and prints its
 * yescrypt hash ($y$, Debian's default for /etc/shadow), or its
 * SHA-512-crypt hash ($6$) with -6, made by libxcrypt with a fresh salt
 * from crypt_gensalt. The output goes into the table as the value:
 *     alice   $y$j9T$...
 * The password is wiped from memory before exit.
 */
#include <crypt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "surel.h"

#define PASSWD_MAX  1024                /* longest password read */

/* surel_passwd_read - the first line of stdin; 0, or -1 with a message */
static int surel_passwd_read(char *buf, size_t size)
{
    size_t  len = 0;
    ssize_t n;
    char    ch;

    while ((n = read(STDIN_FILENO, &ch, 1)) == 1 && ch != '\n') {
        if (len + 1 >= size) {
            msg_warn("password longer than %d bytes", PASSWD_MAX);
            return -1;
        }
        buf[len++] = ch;
    }
    if (n < 0) {
        msg_warn("read standard input: %m");
        return -1;
    }
    if (len && buf[len - 1] == '\r')
        len--;
    buf[len] = 0;
    if (len == 0) {
        msg_warn("empty password");
        return -1;
    }
    return 0;
}

/* surel_passwd_main - the verb */
int     surel_passwd_main(int argc, char **argv)
{
    char    password[PASSWD_MAX + 1];
    char    salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data data;
    const char *prefix = "$y$";
    int     status = 1;
    int     ch;

    while ((ch = getopt(argc, argv, "6")) != -1) {
        if (ch != '6') {
            fprintf(stderr, "usage: surel passwd [-6] < password\n");
            return 2;
        }
        prefix = "$6$";
    }
    if (optind != argc) {
        fprintf(stderr, "usage: surel passwd [-6] < password\n");
        return 2;
    }
    memset(&data, 0, sizeof(data));
    if (surel_passwd_read(password, sizeof(password)) == 0) {
        if (crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof(salt)) == NULL
            || crypt_rn(password, salt, &data, sizeof(data)) == NULL
            || data.output[0] == '*')
            msg_warn("libcrypt cannot make a %s hash: %m", prefix);
        else if (printf("%s\n", data.output) > 0 && fflush(stdout) == 0)
            status = 0;
    }
    explicit_bzero(password, sizeof(password));
    explicit_bzero(&data, sizeof(data));
    return status;
}
