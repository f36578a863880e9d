-- wrk: POSTs distinct small optimizations (each with its own cash, so no
-- two share a run key and none dedupes to a queued run) until each thread
-- has ATF_LOAD_PER_THREAD answers; counts 429s and anything else. wrk
-- itself runs for its whole -d, so a thread that is done writes the file
-- ATF_LOAD_MARK.<thread> and load.sh interrupts wrk (SIGINT: it stops and
-- reports) once every thread has.
local threads = {}

setup = function(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

init = function(args)
  limit = tonumber(os.getenv("ATF_LOAD_PER_THREAD") or "5000")
  mark = os.getenv("ATF_LOAD_MARK")
  sent, answered, refused, other = 0, 0, 0, 0
end

request = function()
  sent = sent + 1
  local body = string.format(
    '{"strategy":"sma-cross","dataset":"spy-1m","axes":{"fast":[5,10],"slow":[20,30]},"cash":%d}',
    100000 + tid * 1000000 + sent)
  return wrk.format("POST", "/api/optimizations", {["Content-Type"] = "application/json"}, body)
end

response = function(status, headers, body)
  answered = answered + 1
  if status == 429 and (headers["retry-after"] or headers["Retry-After"]) ~= nil then
    refused = refused + 1
  else
    other = other + 1
    if other <= 3 then io.write("unexpected answer " .. status .. ": " .. body .. "\n") end
  end
  if answered == limit then
    if mark then
      local f = io.open(mark .. "." .. tid, "w")
      f:write(answered)
      f:close()
    end
    wrk.thread:stop()
  end
end

done = function(summary, latency, requests)
  local r, o = 0, 0
  for _, t in ipairs(threads) do
    r = r + t:get("refused")
    o = o + t:get("other")
  end
  io.write(string.format(
    "SUBMIT refused429=%d other=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f connect=%d read=%d write=%d timeout=%d\n",
    r, o, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
