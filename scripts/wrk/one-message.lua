-- One message per request, for scripts/bench-single: a top-100 tag each time and a time no other
-- request uses (a store keeps one point per tag and time, so a repeat would hide a loss), as seed 003's
-- JSON to Sluice's /save or as a line of InfluxDB's line protocol to its /write (wrk's first argument
-- after `--`: sluice or influx). Times are written as text: a Lua number cannot hold nanoseconds exactly.
local threads = {}

function setup(thread)
    thread:set("thread_index", #threads)
    table.insert(threads, thread)
end

local format = "sluice"
local counter = 0
local base = os.time()

function init(args)
    format = args[1] or "sluice"
end

request = function()
    counter = counter + 1
    local index = thread_index or 0
    -- Up to 16 threads, each on its own residue: under 62M requests a thread, every time is distinct.
    local time = string.format("%d%09d", base, counter * 16 + index)
    local tag = string.format("tag-%05d", (counter + index) % 100 + 1)
    if format == "influx" then
        local line = "sluice,tag=" .. tag .. " v1=" .. counter .. ",v2=2,v3=3,v4=4,v5=5,v6=6,v7=7,v8=8,v9=9,v10=10 " .. time
        return wrk.format("POST", "/write?db=single&precision=ns", { ["Content-Type"] = "text/plain" }, line)
    end
    local body = '{"time":' .. time .. ',"tag":"' .. tag .. '","values":[' .. counter .. ',2,3,4,5,6,7,8,9,10]}'
    return wrk.format("POST", "/save", { ["Content-Type"] = "application/json" }, body)
end

-- The summary line the bench scripts read, from the file beside this one.
done = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "summary.lua")
