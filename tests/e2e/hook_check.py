#!/usr/bin/env python3
"""hook_check.py LOGFILE SECRETFILE: the requests hook_receiver.py recorded, as one JSON array
on stdout: for each, the time, the delivery and event headers, whether X-Hub-Signature-256 is
the HMAC-SHA256 of the body with the secret (computed here, independently of bootmeta), and
the event body's commit, previous commit, prefix and paths.

hook_check.py sign SECRETFILE BODYFILE: prints "sha256=" + the HMAC of BODYFILE (a GitHub
signature, for the deliveries the test sends to serve)."""
import base64
import hashlib
import hmac
import json
import sys


def secret_of(path):
    b = open(path, "rb").read()
    if b.endswith(b"\n"):
        b = b[:-1]
    if b.endswith(b"\r"):
        b = b[:-1]
    return b


if sys.argv[1] == "sign":
    key = secret_of(sys.argv[2])
    body = open(sys.argv[3], "rb").read()
    print("sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest())
    sys.exit(0)

key = secret_of(sys.argv[2])
out = []
try:
    lines = open(sys.argv[1]).read().splitlines()
except FileNotFoundError:
    lines = []
for line in lines:
    r = json.loads(line)
    body = base64.b64decode(r["body"])
    h = r["headers"]
    want = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    got = h.get("x-hub-signature-256", "")
    item = {
        "t": r["t"],
        "delivery": h.get("x-bootmeta-delivery"),
        "event": h.get("x-bootmeta-event"),
        "contentType": h.get("content-type"),
        "sigok": hmac.compare_digest(want, got),
    }
    try:
        ev = json.loads(body)
        item.update(commit=ev.get("commit"), previous=ev.get("previous"), prefix=ev.get("prefix"),
                    paths=ev.get("paths"), records=sorted((ev.get("records") or {}).keys()))
    except ValueError:
        item["commit"] = None
    out.append(item)
print(json.dumps(out))
