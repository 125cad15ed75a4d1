#!/usr/bin/env python3
"""Response time of each page of the demo county: median and p95 of 20 requests after one warm-up.

Run the demo first:  target/release/cunji demo --file /tmp/bench-demo.db --addr 127.0.0.1:18181
then:                python3 bench/page_times.py [BASE_URL]
"""
import http.cookiejar, urllib.request, urllib.parse, time, statistics, re, sys
base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18181"
def session(user, pw):
    cj = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cj))
    html = op.open(base + "/login").read().decode()
    tok = re.search(r'name="_csrf" value="([0-9a-f]+)"', html).group(1)
    op.open(base + "/login", urllib.parse.urlencode({"username": user, "password": pw, "_csrf": tok}).encode())
    return op
admin = session("admin", "cunji-admin")
anon = urllib.request.build_opener()
pages = [
  ("dashboard (county)", admin, "/dashboard?year=2024"),
  ("dashboard (township)", admin, "/dashboard?year=2024&region=131124100000"),
  ("villages list", admin, "/villages?year=2024"),
  ("village page", admin, "/village/131124100200?year=2024"),
  ("workflow list", admin, "/workflow?year=2024"),
  ("workflow detail", admin, "/workflow/131124100200/2024"),
  ("policy", admin, "/policy"),
  ("what-if", admin, "/policy/whatif?year=2024&rate=15%25"),
  ("audit log", admin, "/audit"),
  ("API report (county)", admin, "/api/report?year=2024"),
  ("public index", anon, "/public/"),
  ("public village", anon, "/public/village/131124100200"),
  ("public QR png", anon, "/public/village/131124100200/qr.png"),
  ("public notice", anon, "/public/village/131124100200/notice"),
]
for name, op, path in pages:
    t = []
    for i in range(21):
        s = time.perf_counter(); r = op.open(base + path); r.read(); t.append((time.perf_counter() - s) * 1000)
    t = t[1:]
    t.sort()
    print(f"{name:24s} {path:45s} median {statistics.median(t):6.1f} ms  p95 {t[int(len(t)*0.95)-1]:6.1f} ms")
