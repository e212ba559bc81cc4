#!/usr/bin/env python3
"""serve_load.py URL SECONDS CLIENTS CHANNELS RELEASE OUT: CLIENTS threads, each with its
own keep-alive connection, promote RELEASE to channels load-0..load-(CHANNELS-1) of
acme/server for up to SECONDS (or until the server goes away), each write with a unique
reason. Every acknowledged write (HTTP 200) is appended to OUT as one line:
"channel seq reason metaCommit". Used by t_serve_crash.sh, which kills serve mid-run."""
import http.client
import json
import sys
import threading
import time
import urllib.parse

url, seconds, clients, channels, release, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
u = urllib.parse.urlparse(url)
lock = threading.Lock()
outf = open(out, "a")
deadline = time.monotonic() + seconds


def client(k):
    n = 0
    conn = None
    while time.monotonic() < deadline:
        ch = "load-%d" % ((k + n) % channels)
        reason = "c%d-%d" % (k, n)
        n += 1
        body = json.dumps({"release": release, "reason": reason})
        try:
            if conn is None:
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            conn.request("POST", "/v1/projects/acme/server/channels/%s/promote" % ch, body,
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            return  # the server went away: what was acknowledged is recorded
        if r.status == 200:
            a = json.loads(data)
            with lock:
                # at once: the test kills serve at any moment and reads what was acknowledged
                outf.write("%s %s %s %s\n" % (ch, a["seq"], reason, a["metaCommit"]))
                outf.flush()
        elif r.status != 503:
            sys.stderr.write("unexpected %d: %s\n" % (r.status, data[:200]))


threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
outf.close()
