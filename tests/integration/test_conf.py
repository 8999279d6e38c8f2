"""test_conf - `surel conf` on a temp folder, as an administrator uses it.

Drives bin/surel with -c DIR and with MAIL_CONFIG: listing (all, -n, -d,
-h, -x, names), unknown names, editing in place (name=value, -X) with every
comment and unrelated byte kept, atomic replacement, and -M.
"""
import os
import shutil
import stat
import tempfile
import unittest

from harness.core import binary, run, surel

MAIN_CF = """\
# main.cf for the conf test.
#   An indented comment.

myhostname = mail.example.com
mydestination = $myhostname,
    localhost.$mydomain
  # a comment inside the logical line
    localhost
# relayhost = [commented.example]
relayhost = [smtp.example.net]:587
smtpd_banner = $myhostname   ESMTP    $mail_name
my_maps = inline:{ a=b }
alias_maps = $my_maps
relay_destination_recipient_limit = 7
misspelled_paramter = oops
trailing = no newline at end"""

MASTER_CF = """\
# service type private unpriv chroot wakeup maxproc command
smtp      inet  n       -       n       -       -       smtpd
  -o { smtpd_banner = hello there }
relay     unix  -       -       n       -       -       smtp
qmgr      unix  n       -       n       300?    1       qmgr
"""


class ConfTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="surel-conf-")
        self.main_cf = os.path.join(self.dir, "main.cf")
        with open(self.main_cf, "w") as f:
            f.write(MAIN_CF)
        with open(os.path.join(self.dir, "master.cf"), "w") as f:
            f.write(MASTER_CF)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def conf(self, *args, check=True):
        return surel("conf", *args, config=self.dir, check=check)

    def read_main(self):
        with open(self.main_cf) as f:
            return f.read()

    def lines(self, text):
        return [line for line in text.splitlines() if line]

    # Listing ---------------------------------------------------------------

    def test_all_parameters_sorted_raw(self):
        out = self.conf().stdout
        lines = self.lines(out)
        names = [line.split(" = ")[0].rstrip(" =") for line in lines]
        self.assertEqual(names, sorted(names))
        self.assertIn("queue_directory", names)             # a default
        self.assertIn("mydestination = $myhostname, localhost.$mydomain localhost", lines)
        self.assertIn("smtpd_banner = $myhostname ESMTP $mail_name", lines)  # folded
        self.assertIn("myorigin = $myhostname", lines)      # default, unexpanded
        self.assertIn("relayhost = [smtp.example.net]:587", lines)
        self.assertIn("my_maps = inline:{ a=b }", lines)

    def test_unknown_parameters_warned_not_fatal(self):
        proc = self.conf()
        self.assertEqual(proc.returncode, 0)
        self.assertIn("warning: %s: unused parameter: misspelled_paramter=oops" % self.main_cf,
                      proc.stderr)
        # <service>_<param> for a master.cf service, and names used as $name,
        # are not warned about.
        self.assertNotIn("relay_destination_recipient_limit", proc.stderr)
        self.assertNotIn("my_maps", proc.stderr)

    def test_n_shows_only_main_cf(self):
        out = self.conf("-n").stdout
        names = [line.split(" = ")[0] for line in self.lines(out)]
        self.assertEqual(names, sorted([
            "myhostname", "mydestination", "relayhost", "smtpd_banner", "my_maps",
            "alias_maps", "relay_destination_recipient_limit", "misspelled_paramter",
            "trailing"]))

    def test_d_shows_defaults_only(self):
        out = self.conf("-d").stdout
        lines = self.lines(out)
        self.assertIn("relayhost =", lines)
        self.assertIn("myorigin = $myhostname", lines)
        self.assertIn("message_size_limit = 10240000", lines)
        self.assertNotIn("misspelled_paramter = oops", lines)
        host = [line for line in lines if line.startswith("myhostname = ")][0]
        self.assertNotEqual(host, "myhostname = mail.example.com")
        self.assertIn(".", host)
        self.assertTrue(any(line.startswith("mynetworks = 127.0.0.0/8 ") for line in lines))

    def test_named_h_and_x(self):
        self.assertEqual(self.conf("-h", "relayhost").stdout, "[smtp.example.net]:587\n")
        self.assertEqual(self.conf("myorigin", "relayhost").stdout,
                         "myorigin = $myhostname\nrelayhost = [smtp.example.net]:587\n")
        self.assertEqual(self.conf("-x", "mydestination").stdout,
                         "mydestination = mail.example.com, localhost.example.com localhost\n")
        self.assertEqual(self.conf("-xh", "mydomain", "smtpd_banner").stdout,
                         "example.com\nmail.example.com ESMTP surel\n")
        self.assertEqual(self.conf("-h", "relay_destination_recipient_limit").stdout, "7\n")
        # A service-specific name that is not set refers to its default.
        self.assertEqual(self.conf("-h", "smtp_destination_recipient_limit").stdout,
                         "$default_destination_recipient_limit\n")
        self.assertEqual(self.conf("-hx", "smtp_destination_recipient_limit").stdout, "50\n")
        self.assertEqual(self.conf("-dh", "relayhost").stdout, "\n")
        # forward_path's $home is local's, not main.cf's: -x leaves it alone.
        self.assertEqual(self.conf("-xh", "forward_path").stdout,
                         "$home/.forward${recipient_delimiter}${extension}, $home/.forward\n")
        self.assertEqual(self.conf("-n", "myorigin", "relayhost").stdout,
                         "relayhost = [smtp.example.net]:587\n")

    def test_unknown_name_on_command_line(self):
        proc = self.conf("no_such_parameter", "mail_name")
        # postconf warns and goes on, with exit status 0.
        self.assertEqual(proc.returncode, 0)
        self.assertIn("warning: no_such_parameter: unknown parameter", proc.stderr)
        self.assertEqual(proc.stdout, "mail_name = surel\n")

    def test_mail_config_environment(self):
        env = dict(os.environ, MAIL_CONFIG=self.dir)
        proc = run([binary("surel"), "conf", "-h", "relayhost", "config_directory"], env=env)
        self.assertEqual(proc.stdout, "[smtp.example.net]:587\n%s\n" % self.dir)
        # -c wins over MAIL_CONFIG.
        other = tempfile.mkdtemp(prefix="surel-conf-other-")
        try:
            with open(os.path.join(other, "main.cf"), "w") as f:
                f.write("relayhost = other\n")
            proc = run([binary("surel"), "-c", other, "conf", "-h", "relayhost"], env=env)
            self.assertEqual(proc.stdout, "other\n")
        finally:
            shutil.rmtree(other)

    def test_missing_main_cf_is_an_error(self):
        os.unlink(self.main_cf)
        proc = self.conf("relayhost", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("fatal: open %s" % self.main_cf, proc.stderr)
        # -d needs no main.cf.
        self.assertEqual(self.conf("-dh", "mail_name").stdout, "surel\n")

    def test_bad_main_cf_names_line(self):
        with open(self.main_cf, "a") as f:
            f.write("\nthis line has no equals sign\n")
        proc = self.conf("-n", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("%s: line 17: missing '='" % self.main_cf, proc.stderr)

    # Editing ---------------------------------------------------------------

    def test_edit_replaces_logical_line_keeps_comments(self):
        os.chmod(self.main_cf, 0o640)
        self.conf("mydestination=localhost", "relayhost = [new.example]:25")
        expected = MAIN_CF.replace(
            "mydestination = $myhostname,\n    localhost.$mydomain\n"
            "  # a comment inside the logical line\n    localhost\n",
            "mydestination = localhost\n  # a comment inside the logical line\n").replace(
            "relayhost = [smtp.example.net]:587", "relayhost = [new.example]:25")
        self.assertEqual(self.read_main(), expected)
        self.assertEqual(stat.S_IMODE(os.stat(self.main_cf).st_mode), 0o640)
        self.assertEqual(self.conf("-h", "relayhost").stdout, "[new.example]:25\n")
        # No temp files are left beside main.cf.
        self.assertEqual(sorted(os.listdir(self.dir)), ["main.cf", "master.cf"])

    def test_edit_appends_new_names_sorted(self):
        self.conf("-e", "zz_new=2", "aa_new = 1")
        text = self.read_main()
        self.assertTrue(text.startswith(MAIN_CF))
        # The old last line had no newline; one is added before appending.
        self.assertEqual(text[len(MAIN_CF):], "\naa_new = 1\nzz_new = 2\n")

    def test_edit_every_definition_of_a_name(self):
        with open(self.main_cf, "a") as f:
            f.write("\nrelayhost = second\n")
        proc = self.conf("relayhost=only")
        self.assertIn("multiple entries for \"relayhost\"", proc.stderr)
        text = self.read_main()
        self.assertEqual(text.count("relayhost = only\n"), 2)
        self.assertNotIn("second", text)
        self.assertIn("# relayhost = [commented.example]\n", text)

    def test_remove_with_X(self):
        self.conf("-X", "mydestination", "trailing", "not_there")
        text = self.read_main()
        self.assertNotIn("mydestination", text)
        self.assertNotIn("localhost.$mydomain", text)
        self.assertNotIn("trailing", text)
        self.assertIn("  # a comment inside the logical line\n", text)
        self.assertIn("#   An indented comment.\n", text)
        expected = MAIN_CF.replace(
            "mydestination = $myhostname,\n    localhost.$mydomain\n", "").replace(
            "    localhost\n", "").replace("trailing = no newline at end", "")
        self.assertEqual(text, expected)

    def test_edit_errors_leave_file_alone(self):
        for args in (["bad name=1"], ["=1"], ["-X", "a=b"], ["x=1\ny=2"], ["x=1", "plain"]):
            proc = self.conf(*args, check=False)
            self.assertEqual(proc.returncode, 1, args)
            self.assertIn("fatal:", proc.stderr)
            self.assertEqual(self.read_main(), MAIN_CF, args)

    def test_edit_creates_missing_main_cf(self):
        os.unlink(self.main_cf)
        self.conf("relayhost=x")
        self.assertEqual(self.read_main(), "relayhost = x\n")

    def test_edit_is_an_atomic_rename(self):
        # The edit is a rename over main.cf: a reader that opened the old
        # file keeps reading the old text.
        with open(self.main_cf) as old:
            self.conf("relayhost=changed")
            self.assertEqual(old.read(), MAIN_CF)
        self.assertIn("relayhost = changed\n", self.read_main())

    # master.cf ---------------------------------------------------------------

    def test_M_prints_normalized_entries(self):
        out = self.conf("-M").stdout
        self.assertEqual(out,
                         "smtp inet n y n 0 100 smtpd -o { smtpd_banner=hello there }\n"
                         "relay unix y y n 0 100 smtp\n"
                         "qmgr unix n y n 300? 1 qmgr\n")
        self.assertEqual(self.conf("-M", "qmgr/unix", "relay").stdout,
                         "relay unix y y n 0 100 smtp\nqmgr unix n y n 300? 1 qmgr\n")
        self.assertEqual(self.conf("-M", "qmgr/inet").stdout, "")
        self.conf("default_process_limit=7")
        self.assertIn("relay unix y y n 0 7 smtp\n", self.conf("-M").stdout)


if __name__ == "__main__":
    unittest.main()
