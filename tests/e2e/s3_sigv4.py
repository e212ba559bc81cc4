#!/usr/bin/env python3
"""s3_sigv4.py: an AWS Signature V4 check in front of an S3 emulator, for t_artifacts.sh.

s3rver checks the access key id of a SigV4 request but not its signature, so a wrong secret
would pass. This proxy, on 127.0.0.1 (port written to PORTFILE), recomputes each request's
signature as S3 does (canonical request, string to sign, the key derived from SECRET for
the date, region and service of the credential scope) and answers 403
SignatureDoesNotMatch when it differs; it also checks a hex x-amz-content-sha256 against
the body (400 XAmzContentSHA256Mismatch) and a request date within 15 minutes (403
RequestTimeTooSkewed). Good requests go on to UPSTREAM (host:port) unchanged.
Usage: s3_sigv4.py PORTFILE UPSTREAM_PORT ACCESS_KEY SECRET [--seconds N]
"""
import argparse
import datetime
import hashlib
import hmac
import http.client
import http.server
import os
import signal
import threading
import urllib.parse


def error(handler, status, code, message):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/xml")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def uri_encode(s, keep_slash):
    safe = "-_.~" + ("/" if keep_slash else "")
    return urllib.parse.quote(s, safe=safe)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("portfile")
    ap.add_argument("upstream", type=int)
    ap.add_argument("access_key")
    ap.add_argument("secret")
    ap.add_argument("--seconds", type=int, default=300)
    args = ap.parse_args()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def check(self, body):
            auth = self.headers.get("Authorization", "")
            if not auth:
                return None  # anonymous: the emulator decides
            if not auth.startswith("AWS4-HMAC-SHA256 "):
                return (400, "InvalidRequest", "not a SigV4 Authorization")
            fields = {}
            for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
                k, _, v = part.strip().partition("=")
                fields[k] = v
            try:
                cred = fields["Credential"].split("/")
                key_id, date, region, service, term = cred
                signed = fields["SignedHeaders"].split(";")
                sig = fields["Signature"]
            except (KeyError, ValueError):
                return (400, "AuthorizationHeaderMalformed", "bad Authorization fields")
            if key_id != args.access_key:
                return (403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
            amz_date = self.headers.get("x-amz-date", "")
            try:
                when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
            except ValueError:
                return (403, "AccessDenied", "no valid x-amz-date")
            if abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) > 900:
                return (403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
            payload = self.headers.get("x-amz-content-sha256", "")
            if "x-amz-content-sha256" not in signed or not payload:
                return (400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
            if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
                return (400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
            url = urllib.parse.urlsplit(self.path)
            query = sorted(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            canon_query = "&".join(f"{uri_encode(k, False)}={uri_encode(v, False)}" for k, v in query)
            canon_headers = ""
            for h in signed:
                v = self.headers.get(h)
                if v is None:
                    return (403, "AccessDenied", f"signed header {h} is missing")
                canon_headers += f"{h}:{' '.join(v.strip().split())}\n"
            canonical = "\n".join([self.command, uri_encode(urllib.parse.unquote(url.path), True), canon_query,
                                   canon_headers, ";".join(signed), payload])
            scope = f"{date}/{region}/{service}/{term}"
            to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
            k = ("AWS4" + args.secret).encode()
            for part in (date, region, service, term):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            want = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(want, sig):
                return (403, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you provided. "
                        "Check your key and signing method.")
            return None

        def relay(self):
            n = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(n) if n else b""
            bad = self.check(body)
            if bad:
                return error(self, *bad)
            conn = http.client.HTTPConnection("127.0.0.1", args.upstream, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("expect", "connection")}
            conn.request(self.command, self.path, body=body if n else None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data) if self.command != "HEAD" else resp.getheader("Content-Length", "0")))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = relay

    class S(http.server.ThreadingHTTPServer):
        daemon_threads = True

    srv = S(("127.0.0.1", 0), H)
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
