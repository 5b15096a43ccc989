-- Shared by every scenario script: per-request wall-clock timing, status counts, data files.
--
-- wrk's own latency statistics (the `latency` object handed to done(), and what it prints)
-- are "corrected for coordinated omission" after the run (wrk.c calls stats_correct before
-- done()): every slow request makes wrk invent the requests a fixed-rate client would have
-- sent meanwhile, so one rare stall turns a 2 ms p99 into hundreds of ms. So each script times
-- its own requests: request() notes CLOCK_MONOTONIC (through LuaJIT's FFI, microseconds) as
-- the request leaves, response() takes the difference when its answer has been parsed. With
-- one connection per wrk thread (-t N -c N) each thread has one request in flight, so the two
-- calls pair up exactly. Nothing is corrected or invented: these are the requests sent.
--
-- The runner passes everything through the environment: BENCH_KEY (API key), BENCH_DATA
-- (a TSV file the scenario reads), BENCH_VARIANT, BENCH_RUN (unique per run, for new keys),
-- BENCH_OUT (where done() writes the figures). Each wrk thread loads this file in its own
-- Lua state; done() runs in the main state and collects the threads' figures.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_timespec")

local M = {}

function M.now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

M.key = os.getenv("BENCH_KEY") or ""
M.variant = os.getenv("BENCH_VARIANT") or ""
M.run = os.getenv("BENCH_RUN") or "0"
M.headers = { ["x-api-key"] = M.key, ["Content-Type"] = "application/json" }

-- Per-thread state (each thread has its own copy of these globals).
latencies = {}
codes = {}
started = 0
tid = 0

function M.json_string(s)
  s = s:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end

-- Rows of a tab-separated file; empty fields are nil.
function M.read_tsv(path)
  local rows = {}
  for line in io.lines(path) do
    local row, i = {}, 1
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      row[i] = field ~= "" and field or nil
      i = i + 1
    end
    rows[#rows + 1] = row
  end
  return rows
end

local threads = {}

-- wrk's hooks. A scenario defines make_request() (returns the request string) and may call
-- M.install() to get the timing wrappers.
function M.install(make_request)
  function setup(thread)
    thread:set("tid", #threads + 1)
    threads[#threads + 1] = thread
  end

  function init(args)
    math.randomseed(tid * 7919 + math.floor(M.now_us() % 1000003))
    if M.init then
      M.init()
    end
  end

  function request()
    local req = make_request()
    started = M.now_us()
    return req
  end

  function response(status, headers, body)
    latencies[#latencies + 1] = M.now_us() - started
    codes[status] = (codes[status] or 0) + 1
  end

  function done(summary, latency, requests)
    local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
    out:write(string.format("duration_us %d\n", summary.duration))
    out:write(string.format("wrk_requests %d\n", summary.requests))
    local e = summary.errors
    out:write(string.format("errors %d %d %d %d %d\n", e.connect, e.read, e.write, e.timeout,
      e.status))
    for _, thread in ipairs(threads) do
      local lat = thread:get("latencies")
      local parts = {}
      for i = 1, #lat do
        parts[i] = string.format("%d", lat[i])
      end
      out:write("thread ", #lat, "\n")
      for code, count in pairs(thread:get("codes")) do
        out:write(string.format("code %d %d\n", code, count))
      end
      if #parts > 0 then
        out:write(table.concat(parts, "\n"), "\n")
      end
    end
    out:close()
  end
end

return M
