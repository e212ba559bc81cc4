#!/usr/bin/env python3
"""serve_watch.py: change-to-watcher latency of bench/b_serve.sh, for bootmeta serve and etcd
in the same run, with the same client code (raw sockets, HTTP/1.1 keep-alive):

  serve_watch.py SERVE_URL ETCD_URL RELEASE N

One watcher each, opened first: serve's SSE stream (GET /v1/watch?prefix=..., Accept:
text/event-stream) and etcd's watch over its gRPC gateway (POST /v3/watch, a streamed JSON
answer). Then N rounds, each one change to serve (promote) and one to etcd (put), in turn:
the clock starts just before the write request is sent and stops when its event has been
read off the watcher's stream (then the write's own answer is read, and must name the same
commit / revision as the event). Prints per system: p50, p99, max of change->event and of the
write's own answer, in microseconds."""
import base64
import json
import socket
import sys
import time
from urllib.parse import urlparse


def b64(s):
    return base64.b64encode(s.encode()).decode()


class Conn:
    """One HTTP/1.1 connection; reads answers with Content-Length or chunked bodies."""

    def __init__(self, url):
        u = urlparse(url)
        self.host = "%s:%d" % (u.hostname, u.port)
        self.s = socket.create_connection((u.hostname, u.port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, method, path, body=b"", headers=()):
        h = "%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, path, self.host)
        for k, v in headers:
            h += "%s: %s\r\n" % (k, v)
        if body or method == "POST":
            h += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        self.s.sendall(h.encode() + b"\r\n" + body)

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("connection closed by %s" % self.host)
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def head(self):
        status = int(self._line().split()[1])
        hdrs = {}
        while True:
            line = self._line()
            if not line:
                break
            k, v = line.decode().split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        self.chunked = hdrs.get("transfer-encoding", "").lower() == "chunked"
        self.clen = int(hdrs.get("content-length", "-1"))
        return status, hdrs

    def chunk(self):
        """The next chunk of a chunked body (b"" at its end)."""
        n = int(self._line().split(b";")[0], 16)
        d = self._take(n)
        self._line()
        return d

    def body(self):
        if self.chunked:
            out = b""
            while True:
                c = self.chunk()
                if not c:
                    self._line()  # the empty trailer
                    return out
                out += c
        return self._take(self.clen)


class Stream:
    """A streamed answer (chunked), split into records by `sep`."""

    def __init__(self, conn, sep):
        self.c, self.sep, self.pending = conn, sep, b""

    def next(self):
        while self.sep not in self.pending:
            c = self.c.chunk() if self.c.chunked else self.c.s.recv(65536)
            if not c:
                raise EOFError("watch stream ended")
            self.pending += c
        rec, self.pending = self.pending.split(self.sep, 1)
        return rec


def sse_event(stream):
    """The next SSE event: (event, id, data)."""
    ev, eid, data = "message", None, ""
    for line in stream.next().decode().split("\n"):
        if line.startswith("event: "):
            ev = line[7:]
        elif line.startswith("id: "):
            eid = line[4:]
        elif line.startswith("data: "):
            data += line[6:]
    return ev, eid, data


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]


def main():
    surl, eurl, release, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    prefix = "projects/bench/app/channels/watch/"

    # serve: the SSE watcher, and the writer
    sw = Conn(surl)
    sw.send("GET", "/v1/watch?prefix=" + prefix, headers=[("Accept", "text/event-stream")])
    st, _ = sw.head()
    if st != 200:
        sys.exit("serve watch: HTTP %d" % st)
    sstream = Stream(sw, b"\n\n")
    while sse_event(sstream)[0] != "ready":
        pass
    swr = Conn(surl)
    sbody = json.dumps({"release": release}).encode()

    # etcd: the watch stream (created once it says so), and the writer
    key = "bench/watch"
    ew = Conn(eurl)
    ew.send("POST", "/v3/watch", json.dumps({"create_request": {"key": b64(key)}}).encode())
    st, _ = ew.head()
    if st != 200:
        sys.exit("etcd watch: HTTP %d" % st)
    estream = Stream(ew, b"\n")
    first = json.loads(estream.next())
    if not first.get("result", {}).get("created"):
        sys.exit("etcd watch not created: %r" % first)
    ewr = Conn(eurl)

    lat = {"serve": [], "etcd": []}
    ack = {"serve": [], "etcd": []}
    for i in range(n):
        # serve
        t0 = time.perf_counter_ns()
        swr.send("POST", "/v1/projects/bench/app/channels/watch/promote", sbody)
        while True:
            ev, eid, data = sse_event(sstream)
            if ev == "commit":
                break
        t1 = time.perf_counter_ns()
        st, _ = swr.head()
        ans = json.loads(swr.body())
        t2 = time.perf_counter_ns()
        if st != 200 or ans.get("metaCommit") != eid:
            sys.exit("serve: write answer %d %r, event %s" % (st, ans, eid))
        lat["serve"].append((t1 - t0) / 1000.0)
        ack["serve"].append((t2 - t0) / 1000.0)

        # etcd
        val = json.dumps({"release": release, "n": i})
        t0 = time.perf_counter_ns()
        ewr.send("POST", "/v3/kv/put", json.dumps({"key": b64(key), "value": b64(val)}).encode())
        while True:
            msg = json.loads(estream.next())
            if msg.get("result", {}).get("events"):
                break
        t1 = time.perf_counter_ns()
        st, _ = ewr.head()
        ans = json.loads(ewr.body())
        t2 = time.perf_counter_ns()
        evrev = msg["result"]["events"][0]["kv"]["mod_revision"]
        if st != 200 or ans.get("header", {}).get("revision") != evrev:
            sys.exit("etcd: put answer %d %r, event revision %s" % (st, ans, evrev))
        lat["etcd"].append((t1 - t0) / 1000.0)
        ack["etcd"].append((t2 - t0) / 1000.0)

    for name in ("serve", "etcd"):
        print("watch %s n=%d event_p50_us=%.0f event_p99_us=%.0f event_max_us=%.0f ack_p50_us=%.0f ack_p99_us=%.0f"
              % (name, n, pct(lat[name], 50), pct(lat[name], 99), max(lat[name]),
                 pct(ack[name], 50), pct(ack[name], 99)))


if __name__ == "__main__":
    main()
