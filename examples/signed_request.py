#!/usr/bin/env python3
"""Send one signed request to Reel (DESIGN §10), using only the standard library.

    REEL_APP_KEY=ak_… REEL_APP_SECRET=sk_… python3 examples/signed_request.py \
        '{"query": "{ videos(first: 5) { edges { node { id status } } } }"}'
"""
import hashlib, hmac, json, os, secrets, sys, time, urllib.parse, urllib.request

server = os.environ.get("REEL_SERVER", "http://127.0.0.1:8080")
app_key, app_secret = os.environ["REEL_APP_KEY"], os.environ["REEL_APP_SECRET"]
body = (sys.argv[1] if len(sys.argv) > 1 else '{"query":"{ videos { edges { node { id status } } } }"}').encode()
method, path = "POST", "/graphql"

params = {"app_key": app_key, "timestamp": str(int(time.time())), "random": secrets.token_hex(16)}
enc = lambda s: urllib.parse.quote(s, safe="-._~")          # RFC 3986
query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
canonical = "\n".join([method, path, query, hashlib.sha256(body).hexdigest()])
signature = hmac.new(app_secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()

url = f"{server}{path}?{query}&signature={signature}"
req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req) as resp:
        print(json.dumps(json.load(resp), indent=2))
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode(), file=sys.stderr)
    sys.exit(1)
