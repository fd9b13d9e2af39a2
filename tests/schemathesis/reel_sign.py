"""Reel's API signature (README "API signature"), standard library only.

Used by the schemathesis hooks and the seeding step; run as a script it sends one signed
request, which is how a schemathesis finding is reproduced:

    REEL_SERVER=http://127.0.0.1:8080 REEL_APP_KEY=ak_… REEL_APP_SECRET=sk_… \\
      python3 tests/schemathesis/reel_sign.py PUT '/video/upload/upload?upid=x&pseq=1' \\
        --content-type application/octet-stream --data-b64 AAEC [-H 'Content-Range: bytes 0-2/3'] [--curl]

(`--curl` prints the signed request as a curl command instead: exactly those headers, no
Content-Type unless given.)
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

UPLOAD_CONTENT_TYPES = ("application/offset+octet-stream", "application/octet-stream")
HEADER_NAMES = ("X-Reel-App-Key", "X-Reel-Timestamp", "X-Reel-Random", "X-Reel-Signature")


def rfc3986(s: str) -> str:
    """RFC 3986 encoding: only `A-Z a-z 0-9 - . _ ~` stay, space is %20, the rest %XX."""
    return urllib.parse.quote(s, safe="-._~")


def body_hash(content_type, body: bytes) -> str:
    """Hex SHA-256 of the body, or UNSIGNED-PAYLOAD for upload data."""
    essence = (content_type or "").split(";")[0].strip().lower()
    if essence in UPLOAD_CONTENT_TYPES:
        return "UNSIGNED-PAYLOAD"
    return hashlib.sha256(body).hexdigest()


def canonical(method, raw_path, raw_query, content_type, body, app_key, ts, nonce) -> str:
    """`METHOD\\nPATH\\nQUERY\\nBODY_HASH` for a request whose request line is `raw_path?raw_query`.

    The query is decoded as the server decodes it (application/x-www-form-urlencoded: `+` is a
    space), `signature` left out, `app_key`/`timestamp`/`random` added (they go as headers).
    """
    params = urllib.parse.parse_qsl(raw_query or "", keep_blank_values=True)
    params = [(k, v) for k, v in params if k != "signature"]
    params += [("app_key", app_key), ("timestamp", ts), ("random", nonce)]
    # Sorted by encoded name, then encoded value (byte order), as the server does; sorting the
    # joined `name=value` strings differs when one name is a prefix of another followed by a
    # character below `=` (`a` and `a1`, `a` and `a.b`, the empty name).
    query = "&".join(f"{k}={v}" for k, v in sorted((rfc3986(k), rfc3986(v)) for k, v in params))
    return "\n".join([method.upper(), raw_path, query, body_hash(content_type, body)])


def signature_headers(app_key, app_secret, method, raw_path, raw_query, content_type, body):
    """The four X-Reel-* headers, with the current time and a fresh nonce."""
    ts, nonce = str(int(time.time())), secrets.token_hex(16)
    text = canonical(method, raw_path, raw_query, content_type, body, app_key, ts, nonce)
    sig = hmac.new(app_secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    return dict(zip(HEADER_NAMES, (app_key, ts, nonce, sig)))


def send(method, path, body=b"", content_type=None, headers=None, server=None, app_key=None, app_secret=None):
    """One signed request; `path` includes the query as it goes on the wire. Returns (status, text)."""
    server = (server or os.environ.get("REEL_SERVER", "http://127.0.0.1:8080")).rstrip("/")
    app_key = app_key or os.environ["REEL_APP_KEY"]
    app_secret = app_secret or os.environ["REEL_APP_SECRET"]
    url = urllib.parse.urlsplit(path)
    all_headers = dict(headers or {})
    if content_type:
        all_headers["Content-Type"] = content_type
    all_headers.update(signature_headers(app_key, app_secret, method, url.path, url.query, content_type, body))
    data = body if (body or method not in ("GET", "HEAD", "DELETE")) else None
    req = urllib.request.Request(server + path, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def send_json(*args, **kwargs):
    status, text = send(*args, **kwargs)
    try:
        return status, json.loads(text)
    except ValueError:
        return status, {"raw": text}


def main(argv):
    import argparse

    p = argparse.ArgumentParser(description="Send one signed request to Reel ($REEL_SERVER).")
    p.add_argument("method")
    p.add_argument("path", help="path and query as they go on the wire, e.g. '/video/status?vid=1'")
    p.add_argument("--content-type")
    p.add_argument("--data-b64", default="", help="the body, base64")
    p.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    p.add_argument("--curl", action="store_true", help="print a curl command (signed now, usable once) instead of sending")
    a = p.parse_args(argv)
    headers = dict(h.split(":", 1) for h in a.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    if a.curl:
        import shlex

        body = base64.b64decode(a.data_b64)
        url = urllib.parse.urlsplit(a.path)
        if a.content_type:
            headers["Content-Type"] = a.content_type
        headers.update(
            signature_headers(
                os.environ["REEL_APP_KEY"], os.environ["REEL_APP_SECRET"], a.method, url.path, url.query,
                a.content_type, body,
            )
        )
        server = os.environ.get("REEL_SERVER", "http://127.0.0.1:8080").rstrip("/")
        cmd = ["curl", "-sS", "-X", a.method]
        for k, v in headers.items():
            cmd += ["-H", f"{k}: {v}"]
        if body:
            cmd += ["--data-binary", f"@-"]
            print(f"printf %s {shlex.quote(a.data_b64)} | base64 -d | ", end="")
        print(shlex.join(cmd + [server + a.path]))
        return 0
    status, text = send(a.method, a.path, base64.b64decode(a.data_b64), a.content_type, headers)
    print(status, text)
    return 0 if status < 500 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
