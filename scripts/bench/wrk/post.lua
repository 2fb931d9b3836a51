-- wrk script of the bench (scripts/bench/wrk.ts): one POST with a form body and Basic authorization,
-- every response checked (status 200 and, when WRK_EXPECT is set, exactly that body; otherwise the
-- body must contain WRK_CONTAINS), and a JSON summary on stdout after the run.
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = os.getenv("WRK_AUTHORIZATION")

local expect = os.getenv("WRK_EXPECT")
if expect == "" then expect = nil end
local contains = os.getenv("WRK_CONTAINS")
if contains == "" then contains = nil end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

mismatches = 0
sample = ""
function response(status, headers, body)
  local ok = status == 200
  if ok and expect ~= nil then ok = body == expect end
  if ok and contains ~= nil then ok = string.find(body, contains, 1, true) ~= nil end
  if not ok then
    mismatches = mismatches + 1
    if sample == "" then sample = status .. " " .. string.sub(body or "", 1, 200) end
  end
end

function done(summary, latency, requests)
  local m = 0
  local s = ""
  for _, t in ipairs(threads) do
    m = m + t:get("mismatches")
    local ts = t:get("sample")
    if s == "" and ts ~= nil then s = ts end
  end
  s = string.gsub(s, '[%c"\\]', " ")
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"mismatches":%d,"p50_us":%d,"p99_us":%d,"sample":"%s"}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, m, latency:percentile(50), latency:percentile(99), s))
end
