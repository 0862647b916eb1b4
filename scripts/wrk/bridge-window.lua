-- One cached window per request, for scripts/bench-bridge: the bridge's /v1/window for a random tag of
-- the top TAGS (wrk's arguments after `--`: TAGS START_MS END_MS), the same 15 minutes every time, so
-- after the first request of each tag every answer comes from the bridge's cache.
local tags, start_ms, end_ms = 100, "0", "0"

function init(args)
    tags = tonumber(args[1])
    start_ms = args[2]
    end_ms = args[3]
    math.randomseed(os.time() + (args[4] and tonumber(args[4]) or 0))
end

request = function()
    local body = string.format('{"tag":"tag-%05d","start_time_ms":%s,"end_time_ms":%s}', math.random(1, tags), start_ms, end_ms)
    return wrk.format("POST", "/v1/window", { ["Content-Type"] = "application/json" }, body)
end

-- The summary line the bench scripts read, from the file beside this one.
done = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "summary.lua")
