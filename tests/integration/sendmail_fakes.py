#!/usr/bin/env python3
"""sendmail_fakes - a stand-in cleanup daemon for the sendmail/pickup tests.

While the real cleanup is not in the build (it is written in parallel),
test_sendmail.py runs this program as the `cleanup` service of a sandbox
instance (an absolute path in master.cf). It speaks the master protocol
(lib/master_proto.h: status pipe on fd 3, listener on fd 4) and the cleanup
protocol of lib/mail_proto.h exactly, and instead of a queue file it writes
what it received to INSTANCE/fake-cleanup/<queue_id>.json:
    {"flags": N, "records": [[type, text], ...]}
Each record's data is decoded as latin-1 so that any byte survives.
It answers status 0 ("queued") to every complete submission.
"""
import json
import os
import socket
import struct
import sys
import time

STATUS_FD = 3
LISTEN_FD = 4
STAT_BUSY, STAT_IDLE = 0, 1


def read_attrs(f):
    """One attribute list: {name: value}; None at a clean EOF."""
    attrs = {}
    while True:
        name = read_until_nul(f)
        if name is None:
            return None
        if name == b"":
            return attrs
        value = read_until_nul(f)
        if value is None:
            return None
        attrs[name.decode()] = value.decode()


def read_until_nul(f):
    out = bytearray()
    while True:
        ch = f.read(1)
        if not ch:
            return None
        if ch == b"\0":
            return bytes(out)
        out += ch


def send_attrs(sock, **attrs):
    data = b"".join(k.encode() + b"\0" + str(v).encode() + b"\0" for k, v in attrs.items())
    sock.sendall(data + b"\0")


def read_record(f):
    """(type, data) of one record, or None at EOF."""
    t = f.read(1)
    if not t:
        return None
    length, shift = 0, 0
    while True:
        b = f.read(1)
        if not b:
            return None
        length |= (b[0] & 0x7F) << shift
        shift += 7
        if not b[0] & 0x80:
            break
    data = f.read(length)
    if len(data) != length:
        return None
    return chr(t[0]), data


def serve(conn, outdir, counter):
    f = conn.makefile("rb")
    req = read_attrs(f)
    if req is None:
        return
    queue_id = "FAKE%d%06d" % (os.getpid(), counter)
    send_attrs(conn, queue_id=queue_id)
    records = []
    while True:
        rec = read_record(f)
        if rec is None:
            return                      # client went away: nothing queued
        records.append([rec[0], rec[1].decode("latin-1")])
        if rec[0] == "E":
            break
    tmp = os.path.join(outdir, "." + queue_id)
    with open(tmp, "w") as out:
        json.dump({"flags": int(req.get("flags", "0")), "records": records}, out)
    os.rename(tmp, os.path.join(outdir, queue_id + ".json"))
    send_attrs(conn, status=0, reason="")


def main():
    args = sys.argv[1:]
    config = args[args.index("-c") + 1]
    gen = int(args[args.index("-g") + 1]) if "-g" in args else 0
    outdir = os.path.join(os.path.dirname(os.path.abspath(config)), "fake-cleanup")
    os.makedirs(outdir, exist_ok=True)
    os.chmod(outdir, 0o755)
    listener = socket.socket(fileno=LISTEN_FD)
    listener.setblocking(True)
    counter = 0
    last = time.monotonic()
    while time.monotonic() - last < 60:
        listener.settimeout(5)
        try:
            conn, _ = listener.accept()
        except (socket.timeout, BlockingIOError):
            continue
        last = time.monotonic()
        os.write(STATUS_FD, struct.pack("iIi", os.getpid(), gen, STAT_BUSY))
        conn.settimeout(30)
        counter += 1
        try:
            serve(conn, outdir, counter)
        except OSError:
            pass
        finally:
            conn.close()
        os.write(STATUS_FD, struct.pack("iIi", os.getpid(), gen, STAT_IDLE))


if __name__ == "__main__":
    main()
