/* preload_bind_race - an LD_PRELOAD shim that plays the racing attacker.
 *
 * A process running as mail_owner can replace any name in private/ or
 * public/ at any moment. This shim makes that happen at the worst moment,
 * deterministically: right after the master's bind() of the UNIX socket
 * whose path ends in $SUREL_RACE_SOCKET, it replaces the new name with a
 * symbolic link to $SUREL_RACE_TARGET. A master that then calls chmod()
 * (or anything else by name) on the socket acts on the target instead.
 * Used by tests/integration/test_master_races.py; never installed.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef int (*bind_fn) (int, const struct sockaddr *, socklen_t);

/* race_matches - is this the socket the test wants raced? */
static int race_matches(const struct sockaddr *addr, const char *suffix)
{
    const struct sockaddr_un *sun = (const struct sockaddr_un *) addr;
    size_t  len;
    size_t  n;

    if (addr->sa_family != AF_UNIX || suffix == NULL)
        return 0;
    len = strnlen(sun->sun_path, sizeof(sun->sun_path));
    n = strlen(suffix);
    return len >= n && strcmp(sun->sun_path + len - n, suffix) == 0;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    static bind_fn real_bind;
    const char *target = getenv("SUREL_RACE_TARGET");
    int     rc;

    if (real_bind == NULL)
        real_bind = (bind_fn) dlsym(RTLD_NEXT, "bind");
    rc = real_bind(fd, addr, len);
    if (rc == 0 && target && race_matches(addr, getenv("SUREL_RACE_SOCKET"))) {
        const char *path = ((const struct sockaddr_un *) addr)->sun_path;

        (void) unlink(path);
        (void) symlink(target, path);
    }
    return rc;
}
