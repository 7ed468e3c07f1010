-- wrk script of bench/pins-load.sh. Environment:
--   OP                  get (GET /v1/pins/load-K) or put (PUT /v1/pins/load-K)
--   PINS                how many names K cycles over (default 1000)
--   SHIPSHAPE_API_TOKEN the bearer token
-- Every PUT carries a digest and source SHA no other request of the run sends. done prints one
-- line of figures (latencies in ms; wrk measures them in µs) and the errors, which
-- bench/pins-load.sh checks.

local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  n = 0
  op = os.getenv("OP") or "get"
  pins = tonumber(os.getenv("PINS") or "1000")
  headers = { ["Authorization"] = "Bearer " .. (os.getenv("SHIPSHAPE_API_TOKEN") or "") }
  if op == "put" then
    headers["Content-Type"] = "application/json"
  end
end

function request()
  n = n + 1
  -- 7919 is prime: each thread visits every name once in PINS requests, in its own order.
  local path = string.format("/v1/pins/load-%d", (n * 7919 + id * 13) % pins)
  if op ~= "put" then
    return wrk.format("GET", path, headers)
  end
  -- Thread id and sequence number make the digest and SHA unique within the run; the clock
  -- makes them unique across runs on one store.
  local body = string.format(
    '{"repository": "ghcr.io/org/load", "digest": "sha256:%024x%08x%032x", "sourceSha": "%024x%08x%08x"}',
    os.time(), id, n, os.time(), id, n)
  return wrk.format("PUT", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "%-4s %8d requests in %3.0f s: %7.0f req/s  p50 %7.2f  p99 %7.2f  p99.9 %7.2f  max %8.2f ms  errors %d\n",
    string.upper(os.getenv("OP") or "get"), summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000, e.connect + e.read + e.write + e.status + e.timeout))
end
