#!/usr/bin/env python3
"""api_client.py - POST /v1/search from C concurrent connections (keep-alive, one thread
each), N requests per connection, for one query; prints "req_s p50_ms p99_ms errors".

    python3 bench/api_client.py --port P --token T --conns 16 --requests 20 QUERY

Python's threads suffice: each request waits on the server (milliseconds) far longer than the
client spends in the interpreter, and the client's own cost is in the figures, as it would be
for any real client on the same machine."""
import argparse
import http.client
import json
import threading
import time


def worker(a, query, lat, errs):
    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=60)
    body = json.dumps({"query": query, "limit": a.limit})
    hdr = {"Authorization": "Bearer " + a.token, "Content-Type": "application/json"}
    for _ in range(a.requests):
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/v1/search", body, hdr)
            r = conn.getresponse()
            r.read()
            ok = r.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=60)
            ok = False
        lat.append((time.perf_counter() - t0) * 1000.0)
        if not ok:
            errs.append(1)
    conn.close()


def pct(vals, p):
    vals = sorted(vals)
    k = max(0, min(len(vals) - 1, int(-(-p * len(vals) // 100)) - 1))
    return vals[k]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--conns", type=int, default=16)
    p.add_argument("--requests", type=int, default=20)
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("query")
    a = p.parse_args()
    lat, errs = [], []
    threads = [threading.Thread(target=worker, args=(a, a.query, lat, errs)) for _ in range(a.conns)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.perf_counter() - t0
    print("%.1f %.2f %.2f %d" % (len(lat) / dt, pct(lat, 50), pct(lat, 99), len(errs)))


if __name__ == "__main__":
    main()
