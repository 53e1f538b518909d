-- Records commitments (staff): every request a new source and tranche pair prepared by the
-- setup ("fund tranche source amount" per line), with its own idempotency key.
dofile(os.getenv("LOAD_SCRIPTS") .. "/common.lua")
local pairs_ = nil
local sent = 0

function request()
  if pairs_ == nil then pairs_ = read_lines("commitments.txt") end
  local index = thread_no + sent * thread_count() + 1
  sent = sent + 1
  local line = pairs_[((index - 1) % #pairs_) + 1]
  local fund, tranche, source, amount = line:match("(%S+) (%S+) (%S+) (%S+)")
  local body = string.format(
    '{"source_id":"%s","tranche_id":"%s","amount":"%s","effective_date":"2026-11-02","allow_oversubscription":true}',
    source, tranche, amount)
  return wrk.format("POST", "/api/v1/funds/" .. fund .. "/commitments", {
    ["Authorization"] = "Bearer " .. os.getenv("LOAD_TOKEN"),
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("load-%d-%d", thread_no, sent),
  }, body)
end
