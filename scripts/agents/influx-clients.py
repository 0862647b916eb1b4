#!/usr/bin/env python3
"""Writes known points to Sluice's ingest with the official InfluxDB Python clients, as agents would:

- influxdb-client (2.x API): POST /api/v2/write, gzip on, `Authorization: Token <key>`, bucket `agents`,
  millisecond precision; measurement `cpu`, tags host=a|b, fields usage (float) and idle (integer);
- influxdb (1.x API): POST /write, HTTP basic auth (key id as user, secret as password), database
  `agents`, second precision; measurement `mem`, tag host=c, fields used (integer), free (float) and
  ok (boolean).

Usage: influx-clients.py INGEST_URL KEY_ID.SECRET BASE_SECONDS COUNT
Prints one JSON object per written value: {"series": "<measurement>.<field>", "labels": {...},
"time_ns": …, "value": …}, for the caller to read back through /api.
"""
import json
import sys
import urllib.parse

from influxdb import InfluxDBClient as V1Client
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

url, key, base, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
written = []

with InfluxDBClient(url=url, token=key, org="sluice", enable_gzip=True) as client:
    api = client.write_api(write_options=SYNCHRONOUS)
    points = []
    for host in ("a", "b"):
        for k in range(count):
            ms = (base + k) * 1000
            usage = round(0.25 * k + (0.5 if host == "b" else 0), 6)
            idle = 100 - k
            points.append(Point("cpu").tag("host", host).field("usage", usage).field("idle", idle).time(ms, WritePrecision.MS))
            written.append({"series": "cpu.usage", "labels": {"host": host}, "time_ns": ms * 1_000_000, "value": usage})
            written.append({"series": "cpu.idle", "labels": {"host": host}, "time_ns": ms * 1_000_000, "value": idle})
    api.write(bucket="agents", record=points)

key_id, secret = key.split(".", 1)
address = urllib.parse.urlparse(url)
v1 = V1Client(host=address.hostname, port=address.port, username=key_id, password=secret, database="agents")
body = []
for k in range(count):
    seconds = base + k
    fields = {"used": 1000 + k, "free": 0.5 * k, "ok": k % 2 == 0}
    body.append({"measurement": "mem", "tags": {"host": "c"}, "time": seconds, "fields": fields})
    for field, value in fields.items():
        written.append({"series": f"mem.{field}", "labels": {"host": "c"}, "time_ns": seconds * 1_000_000_000, "value": float(value)})
# The 1.x client sends integers as `1000i` and booleans as `true`, in one request.
if not v1.write_points(body, time_precision="s"):
    sys.exit("the 1.x client reported a failed write")

for record in written:
    print(json.dumps(record))
