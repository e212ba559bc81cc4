#!/usr/bin/env python3
"""A webhook receiver for the e2e tests, on 127.0.0.1 and a free port.

hook_receiver.py MODE PORTFILE LOGFILE
  MODE ok: answer 200; fail: answer 500; hang: read the request, then answer nothing for
  60 s (a dead receiver); ctl: as the word in LOGFILE.mode says at each request (ok or
  fail; fail while there is no such file). Each request is appended to LOGFILE as one JSON line: the time it
  came in, the path, the headers and the body (base64), before it is answered. The port is
  written to PORTFILE once listening. Runs until killed (the test kills it)."""
import base64
import http.server
import json
import os
import sys
import threading
import time

MODE, PORTFILE, LOGFILE = sys.argv[1], sys.argv[2], sys.argv[3]
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        rec = {
            "t": time.time(),
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": base64.b64encode(body).decode(),
        }
        with lock:
            with open(LOGFILE, "a") as f:
                f.write(json.dumps(rec) + "\n")
        mode = MODE
        if mode == "ctl":
            try:
                with open(LOGFILE + ".mode") as f:
                    mode = f.read().strip()
            except FileNotFoundError:
                mode = "fail"
        if mode == "hang":
            time.sleep(60)
            return
        code = 200 if mode == "ok" else 500
        out = b'{"ok":true}' if code == 200 else b'{"error":"receiver failing on purpose"}'
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
tmp = PORTFILE + ".tmp"
with open(tmp, "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(tmp, PORTFILE)
srv.serve_forever()
