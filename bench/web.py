"""Page weight and time to first render of the web pages, in headless Chromium
against a real server on 127.0.0.1 (started and stopped here; bounded).

For each page: the bytes the browser fetched (the page and everything it
loads, uncompressed: the server does not compress), and, over --runs fresh
browser contexts (no cache), the first contentful paint measured by the
browser (Performance API).  Two baselines, in the same run: a bare document
from the same server in the same browser (the browser's floor: a new
context, one request, text painted), and the HTTP API answering the same
determination (POST /v1/determine, explanation included) from a plain
client: the page's cost over the answer it shows.  The server
runs with its answer memo off, so every page load is decided by an engine.

    python bench/web.py [--runs 15]      (make bench-web; about a minute)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "pyapi"), str(REPO / "tests")]

from service_server import Server  # noqa: E402
from test_web_browser import CHROMIUM_ARGS  # noqa: E402

REQUEST = {"cpt": "59325", "pregnant": True, "prior_pregnancy_losses": 2, "findings": ["cone_biopsy"]}
PAGES = {
    "baseline: a bare document (/healthz, 0.1 KiB JSON)": "/healthz",
    "determine (59325, cone biopsy)": "/determine?policy=cigna-0284&cpt=59325&pregnant=yes&prior_pregnancy_losses=2"
                                      "&finding=cone_biopsy&date_of_service={date}",
    "determine (empty form)": "/determine?policy=cigna-0284",
    "policy (literate view)": "/policy/cigna-0284/2025-02-15",
    "revisions (2024-04-15 → 2025-02-15)": "/revisions?policy=cigna-0284&a=2024-04-15&b=2025-02-15",
}
PAINT = """async () => {
  let p;  // the paint entry is queued after the frame is presented: wait for it (at most 5 s)
  for (let i = 0; i < 100 && !(p = performance.getEntriesByName('first-contentful-paint')[0]); i++)
    await new Promise(r => setTimeout(r, 50));
  const n = performance.getEntriesByType('navigation')[0];
  const r = performance.getEntriesByType('resource');
  return {fcp: p ? p.startTime : null, ttfb: n.responseStart, load: n.loadEventEnd,
          bytes: n.decodedBodySize + r.reduce((s, e) => s + e.decodedBodySize, 0), requests: 1 + r.length}; }"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "web.json"))
    args = ap.parse_args()
    import httpx
    from playwright.sync_api import sync_playwright

    server = Server("--cache-size", "0", workers=1, today="2025-06-01")
    rows, res = [], {"runs": args.runs, "pages": {}}
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            # distinct dates of service: every load is a fresh determination
            dates = [f"2025-{m:02d}-{d:02d}" for m in range(3, 13) for d in range(1, 29)]
            api = []
            for i in range(args.runs + 2):
                body = dict(REQUEST, date_of_service=dates[-1 - i])
                t = time.perf_counter()
                client.post("/v1/determine?policy=cigna-0284", json=body).raise_for_status()
                api.append((time.perf_counter() - t) * 1e3)
            api = api[2:]
            for name, path in PAGES.items():
                fcps, loads, ttfbs, weight = [], [], [], None
                for i in range(args.runs + 1):
                    ctx = browser.new_context(base_url=server.url)
                    pg = ctx.new_page()
                    pg.goto(path.format(date=dates[i]), wait_until="load")
                    m = pg.evaluate(PAINT)
                    ctx.close()
                    if i == 0:  # the first load warms the server's per-page caches
                        continue
                    fcps.append(m["fcp"])
                    loads.append(m["load"])
                    ttfbs.append(m["ttfb"])
                    weight = (m["bytes"], m["requests"])
                res["pages"][name] = {"bytes": weight[0], "requests": weight[1],
                                      "fcp_ms_p50": round(statistics.median(fcps), 1),
                                      "ttfb_ms_p50": round(statistics.median(ttfbs), 1),
                                      "load_ms_p50": round(statistics.median(loads), 1)}
                rows.append((name, f"{weight[0] / 1024:,.1f} KiB in {weight[1]} requests",
                             f"first paint {statistics.median(fcps):,.0f} ms (server {statistics.median(ttfbs):,.0f} ms)"))
            browser.close()
            res["api_determine_ms_p50"] = round(statistics.median(api), 1)
            det = res["pages"]["determine (59325, cone biopsy)"]
            bare = res["pages"]["baseline: a bare document (/healthz, 0.1 KiB JSON)"]
            rows.append(("determine page vs the bare document", "",
                         f"first paint {det['fcp_ms_p50'] / bare['fcp_ms_p50']:.2f}× the browser's floor"))
            rows.append(("baseline: POST /v1/determine, same request", f"{statistics.median(api):,.1f} ms p50",
                         f"determine page first paint = {det['fcp_ms_p50'] / statistics.median(api):.1f}× the API answer"))
    finally:
        server.stop()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2))
    width = max(len(r[0]) for r in rows)
    for r in rows:
        print(f"{r[0]:<{width}}  {r[1]:<28}  {r[2]}")


if __name__ == "__main__":
    main()
