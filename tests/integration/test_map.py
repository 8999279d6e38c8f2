"""test_map - `surel map build/query` on temporary files, as postmap is used.

The databases are checked with Debian's lmdb-utils (mdb_stat, mdb_dump) to
prove they are real LMDB files, not something only surel can read.
"""
import os
import pwd
import shutil
import subprocess
import tempfile
import unittest

from harness.core import run, surel

MDB_DUMP = shutil.which("mdb_dump")
MDB_STAT = shutil.which("mdb_stat")


class MapTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="surel-map-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def query(self, table, key, **kw):
        return surel("map", "query", table, key, check=False, **kw)

    def test_build_and_query(self):
        src = self.write("transport", "# transports\nExample.COM  smtp:[mx.example.com]\n"
                         "other.org\tlmtp:unix:/run/lmtp\n  extra\n")
        surel("map", "build", "lmdb:" + src)
        self.assertTrue(os.path.isfile(src + ".lmdb"))
        found = self.query("lmdb:" + src, "example.com")
        self.assertEqual(found.returncode, 0, found.stderr)
        self.assertEqual(found.stdout, "smtp:[mx.example.com]\n")
        folded = self.query("lmdb:" + src, "EXAMPLE.com")
        self.assertEqual(folded.stdout, "smtp:[mx.example.com]\n")
        cont = self.query("lmdb:" + src, "other.org")
        self.assertEqual(cont.stdout, "lmtp:unix:/run/lmtp  extra\n")
        missing = self.query("lmdb:" + src, "nowhere.net")
        self.assertEqual(missing.returncode, 1)
        self.assertEqual(missing.stdout, "")

    def test_bare_file_means_lmdb(self):
        src = self.write("bare", "k v\n")
        empty_conf = os.path.join(self.dir, "noconf")
        os.mkdir(empty_conf)            # no main.cf: the built-in default
        surel("map", "build", src, config=empty_conf)
        self.assertTrue(os.path.isfile(src + ".lmdb"))
        self.assertEqual(self.query(src, "k", config=empty_conf).stdout, "v\n")

    def test_bare_file_uses_default_database_type(self):
        conf = os.path.join(self.dir, "etc")
        os.mkdir(conf)
        self.write("etc/main.cf", "default_database_type = texthash\n")
        src = self.write("plain", "Key value\n")
        # texthash needs no build: the query reads the text file itself.
        q = self.query(src, "key", config=conf)
        self.assertEqual((q.returncode, q.stdout), (0, "value\n"), q.stderr)
        b = surel("map", "build", src, config=conf, check=False)
        self.assertEqual(b.returncode, 1)
        self.assertIn("\"texthash\" cannot be built", b.stderr)
        self.assertFalse(os.path.exists(src + ".lmdb"))

    @unittest.skipUnless(MDB_DUMP and MDB_STAT, "lmdb-utils not installed")
    def test_output_is_real_lmdb(self):
        src = self.write("real", "beta 2\nalpha 1\nGamma three words\n")
        surel("map", "build", "lmdb:" + src)
        # No lock file and no temporary file beside the database (checked
        # before mdb_stat, which makes a lock file of its own).
        self.assertEqual(sorted(os.listdir(self.dir)), ["real", "real.lmdb"])
        stat = run([MDB_STAT, "-n", src + ".lmdb"])
        self.assertIn("Entries: 3", stat.stdout)
        dump = run([MDB_DUMP, "-n", "-p", src + ".lmdb"])
        body = dump.stdout.split("HEADER=END\n", 1)[1].split("DATA=END", 1)[0]
        lines = [line.strip() for line in body.splitlines()]
        self.assertEqual(lines, ["alpha", "1", "beta", "2", "gamma", "three words"])

    def test_hash_and_btree_are_db_files(self):
        # Debian's main.cf names hash: tables; they live in FILE.db.
        src = self.write("virtual", "a@example.test alice\n")
        for kind in ("hash", "btree"):
            surel("map", "build", kind + ":" + src)
            self.assertTrue(os.path.exists(src + ".db"))
            self.assertFalse(os.path.exists(src + ".lmdb"))
            self.assertEqual(self.query(kind + ":" + src, "A@example.test").stdout,
                             "alice\n")
            os.unlink(src + ".db")
        # newaliases' format builds under the hash: name too.
        src = self.write("aliases", "postmaster: root\n")
        surel("map", "build", "-a", "hash:" + src)
        self.assertEqual(self.query("hash:" + src, "postmaster").stdout, "root\n")

    def test_postfix_berkeley_db_file_is_refused_with_the_fix(self):
        # A .db that Postfix built: Berkeley DB's hash magic (0x061561) at
        # offset 12, native byte order; never read as LMDB.
        src = self.write("access", "k v\n")
        with open(src + ".db", "wb") as f:
            f.write(b"\0" * 12 + (0x061561).to_bytes(4, "little") + b"\0" * 4080)
        q = self.query("hash:" + src, "k")
        self.assertEqual(q.returncode, 2)
        self.assertIn("is a Berkeley DB file", q.stderr)
        self.assertIn("surel map build hash:" + src, q.stderr)
        surel("map", "build", "hash:" + src)
        self.assertEqual(self.query("hash:" + src, "k").stdout, "v\n")

    def test_rebuild_replaces_atomically(self):
        src = self.write("t", "k old\n")
        surel("map", "build", "lmdb:" + src)
        before = os.stat(src + ".lmdb").st_ino
        self.write("t", "k new\n")
        surel("map", "build", "lmdb:" + src)
        # A new file was renamed in; the old one was never written to.
        self.assertNotEqual(os.stat(src + ".lmdb").st_ino, before)
        self.assertEqual(self.query("lmdb:" + src, "k").stdout, "new\n")

    def test_duplicates_warn_and_keep_first(self):
        src = self.write("dup", "k first\nk second\n")
        built = surel("map", "build", "lmdb:" + src)
        self.assertIn("line 2: duplicate entry: \"k\"", built.stderr)
        self.assertEqual(self.query("lmdb:" + src, "k").stdout, "first\n")

    def test_aliases(self):
        src = self.write("aliases", "Postmaster: root\nstaff: alice,\n\tbob\nbroken\n")
        built = surel("map", "build", "-a", "lmdb:" + src)
        self.assertIn("line 4: need name:value pair", built.stderr)
        self.assertEqual(self.query("lmdb:" + src, "postmaster").stdout, "root\n")
        self.assertEqual(self.query("lmdb:" + src, "staff").stdout, "alice,\tbob\n")

    def test_errors(self):
        absent = os.path.join(self.dir, "absent")
        q = self.query("lmdb:" + absent, "k")
        self.assertEqual(q.returncode, 2)
        self.assertIn("does not exist; run surel map build lmdb:" + absent, q.stderr)
        b = surel("map", "build", "lmdb:" + absent, check=False)
        self.assertEqual(b.returncode, 1)
        self.assertFalse(os.path.exists(absent + ".lmdb"))
        q = self.query("cdb:" + absent, "k")
        self.assertEqual(q.returncode, 2)
        self.assertIn("unknown table type \"cdb\"", q.stderr)
        pcre = self.write("p", "/x/ y\n")
        b = surel("map", "build", "pcre:" + pcre, check=False)
        self.assertEqual(b.returncode, 1)
        self.assertIn("cannot be built", b.stderr)
        self.assertEqual(surel("map", check=False).returncode, 2)
        self.assertEqual(surel("map", "frob", check=False).returncode, 2)
        self.assertEqual(surel("map", "query", "static:x", check=False).returncode, 2)

    def test_other_types(self):
        pcre = self.write("checks", "/^(.*)@example\\.com$/ user $1\n")
        self.assertEqual(self.query("pcre:" + pcre, "Joe@Example.com").stdout, "user Joe\n")
        th = self.write("th", "Key value\n")
        self.assertEqual(self.query("texthash:" + th, "KEY").stdout, "value\n")
        self.assertEqual(self.query("inline:{a=1, b=2}", "b").stdout, "2\n")
        self.assertEqual(self.query("static:{ any thing }", "x").stdout, "any thing\n")
        self.assertTrue(self.query("unix:passwd.byname", "root").stdout.startswith("root:"))

    def test_query_keys_from_stdin(self):
        src = self.write("many", "a 1\nb 2\n")
        surel("map", "build", "lmdb:" + src)
        q = self.query("lmdb:" + src, "-", input="a\nzz\nB\n")
        self.assertEqual(q.returncode, 0)
        self.assertEqual(q.stdout, "a\t1\nB\t2\n")
        q = self.query("lmdb:" + src, "-", input="zz\n")
        self.assertEqual(q.returncode, 1)

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_root_build_gives_database_to_source_owner(self):
        owner = pwd.getpwnam("surel")
        src = self.write("owned", "k v\n")
        os.chown(src, owner.pw_uid, owner.pw_gid)
        surel("map", "build", "lmdb:" + src)
        st = os.stat(src + ".lmdb")
        self.assertEqual((st.st_uid, st.st_gid), (owner.pw_uid, owner.pw_gid))


if __name__ == "__main__":
    unittest.main()
