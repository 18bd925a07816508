-- wrk script for `beuwi bench`: rotate through a file of request paths, one per line.
--
--   wrk -t2 -c8 -d5s --latency -s rotate.lua http://127.0.0.1:PORT -- PATHS_FILE [EXPECTED_CATALOGUE]
--
-- Each thread starts at its own offset in the file. Per thread it counts non-2xx answers, answers whose ETag does not
-- name EXPECTED_CATALOGUE (an engine still serving the previous catalogue; answers without an ETag are not counted),
-- and collects the engine's own time from `Server-Timing: engine;dur=<ms>`. done() prints one line,
-- "BEUWI-BENCH <json>", with latencies in microseconds.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local file = args[1]
   expected = args[2]
   if expected == "" then expected = nil end
   prepared = {}
   for line in io.lines(file) do
      if #line > 0 then
         prepared[#prepared + 1] = wrk.format("GET", line)
      end
   end
   if #prepared == 0 then
      error("no request paths in " .. file)
   end
   position = (id * 7919) % #prepared
   timings = {}
   non2xx = 0
   stale = 0
end

function request()
   position = position % #prepared + 1
   return prepared[position]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
   local timing = headers["Server-Timing"] or headers["server-timing"]
   if timing then
      local dur = string.match(timing, "dur=([%d%.]+)")
      if dur then
         timings[#timings + 1] = tonumber(dur)
      end
   end
   if expected then
      local etag = headers["ETag"] or headers["Etag"] or headers["etag"]
      if etag and not string.find(etag, expected, 1, true) then
         stale = stale + 1
      end
   end
end

local function percentile(sorted, p)
   if #sorted == 0 then return nil end
   local rank = math.ceil(p / 100 * #sorted)
   if rank < 1 then rank = 1 end
   return sorted[rank]
end

local function number(value)
   if value == nil then return "null" end
   return string.format("%.6g", value)
end

function done(summary, latency, requests)
   local all, bad, old = {}, 0, 0
   for _, thread in ipairs(threads) do
      for _, value in ipairs(thread:get("timings")) do
         all[#all + 1] = value
      end
      bad = bad + thread:get("non2xx")
      old = old + thread:get("stale")
   end
   table.sort(all)
   local e = summary.errors
   local fields = {
      string.format('"requests": %d', summary.requests),
      string.format('"duration_us": %d', summary.duration),
      string.format('"bytes": %d', summary.bytes),
      string.format('"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}',
                    e.connect, e.read, e.write, e.status, e.timeout),
      string.format('"non2xx": %d', bad),
      string.format('"stale": %d', old),
      string.format('"latency_us": {"p50": %s, "p90": %s, "p95": %s, "p99": %s, "max": %s, "mean": %s}',
                    number(latency:percentile(50)), number(latency:percentile(90)), number(latency:percentile(95)),
                    number(latency:percentile(99)), number(latency.max), number(latency.mean)),
      string.format('"server_ms": {"count": %d, "p50": %s, "p95": %s, "p99": %s, "max": %s}',
                    #all, number(percentile(all, 50)), number(percentile(all, 95)), number(percentile(all, 99)),
                    number(all[#all])),
   }
   io.write("BEUWI-BENCH {" .. table.concat(fields, ", ") .. "}\n")
end
