#!/usr/bin/env python3
"""Writes and reads KairosDB metrics through Sluice with kairosdb-python (PyPI), as its users would:

- the client is made against the query service, which makes it GET /api/v1/health/check first;
- it writes with the library's own HTTP call (`kairosdb._utils.rest_client.post`, the one its query
  method uses: the library has no write method of its own) to ingest's POST /api/v1/datapoints;
  metric `agent.load`, tags host=a|b, COUNT points a second apart from BASE_MS;
- then `check_health_status()`, `get_metric_names(prefix=…)` and `query(…)`: every point merged, and the
  average per 10 s grouped by host, KairosDB's default alignment and stamps.

Usage: kairos-clients.py INGEST_URL QUERY_URL BASE_MS COUNT
Prints one JSON object: {"written": [[host, ms, value], …], "status": …, "names": …, "merged": …,
"grouped": …}, each answer as the client returned it, for the caller to check. Exits 1 when the points
do not all read back within 30 s.
"""
import json
import sys
import time

from kairosdb import KairosDB
from kairosdb._utils import rest_client

ingest, query_url, base, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

written = []
metrics = []
for host in ("a", "b"):
    points = []
    for k in range(count):
        ms = base + k * 1000 + (0 if host == "a" else 7)
        value = round(k * 0.75 + (10 if host == "b" else 0), 6)
        points.append([ms, value])
        written.append([host, ms, value])
    metrics.append({"name": "agent.load", "tags": {"host": host}, "datapoints": points})
rest_client.post(url=ingest + "/api/v1/datapoints", json=metrics)

client = KairosDB(query_url)  # GET /api/v1/health/check; raises unless 2xx
window = {"start_absolute": base, "end_absolute": base + count * 1000}
merged = None
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    merged = client.query({**window, "metrics": [{"name": "agent.load"}]})
    if merged["queries"][0]["sample_size"] == len(written):
        break
    time.sleep(0.2)
else:
    print(f"only {merged['queries'][0]['sample_size'] if merged else 0} of {len(written)} points read back", file=sys.stderr)
    sys.exit(1)

grouped = client.query({
    **window,
    "metrics": [{
        "name": "agent.load",
        "group_by": [{"name": "tag", "tags": ["host"]}],
        "aggregators": [{"name": "avg", "sampling": {"value": "10", "unit": "seconds"}}],
    }],
})
print(json.dumps({
    "written": written,
    "status": client.check_health_status(),
    "names": client.get_metric_names(prefix="agent"),
    "merged": merged,
    "grouped": grouped,
}))
