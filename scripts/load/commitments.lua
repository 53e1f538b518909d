-- Records commitments (staff): every request a new source and tranche pair prepared by the
-- setup ("fund tranche source amount" per line), with its own idempotency key.
dofile(os.getenv("LOAD_SCRIPTS") .. "/common.lua")
local pairs_ = nil
-- Requests this thread has sent, global so that done() can read it; LOAD_OFFSET continues the
-- pairs where an earlier run of the same setup stopped (scripts/bench_commitment_minutes.sh).
commitments_sent = 0
local offset = tonumber(os.getenv("LOAD_OFFSET") or "0")

-- The pairs are read before the thread opens its connections. Read at the first request, the
-- file (2,700,000 pairs for ten minutes) kept a thread's 32 open connections idle past the
-- server's 5 s wait for a first request, answered 408 Request Timeout (BENCHMARKS.md).
function init(args)
  pairs_ = read_lines("commitments.txt")
end

function request()
  local index = thread_no + (offset + commitments_sent) * thread_count() + 1
  commitments_sent = commitments_sent + 1
  local line = pairs_[((index - 1) % #pairs_) + 1]
  local fund, tranche, source, amount = line:match("(%S+) (%S+) (%S+) (%S+)")
  local body = string.format(
    '{"source_id":"%s","tranche_id":"%s","amount":"%s","effective_date":"2026-11-02","allow_oversubscription":true}',
    source, tranche, amount)
  return wrk.format("POST", "/api/v1/funds/" .. fund .. "/commitments", {
    ["Authorization"] = "Bearer " .. os.getenv("LOAD_TOKEN"),
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("load-%d-%d", thread_no, offset + commitments_sent),
  }, body)
end

-- Answers other than 2xx, by status, with the first body of each, global so that done() can
-- print them: a benchmark that was refused must say what it was told.
refusals = ""
local refused_statuses = {}
function response(status, headers, body)
  if status >= 300 and not refused_statuses[status] then
    refused_statuses[status] = true
    refusals = refusals .. string.format("%d %s\n", status, (body or ""):sub(1, 300))
  end
end

-- After the figures, where the next run of the same setup starts (LOAD_OFFSET): this run's offset
-- plus the most any thread sent, in LOAD_DATA/commitments.sent.
local report = done
function done(summary, latency, requests)
  report(summary, latency, requests)
  for _, thread in ipairs(all_threads()) do
    local told = thread:get("refusals") or ""
    if told ~= "" then io.stderr:write("refused: " .. told) end
  end
  local most = 0
  for _, thread in ipairs(all_threads()) do
    local sent = thread:get("commitments_sent") or 0
    if sent > most then most = sent end
  end
  local out = io.open(os.getenv("LOAD_DATA") .. "/commitments.sent", "w")
  out:write(tostring(offset + most))
  out:close()
end
