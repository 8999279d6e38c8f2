"""test_harness_attr - the test harness's one attribute-list codec
(harness/attr.py) against the wire format of lib/util/attr.c: every test
that speaks a daemon's protocol relies on it."""
import io
import socket
import unittest

from harness import attr


class AttrCodecTest(unittest.TestCase):
    def test_encode_is_the_wire_format(self):
        self.assertEqual(attr.encode([("status", 0), ("reason", "ok")]),
                         b"status\x000\x00reason\x00ok\x00\x00")
        self.assertEqual(attr.encode({"flags": 5}), b"flags\x005\x00\x00")
        self.assertEqual(attr.encode([]), b"\x00")

    def test_encode_refuses_what_the_reader_cannot_hold(self):
        for pairs in ([("", "x")], [("a\0b", "x")], [("a", "x\0y")]):
            with self.assertRaises(ValueError, msg=repr(pairs)):
                attr.encode(pairs)

    def test_decode_round_trip_and_rest(self):
        pairs = [("a", "1"), ("b", ""), ("c", "é")]
        got, rest = attr.decode(attr.encode(pairs) + b"more")
        self.assertEqual((got, rest), (pairs, b"more"))
        for partial in (b"", b"a\x00", b"a\x001\x00"):
            with self.assertRaises(ValueError, msg=repr(partial)):
                attr.decode(partial)

    def test_reader_on_a_socket_reads_list_by_list(self):
        a, b = socket.socketpair()
        with a, b:
            a.sendall(attr.encode([("x", 1)]) + attr.encode([("y", 2), ("z", 3)]))
            a.shutdown(socket.SHUT_WR)
            reader = attr.AttrReader(b, "peer")
            self.assertEqual(reader.read(), {"x": "1"})
            self.assertEqual(reader.read_pairs(), [("y", "2"), ("z", "3")])
            with self.assertRaisesRegex(ConnectionError, "peer hung up"):
                reader.read()

    def test_reader_on_a_file_leaves_what_follows(self):
        f = io.BytesIO(attr.encode([("queue_id", "ABC")]) + b"S\x05alice")
        self.assertEqual(attr.AttrReader(f).read(), {"queue_id": "ABC"})
        self.assertEqual(f.read(), b"S\x05alice")


if __name__ == "__main__":
    unittest.main()
