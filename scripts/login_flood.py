#!/usr/bin/env python3
"""Logs in as fast as it can from many threads, as a login flood would.

    login_flood.py HOST PORT USERS PASSWORD SECONDS
    login_flood.py --forgot HOST PORT EMAIL COUNT

The second form times COUNT password-reset requests for EMAIL, one after
another, and prints the median and p99 answer times in milliseconds: run
for a known and an unknown address, the two must not tell them apart.

User i is user{i}@example.org, logging in from an address of its own
(sent as X-Forwarded-For: the server must trust 127.0.0.1 as a proxy, or
all the users count as one address and its login limit). Each thread fetches /login for its CSRF
cookie and token, then posts the right password, again and again, until
SECONDS have passed. Prints the number of logins, how many were answered
303 (logged in), and the logins per second. Standard library only.
"""
import http.client
import re
import sys
import threading
import time
import urllib.parse

def form_post(c, path, fields, client=None):
    """GETs the form at `path` on connection `c` for its CSRF cookie and
    token, then POSTs `fields` with them, as if through a reverse proxy
    reporting `client` as the visitor's address when one is given. Returns
    the milliseconds the POST took and its status."""
    c.request("GET", path)
    r = c.getresponse()
    html = r.read().decode()
    cookie = next((v.split(";")[0] for k, v in r.getheaders() if k.lower() == "set-cookie" and v.startswith("arkiv_csrf=")), "")
    token = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({"csrf": token, **fields})
    start = time.perf_counter()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    if client:
        headers["X-Forwarded-For"] = client
    c.request("POST", path, body, headers)
    r = c.getresponse()
    r.read()
    return (time.perf_counter() - start) * 1000, r.status


def forgot(host, port, email, count):
    times = []
    for _ in range(count):
        c = http.client.HTTPConnection(host, port, timeout=60)
        took, status = form_post(c, "/password/forgot", {"email": email})
        times.append(took)
        assert status == 200, status
        c.close()
    times.sort()
    print(f"{times[len(times) // 2]:.2f} {times[min(len(times) - 1, int(len(times) * 0.99))]:.2f}")


if sys.argv[1] == "--forgot":
    forgot(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    sys.exit(0)

host, port, users, password, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
deadline = time.monotonic() + seconds
lock = threading.Lock()
counts = {"logins": 0, "ok": 0, "other": {}}


def one(i):
    while time.monotonic() < deadline:
        c = http.client.HTTPConnection(host, port, timeout=60)
        fields = {"email": f"user{i}@example.org", "password": password, "target": "/"}
        _, status = form_post(c, "/login", fields, client=f"10.1.{i // 250}.{i % 250 + 1}")
        c.close()
        with lock:
            counts["logins"] += 1
            if status == 303:
                counts["ok"] += 1
            else:
                counts["other"][status] = counts["other"].get(status, 0) + 1


threads = [threading.Thread(target=one, args=(i,)) for i in range(users)]
start = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join()
took = time.monotonic() - start
print(f"{counts['logins']} {counts['ok']} {counts['logins'] / took:.1f} {counts['other']}")
