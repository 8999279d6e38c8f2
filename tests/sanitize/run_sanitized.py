"""run_sanitized - one integration script against the sanitizer build.

Usage: run_sanitized.py REPORT_DIR SCRIPT [args]

SUREL_BIN_DIR (set by CTest) is the bin/ folder of the -DSUREL_SANITIZE=ON
build, so the script's instances run ASan/UBSan daemons. Their reports
land in REPORT_DIR (compiled in: tests/sanitize/sanitize_options.c). The
test fails when the script fails or when a report appeared while it ran;
the reports are printed. With CTest -j2 a report of the script running
beside may be counted here too: either way the run is red.
"""
import os
import subprocess
import sys


def reports(folder):
    try:
        return set(os.listdir(folder))
    except OSError:
        return set()


def main():
    folder, script = sys.argv[1], sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    os.chmod(folder, 0o1777)        # daemons run as mail_owner
    before = reports(folder)
    rc = subprocess.call([sys.executable, "-u", script] + sys.argv[3:])
    new = sorted(reports(folder) - before)
    for name in new:
        print("==== sanitizer report %s" % name)
        with open(os.path.join(folder, name), errors="replace") as f:
            print(f.read())
    if new:
        print("%d sanitizer report(s) while %s ran" % (len(new), os.path.basename(script)))
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
