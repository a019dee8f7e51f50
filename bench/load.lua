-- wrk script of the benchmark (bench/wrk.py runs it).
--
--   wrk -t2 -c16 -d30s -s bench/load.lua http://127.0.0.1:8000 -- <mode> <tokens file> <run id>
--
-- mode "order": POST /api/v1/order, each request with its own Idempotency-Key
--               (bench-<run id>-<thread>-<n>), the users' access tokens in rotation;
-- mode "ping":  GET /api/v1/order/ping (the floor), the same tokens in rotation;
-- mode "hops":  GET /api/v1/order/ping/hops (an order's hops without its work).
--
-- done() prints one line "BENCH_RESULT {json}" with the counts, the errors
-- (socket errors, and statuses >= 400 under "status") and latency percentiles in µs.

local threads = {}
local mode, run_id
local tokens = {}
local sent = 0

local order_body =
    '{"orderPositions":[{"productId":1,"price":"1.50","quantity":2},'
    .. '{"productId":2,"price":"0.25","quantity":4}]}'

function setup(thread)
    table.insert(threads, thread)
    thread:set("thread_number", #threads)
end

function init(args)
    mode = args[1] or "ping"
    run_id = args[3] or "run"
    for line in io.lines(args[2]) do
        if #line > 0 then
            table.insert(tokens, "Bearer " .. line)
        end
    end
    if #tokens == 0 then
        error("no access tokens in " .. tostring(args[2]))
    end
    -- Threads start at different users, so they do not move in step.
    sent = (thread_number or 1) * 7
end

function request()
    sent = sent + 1
    local headers = { ["Authorization"] = tokens[(sent % #tokens) + 1] }
    if mode == "order" then
        headers["Content-Type"] = "application/json"
        headers["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_id, thread_number or 1, sent)
        return wrk.format("POST", "/api/v1/order", headers, order_body)
    end
    if mode == "hops" then
        return wrk.format("GET", "/api/v1/order/ping/hops", headers)
    end
    return wrk.format("GET", "/api/v1/order/ping", headers)
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,'
            .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
            .. '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,'
            .. '"p50":%d,"p90":%d,"p95":%d,"p99":%d,"p999":%d}}\n',
        summary.requests, summary.duration, summary.bytes,
        e.connect, e.read, e.write, e.status, e.timeout,
        latency.min, latency.mean, latency.max, latency.stdev,
        latency:percentile(50), latency:percentile(90), latency:percentile(95),
        latency:percentile(99), latency:percentile(99.9)
    ))
end
