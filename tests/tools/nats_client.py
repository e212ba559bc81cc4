#!/usr/bin/env python3
"""nats_client.py: a small NATS client for the e2e tests of `bootmeta serve --nats`, written on
the raw NATS text protocol (INFO/CONNECT/PING/PONG/SUB/HPUB/MSG/HMSG), so the tests check serve
against nats-server with a client that shares no code with serve's (nats.c).

  sub --url U [--ready F] [--count N] [--timeout S] SUBJECT...
        one JSON line per message: {"subject","headers","data","t"} (t: time.time() at arrival)
  req --url U [-H 'K: V']... [--timeout S] SUBJECT BODY
        the reply as one JSON line {"status","headers","data"}; exit 2 on no reply
  replay --url U --stream S --subject SUBJ --from COMMIT [--idle S]
        JetStream: find the message of COMMIT (header Bootmeta-Commit) in the stream, then
        replay what came after it through a consumer starting at the next sequence
  latency --url U --http URL --project P --channel C --release R [--n N]
        N promotes over HTTP, each timed from just before the request to the arrival of its
        bootmeta.commit event (and to the HTTP answer, for comparison): percentiles in ms
"""
import argparse
import base64
import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.parse


class Nats:
    def __init__(self, url, timeout=10.0):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 4222), timeout=timeout)
        self.buf = b""
        self.pending = []  # messages read while waiting for a reply
        self.sid = 0
        self.inbox_n = 0
        line = self._line()
        if not line.startswith(b"INFO "):
            raise RuntimeError("no INFO from the server: %r" % line)
        self.info = json.loads(line[5:])
        connect = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True,
                   "protocol": 1, "name": "bootmeta-test", "lang": "python-raw", "version": "0"}
        self._send(b"CONNECT " + json.dumps(connect).encode() + b"\r\nPING\r\n")
        while True:
            line = self._line()
            if line == b"PONG":
                break
            if line.startswith(b"-ERR"):
                raise RuntimeError(line.decode())

    def _send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the server closed the connection")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def inbox(self):
        self.inbox_n += 1
        return "_INBOX.bmtest%d.%d" % (os.getpid(), self.inbox_n)

    def sub(self, subject):
        self.sid += 1
        self._send(("SUB %s %d\r\n" % (subject, self.sid)).encode())
        return self.sid

    def flush(self):
        self._send(b"PING\r\n")
        pending = []
        while True:
            m = self.next_msg()
            if m is None:
                break
            pending.append(m)
        return pending

    def pub(self, subject, data, reply=None, headers=None):
        if isinstance(data, str):
            data = data.encode()
        r = (" " + reply) if reply else ""
        if headers:
            h = "NATS/1.0\r\n" + "".join("%s: %s\r\n" % kv for kv in headers) + "\r\n"
            hb = h.encode()
            self._send(("HPUB %s%s %d %d\r\n" % (subject, r, len(hb), len(hb) + len(data))).encode() + hb + data + b"\r\n")
        else:
            self._send(("PUB %s%s %d\r\n" % (subject, r, len(data))).encode() + data + b"\r\n")

    def next_msg(self):
        """The next message as a dict; None for the PONG of a flush."""
        if self.pending:
            return self.pending.pop(0)
        return self._read_msg()

    def _read_msg(self):
        while True:
            line = self._line()
            if line == b"PING":
                self._send(b"PONG\r\n")
                continue
            if line == b"PONG":
                return None
            if line.startswith(b"+OK") or line.startswith(b"INFO "):
                continue
            if line.startswith(b"-ERR"):
                raise RuntimeError(line.decode())
            parts = line.decode().split()
            if parts[0] == "MSG":
                subject, reply = parts[1], (parts[3] if len(parts) == 5 else None)
                data = self._bytes(int(parts[-1]))
                return {"subject": subject, "sid": int(parts[2]), "reply": reply, "headers": {}, "status": None,
                        "data": data}
            if parts[0] == "HMSG":
                subject, reply = parts[1], (parts[3] if len(parts) == 6 else None)
                hlen, tlen = int(parts[-2]), int(parts[-1])
                raw = self._bytes(tlen)
                hdr, data = raw[:hlen].decode(), raw[hlen:]
                lines = hdr.split("\r\n")
                status = None
                first = lines[0].split(None, 2)
                if len(first) >= 2:
                    status = int(first[1])
                headers = {}
                for h in lines[1:]:
                    if ":" in h:
                        k, v = h.split(":", 1)
                        headers[k.strip()] = v.strip()
                return {"subject": subject, "sid": int(parts[2]), "reply": reply, "headers": headers, "status": status,
                        "data": data}
            raise RuntimeError("unexpected from the server: %r" % line)

    def request(self, subject, data, headers=None, timeout=10.0):
        inbox = self.inbox()
        rsid = self.sub(inbox)
        self.pub(subject, data, reply=inbox, headers=headers)
        self.sock.settimeout(timeout)
        while True:
            m = self._read_msg()
            if m is not None and m["sid"] == rsid:
                return m
            if m is not None:
                self.pending.append(m)


def as_json(m, t=None):
    out = {"subject": m["subject"], "headers": m["headers"], "status": m["status"],
           "data": m["data"].decode("utf-8", "replace")}
    if t is not None:
        out["t"] = t
    return json.dumps(out)


def cmd_sub(a):
    nc = Nats(a.url)
    for s in a.subjects:
        nc.sub(s)
    early = nc.flush()
    got = 0
    for m in early:
        print(as_json(m, time.time()), flush=True)
        got += 1
    if a.ready:
        with open(a.ready + ".tmp", "w") as f:
            f.write("ready\n")
        os.rename(a.ready + ".tmp", a.ready)
    deadline = time.time() + a.timeout
    while got < a.count:
        left = deadline - time.time()
        if left <= 0:
            return 3
        nc.sock.settimeout(left)
        try:
            m = nc.next_msg()
        except socket.timeout:
            return 3
        if m is None:
            continue
        print(as_json(m, time.time()), flush=True)
        got += 1
    return 0


def cmd_req(a):
    nc = Nats(a.url)
    headers = []
    for h in a.header or []:
        k, v = h.split(":", 1)
        headers.append((k.strip(), v.strip()))
    try:
        m = nc.request(a.subject, a.body, headers=headers, timeout=a.timeout)
    except socket.timeout:
        print("no reply in %.1f s" % a.timeout, file=sys.stderr)
        return 2
    print(as_json(m))
    return 0 if m["status"] is None else 2


def js_api(nc, subject, req):
    m = nc.request(subject, json.dumps(req))
    if m["status"] == 503:
        raise RuntimeError("no JetStream (503 no responders) for " + subject)
    return json.loads(m["data"])


def cmd_replay(a):
    nc = Nats(a.url)
    # find the stream sequence of the commit's message: walk the subject's messages
    seq, found = 1, None
    while True:
        r = js_api(nc, "$JS.API.STREAM.MSG.GET." + a.stream, {"seq": seq, "next_by_subj": a.subject})
        if "error" in r:
            break
        msg = r["message"]
        hdrs = base64.b64decode(msg.get("hdrs", "")).decode()
        if ("Bootmeta-Commit: " + getattr(a, "from")) in hdrs:
            found = msg["seq"]
            break
        seq = msg["seq"] + 1
    if found is None:
        print("commit %s is not in stream %s" % (getattr(a, "from"), a.stream), file=sys.stderr)
        return 4
    # replay from the next sequence with an ephemeral push consumer
    deliver = nc.inbox()
    dsid = nc.sub(deliver)
    r = js_api(nc, "$JS.API.CONSUMER.CREATE." + a.stream, {
        "stream_name": a.stream,
        "config": {"deliver_policy": "by_start_sequence", "opt_start_seq": found + 1, "ack_policy": "none",
                   "filter_subject": a.subject, "deliver_subject": deliver, "replay_policy": "instant"}})
    if "error" in r:
        print("consumer: %s" % r["error"], file=sys.stderr)
        return 4
    nc.sock.settimeout(a.idle)
    try:
        while True:
            m = nc.next_msg()
            # (a push consumer's messages keep their subject; they come on the deliver sid)
            if m is None or m["sid"] != dsid:
                continue
            if m["status"] is not None:  # idle heartbeats and flow control
                continue
            print(as_json(m), flush=True)
    except socket.timeout:
        pass
    return 0


def cmd_latency(a):
    nc = Nats(a.url)
    nc.sub("bootmeta.commit")
    nc.flush()
    arrived = {}
    cond = threading.Condition()

    def reader():
        # arrivals are stamped as they come, by a thread of their own (not after the HTTP answer)
        nc.sock.settimeout(None)
        try:
            while True:
                m = nc.next_msg()
                if m is None:
                    continue
                t = time.perf_counter()
                with cond:
                    arrived[json.loads(m["data"])["commit"]] = t
                    cond.notify_all()
        except (OSError, EOFError):
            pass

    threading.Thread(target=reader, daemon=True).start()
    u = urllib.parse.urlparse(a.http)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    lat, ans = [], []
    path = "/v1/projects/%s/channels/%s/promote" % (a.project, a.channel)
    for i in range(a.n):
        t0 = time.perf_counter()
        conn.request("POST", path, body=json.dumps({"release": a.release, "reason": "latency %d" % i}),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        body = json.loads(resp.read())
        t1 = time.perf_counter()
        if resp.status != 200:
            print("promote: %d %s" % (resp.status, body), file=sys.stderr)
            return 1
        commit = body["metaCommit"]
        with cond:
            if not cond.wait_for(lambda: commit in arrived, timeout=10):
                print("no event for %s in 10 s" % commit, file=sys.stderr)
                return 1
            lat.append((arrived[commit] - t0) * 1000.0)
        ans.append((t1 - t0) * 1000.0)

    def pct(v, p):
        v = sorted(v)
        return round(v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))], 3)
    print(json.dumps({"n": len(lat), "event_p50_ms": pct(lat, 50), "event_p90_ms": pct(lat, 90),
                      "event_p99_ms": pct(lat, 99), "event_max_ms": pct(lat, 100),
                      "answer_p50_ms": pct(ans, 50), "answer_p99_ms": pct(ans, 99)}))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp = p.add_subparsers(dest="cmd", required=True)
    s = sp.add_parser("sub")
    s.add_argument("--url", required=True)
    s.add_argument("--ready")
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--timeout", type=float, default=10.0)
    s.add_argument("subjects", nargs="+")
    s = sp.add_parser("req")
    s.add_argument("--url", required=True)
    s.add_argument("-H", "--header", action="append")
    s.add_argument("--timeout", type=float, default=10.0)
    s.add_argument("subject")
    s.add_argument("body")
    s = sp.add_parser("replay")
    s.add_argument("--url", required=True)
    s.add_argument("--stream", required=True)
    s.add_argument("--subject", required=True)
    s.add_argument("--from", required=True)
    s.add_argument("--idle", type=float, default=1.0)
    s = sp.add_parser("latency")
    s.add_argument("--url", required=True)
    s.add_argument("--http", required=True)
    s.add_argument("--project", required=True)
    s.add_argument("--channel", required=True)
    s.add_argument("--release", required=True)
    s.add_argument("--n", type=int, default=50)
    a = p.parse_args()
    return {"sub": cmd_sub, "req": cmd_req, "replay": cmd_replay, "latency": cmd_latency}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
