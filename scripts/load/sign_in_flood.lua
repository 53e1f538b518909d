-- Wrong passwords to POST /api/v1/auth/token as fast as the connections allow. With
-- FLOOD_SPREAD=1 every request claims another client address in X-Forwarded-For (the server
-- trusts that header in this run), as a flood from many machines would; otherwise they all come
-- from this one. Counts the answers by status per thread and prints them with the figures.
dofile(os.getenv("LOAD_SCRIPTS") .. "/common.lua")

local spread = os.getenv("FLOOD_SPREAD") == "1"
local counter = 0
statuses = {}

function init(args)
  math.randomseed(os.time() + thread_no * 7919)
end

function request()
  counter = counter + 1
  local headers = { ["Content-Type"] = "application/json" }
  if spread then
    headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  end
  local body = string.format('{"username":"flood-%d-%d","password":"not the password at all"}', thread_no, counter % 50)
  return wrk.format("POST", "/api/v1/auth/token", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(all_threads()) do
    local counts = thread:get("statuses")
    for status, n in pairs(counts) do
      totals[status] = (totals[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(totals) do
    table.insert(parts, string.format('"%d":%d', status, n))
  end
  local seconds = summary.duration / 1e6
  io.write(string.format('{"requests":%d,"rps":%.1f,"p50_ms":%.2f,"statuses":{%s},"socket_errors":%d}\n',
    summary.requests, summary.requests / seconds, latency:percentile(50) / 1000, table.concat(parts, ","),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
