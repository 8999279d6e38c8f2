/*
 * NAME
 *      test-crash - a daemon that fails at once
 * SYNOPSIS
 *      test-crash (started by master)
 * DESCRIPTION
 *      Exits with status 1 before doing anything, so that the integration
 *      tests can check that master throttles a crash-looping service.
 * SECURITY
 *      Test program only.
 */
int     main(int argc, char **argv)
{
    (void) argc;
    (void) argv;
    return 1;
}
