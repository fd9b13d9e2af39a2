"""Schemathesis hooks for Reel's seed REST API (`/video/openapi.json`).

Loaded by `scripts/schemathesis` through `SCHEMATHESIS_HOOKS` (schemathesis 4.x).

* Signing: every request carries the X-Reel-* signature headers (README "API signature"),
  computed by a `requests` auth object, i.e. over the request exactly as it goes on the wire
  (after schemathesis has built the query string and serialized the body), with a fresh
  `random` for every request, including requests that are sent again. Credentials:
  `REEL_APP_KEY`, `REEL_APP_SECRET`.
* Real data: the script seeds a few resources first; about half the generated queries get
  one of them instead of a random value, so the tests reach past "not found":
  `REEL_ST_VIDS_READ` (a PLAYABLE video for status/mediainfo/snapshot/playurl),
  `REEL_ST_VIDS_WRITE` (videos that transcode/retranscode may change), `REEL_ST_VIDS_DELETE`
  (videos for delete),
  `REEL_ST_UPIDS` (upload sessions still receiving); `fn` of upload/init is sometimes the
  base64 of the generated name, as the API expects.
* Findings: every request answered with a 5xx is appended to `REEL_ST_FAILURES` (JSON lines)
  with what `reel_sign.py` needs to send it again; with `REEL_ST_TRACE` set, every request's
  method, path and status is appended there (the script prints a count per operation);
  `REEL_ST_DEBUG` names a file that gets every request and response in full (JSON lines).
"""

import base64
import json
import os
import sys
import urllib.parse

import requests.auth
import schemathesis
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reel_sign  # noqa: E402


def _body_bytes(body) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    raise TypeError(f"cannot sign a streamed body ({type(body).__name__})")


class ReelSignature(requests.auth.AuthBase):
    """Signs the prepared request; `requests` applies auth after the URL and body are final."""

    def __init__(self, app_key, app_secret):
        self.app_key, self.app_secret = app_key, app_secret

    def __call__(self, r):
        body = _body_bytes(r.body)
        # `Content-Length` is an optional header parameter of /upload/upload in the OpenAPI
        # document, so schemathesis generates arbitrary values for it. A length that disagrees
        # with the body is a broken HTTP message (the server would wait for bytes that never
        # come, or read the next request as body), not an API input: send the real length.
        if body or r.method not in ("GET", "HEAD"):
            r.headers["Content-Length"] = str(len(body))
        else:
            r.headers.pop("Content-Length", None)
        for name in reel_sign.HEADER_NAMES:
            r.headers.pop(name, None)
        url = urllib.parse.urlsplit(r.url)
        r.headers.update(
            reel_sign.signature_headers(
                self.app_key, self.app_secret, r.method, url.path, url.query, r.headers.get("Content-Type"), body
            )
        )
        return r


_SIGNER = ReelSignature(os.environ["REEL_APP_KEY"], os.environ["REEL_APP_SECRET"])


def _ids(name):
    return [v for v in os.environ.get(name, "").split(",") if v]


VIDS_READ, VIDS_WRITE, VIDS_DELETE = _ids("REEL_ST_VIDS_READ"), _ids("REEL_ST_VIDS_WRITE"), _ids("REEL_ST_VIDS_DELETE")
UPIDS = _ids("REEL_ST_UPIDS")
READ_OPS = {"/status", "/mediainfo", "/snapshot", "/playurl"}
WRITE_OPS = {"/transcode", "/retranscode", "/retransocde"}
UPLOAD_OPS = {"/upload/upload", "/upload/resume"}


def _path(context):
    operation = getattr(context, "operation", None)
    path = getattr(operation, "path", "") or ""
    # The document's server URL ends in /video; operation paths are relative to it.
    return path[len("/video"):] if path.startswith("/video/") else path


def _with(query, name, choices):
    if name not in query or not choices:
        return None
    return st.sampled_from(choices).map(lambda v: {**query, name: v})


@schemathesis.hook
def flatmap_query(context, query):
    if not isinstance(query, dict):
        return st.just(query)
    path = _path(context)
    real = None
    if path in READ_OPS:
        real = _with(query, "vid", VIDS_READ + VIDS_WRITE)
    elif path in WRITE_OPS:
        real = _with(query, "vid", VIDS_WRITE)
    elif path == "/delete":
        real = _with(query, "vid", VIDS_DELETE)
    elif path in UPLOAD_OPS:
        real = _with(query, "upid", UPIDS)
    elif path == "/upload/init" and isinstance(query.get("fn"), str):
        encoded = base64.b64encode((query["fn"] or "clip.mp4").encode()).decode()
        real = st.just({**query, "fn": encoded})
    return st.just(query) if real is None else st.one_of(st.just(query), real)


@schemathesis.hook
def before_call(context, case, kwargs):
    kwargs["auth"] = _SIGNER


@schemathesis.hook
def after_call(context, case, response):
    req = response.request
    url = urllib.parse.urlsplit(req.url)
    trace = os.environ.get("REEL_ST_TRACE")
    if trace:
        with open(trace, "a") as f:
            f.write(f"{req.method} {url.path} {response.status_code}\n")
    debug = os.environ.get("REEL_ST_DEBUG")
    if debug:
        with open(debug, "a") as f:
            f.write(json.dumps({"m": req.method, "u": req.url, "h": dict(req.headers), "b": _body_bytes(req.body)[:200].decode(errors="replace"), "s": response.status_code, "r": response.content[:300].decode(errors="replace")}) + "\n")
    path = os.environ.get("REEL_ST_FAILURES")
    if not path or response.status_code < 500:
        return
    headers = {
        k: v
        for k, v in req.headers.items()
        if k.lower() not in {h.lower() for h in reel_sign.HEADER_NAMES}
        and k.lower() not in ("content-type", "content-length", "user-agent", "accept", "accept-encoding", "connection")
    }
    record = {
        "method": req.method,
        "path": url.path + (f"?{url.query}" if url.query else ""),
        "content_type": req.headers.get("Content-Type"),
        "headers": headers,
        "body_b64": base64.b64encode(_body_bytes(req.body)).decode(),
        "status": response.status_code,
        "response": response.content[:500].decode(errors="replace"),
    }
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
