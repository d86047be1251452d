-- HallServer load for wrk (bench/http_load.py): the requests come from a file written by the
-- benchmark, one a line, tab-separated: method, path, bearer token, body (empty for a GET).
-- Thread k of n takes lines k, k + n, k + 2n, ... (0-based: no line is sent by two threads)
-- and cycles through them; `made` counts what it sent, so the benchmark knows which lines a
-- run used (a push must not be sent twice) and whether a thread ran out and began again.
--
--   wrk -t N ... -s requests.lua -- FILE N
--
-- done() prints one line, "HALL_WRK_JSON {...}": wrk's counts, latency percentiles (µs) and
-- each thread's counts, for the benchmark to read.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

local requests = {}
local next_request = 1
made = 0
lines = 0
-- Counted by push.lua's response(); left at 0 here.
outcomes = {}

function init(args)
   local file, step = args[1], tonumber(args[2])
   local index = 0
   for line in io.lines(file) do
      if index % step == id then
         local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
         local headers = {["Authorization"] = "Bearer " .. token}
         if body == "" then
            body = nil
         else
            headers["Content-Type"] = "application/json"
         end
         requests[#requests + 1] = wrk.format(method, path, headers, body)
      end
      index = index + 1
   end
   lines = #requests
   if lines == 0 then
      error("no request for thread " .. id .. " in " .. file)
   end
end

function request()
   local next = requests[next_request]
   next_request = next_request % lines + 1
   made = made + 1
   return next
end

local function json_counts(counts)
   local parts = {}
   for name, count in pairs(counts) do
      parts[#parts + 1] = string.format('"%s":%d', name, count)
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, _)
   local per_thread, outcomes_all = {}, {}
   for _, thread in ipairs(threads) do
      per_thread[#per_thread + 1] = string.format('{"made":%d,"lines":%d}',
                                                  thread:get("made"), thread:get("lines"))
      for name, count in pairs(thread:get("outcomes") or {}) do
         outcomes_all[name] = (outcomes_all[name] or 0) + count
      end
   end
   local errors = summary.errors
   io.write(string.format(
      'HALL_WRK_JSON {"duration_us":%d,"requests":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},' ..
      '"threads":[%s],"outcomes":%s}\n',
      summary.duration, summary.requests, summary.bytes,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, table.concat(per_thread, ","), json_counts(outcomes_all)))
end
