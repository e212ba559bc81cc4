#!/usr/bin/env python3
"""serve_abuse.py MODE URL [ARGS]: clients that misbehave, for t_serve_abuse.sh.
  idle URL N       open N connections that send nothing; print how many are open after
                   the serve answered a request on a new one meanwhile ("open=N ok=1")
  loris URL        send a request's headers one byte per 0.5 s; print "closed" when serve
                   closes the connection (its --conn-timeout), "open" if still open at 20 s
  noread URL PATH  open an event stream with a tiny receive buffer and never read it; hold
                   it for ARGS[0] seconds"""
import resource
import socket
import sys
import time
import urllib.parse
import urllib.request

mode, url = sys.argv[1], sys.argv[2]
u = urllib.parse.urlparse(url)
addr = (u.hostname, u.port)

if mode == "idle":
    n = int(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = []
    for i in range(n):
        s = socket.socket()
        s.connect(addr)
        socks.append(s)
    with urllib.request.urlopen(url + "/healthz", timeout=20) as r:
        ok = r.status == 200
    # are they still open? a closed one reads EOF at once
    opened = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                continue
        except BlockingIOError:
            pass
        opened += 1
    print("open=%d ok=%d" % (opened, 1 if ok else 0))
elif mode == "loris":
    s = socket.socket()
    s.connect(addr)
    req = b"GET /v1/head HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    t0 = time.monotonic()
    for b in req:
        try:
            s.send(bytes([b]))
        except OSError:
            print("closed")
            sys.exit(0)
        s.settimeout(0.5)
        try:
            if s.recv(1) == b"":
                print("closed")
                sys.exit(0)
        except socket.timeout:
            pass
        if time.monotonic() - t0 > 20:
            break
    print("open")
elif mode == "noread":
    path, hold = sys.argv[3], float(sys.argv[4])
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(addr)
    s.send(("GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n" % path).encode())
    time.sleep(hold)
    print("held")
