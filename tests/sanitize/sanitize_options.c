/* sanitize_options - run-time defaults of ASan and UBSan in sanitizer builds.
 *
 * Compiled into every program of a -DSUREL_SANITIZE=ON build (see
 * cmake/SurelProgram.cmake), never into a normal one. The daemons run
 * under the master with a cleaned environment and stderr on /dev/null,
 * so ASAN_OPTIONS could not reach them and a report would vanish: the
 * defaults are compiled in instead. Every report goes to a file under
 * SUREL_SANITIZE_LOG_DIR (a world-writable folder: daemons run as
 * mail_owner), where tests/sanitize/run_sanitized.py looks after each
 * integration script. Leaks are not errors (daemons exit through
 * msg_fatal and exit() with live allocations, as Postfix's do); any
 * memory error or undefined behaviour stops the process. Reports are not
 * symbolized: the symbolizer is a program, and confined daemons may not
 * run programs (lib/global/server_confine.c).
 */
#ifndef SUREL_SANITIZE_LOG_DIR
#error "SUREL_SANITIZE_LOG_DIR must be defined"
#endif

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
    return "detect_leaks=0:abort_on_error=1:handle_abort=0:disable_coredump=1:symbolize=0"
        ":log_path=" SUREL_SANITIZE_LOG_DIR "/asan";
}

const char *__ubsan_default_options(void)
{
    return "print_stacktrace=1:halt_on_error=1:symbolize=0:log_path=" SUREL_SANITIZE_LOG_DIR "/ubsan";
}
