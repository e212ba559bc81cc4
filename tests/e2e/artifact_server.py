#!/usr/bin/env python3
"""artifact_server.py: an artifact server that misbehaves on purpose, for t_artifacts.sh.

Serves the files of DIR on 127.0.0.1 (the port is written to PORTFILE once it listens;
--port asks for one). GET /MODE/NAME answers with the bytes of DIR/NAME as MODE says:
  ok     as a plain server does (Range honoured: 206 with Content-Range)
  cut    a request without Range gets the full Content-Length but only the first half of
         the bytes, then the connection is cut; a Range request gets the rest (resume)
  norange  the first request is cut the same way; later ones, Range or not, get 200 and
         the whole body (a server without byte ranges)
  more   64 KiB more bytes than the file has, Content-Length included
  slow   one byte a second
  wrong  as many bytes as the file has, the first one changed
  as     as the mode named in the file DIR/.mode says (ok when there is none): a test
         switches a running server between modes without changing the URL
Each request is logged on stdout as "MODE NAME range=VALUE". Stops on SIGTERM, or after
--seconds (default 300) whatever happens.
"""
import argparse
import http.server
import os
import signal
import socket
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("portfile")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--seconds", type=int, default=300)
    args = ap.parse_args()
    root = os.path.abspath(args.dir)
    seen = {}
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_HEAD(self):
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            parts = self.path.strip("/").split("/")
            if len(parts) < 2:
                return self.fail(404)
            mode, name = parts[0], parts[-1]
            if mode == "as":
                try:
                    with open(os.path.join(root, ".mode")) as f:
                        mode = f.read().strip() or "ok"
                except OSError:
                    mode = "ok"
            path = os.path.join(root, os.path.basename(name))
            rng = self.headers.get("Range", "")
            print(f"{mode} {name} range={rng}", flush=True)
            with lock:
                seen[name] = seen.get(name, 0) + 1
            if not os.path.isfile(path):
                return self.fail(404)
            with open(path, "rb") as f:
                data = f.read()
            size = len(data)
            start = 0
            if rng.startswith("bytes=") and rng.endswith("-") and mode in ("ok", "cut"):
                start = int(rng[6:-1])
            if mode == "more":
                body = data + b"X" * 65536
                self.head(200, len(body))
                self.wfile.write(body)
            elif mode == "wrong":
                body = bytes([data[0] ^ 0xFF]) + data[1:]
                self.head(200, size)
                self.wfile.write(body)
            elif mode == "slow":
                self.head(200, size)
                for i in range(size):
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    time.sleep(1)
            elif mode == "norange" and seen.get(name, 0) > 1:
                self.head(200, size)
                self.wfile.write(data)
            elif mode in ("cut", "norange") and start == 0:
                self.head(200, size)
                self.wfile.write(data[: size // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
            elif start:
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
                self.send_header("Content-Length", str(size - start))
                self.end_headers()
                self.wfile.write(data[start:])
            else:
                self.head(200, size)
                self.wfile.write(data)

        def head(self, status, length):
            self.send_response(status)
            self.send_header("Content-Length", str(length))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()

        def fail(self, status):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    class S(http.server.ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

        def handle_error(self, request, client_address):
            pass  # a client that hangs up on a bad server is the point

    srv = S(("127.0.0.1", args.port), H)
    tmp = args.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.portfile)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    t = threading.Timer(args.seconds, lambda: os._exit(0))
    t.daemon = True
    t.start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
