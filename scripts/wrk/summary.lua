-- wrk's `done` for Sluice's wrk scripts: one JSON line of what the run saw, for the bench scripts to read.
-- Loaded with `done = dofile(<this file>)` from a script beside it.
return function(summary, latency, requests)
    io.write(string.format(
        '{"requests":%d,"seconds":%.3f,"req_s":%.1f,"non_2xx":%d,"socket_errors":%d,"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f}\n',
        summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), summary.errors.status,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
