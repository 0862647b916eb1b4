#!/usr/bin/env python3
"""Sends one request to Sluice signed with SLUICE-HMAC-SHA256, using only Python's standard library.

    SLUICE_KEY_ID=… SLUICE_KEY_SECRET=… python3 sluice_sign.py GET http://127.0.0.1:8081/api tag=demo start=-600000000000 samples=5
    echo '{"time":1,"tag":"demo","values":[1]}' | SLUICE_KEY_ID=… SLUICE_KEY_SECRET=… python3 sluice_sign.py POST http://127.0.0.1:8080/save -

Prints the status and the body. The README's "Keys and signed requests" explains the scheme.
"""
import hashlib
import hmac
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def quote(text):
    # RFC 3986: only A-Z a-z 0-9 - . _ ~ stay as they are.
    return urllib.parse.quote(text, safe="-._~")


def signed_request(method, base_url, path, params, body, key_id, secret):
    """A urllib Request for base_url + path with params (a list of (name, value)) and body (bytes)."""
    query = "&".join(f"{n}={v}" for n, v in sorted((quote(n), quote(v)) for n, v in params))
    date = str(int(time.time()))
    string_to_sign = "\n".join([method, path, query, date, hashlib.sha256(body).hexdigest()])
    signature = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    url = base_url + path + ("?" + query if query else "")
    request = urllib.request.Request(url, data=body if method != "GET" else None, method=method)
    request.add_header("Authorization", f"SLUICE-HMAC-SHA256 Credential={key_id}, Signature={signature}")
    request.add_header("X-Sluice-Date", date)
    request.add_header("Content-Type", "application/json")
    return request


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    method, url = sys.argv[1].upper(), urllib.parse.urlsplit(sys.argv[2])
    rest = sys.argv[3:]
    body = sys.stdin.buffer.read() if rest[-1:] == ["-"] else b""
    params = [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in rest if p != "-"]
    request = signed_request(method, f"{url.scheme}://{url.netloc}", url.path, params, body,
                             os.environ["SLUICE_KEY_ID"], os.environ["SLUICE_KEY_SECRET"])
    try:
        with urllib.request.urlopen(request) as response:
            print(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        print(error.code, error.read().decode())
        sys.exit(1)


if __name__ == "__main__":
    main()
