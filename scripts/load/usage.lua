-- Reports usage (facility): every request a batch of LOAD_BATCH new records of 0.001 GPU-hours
-- against the award in LOAD_AWARD, record ids unique per thread and request.
dofile(os.getenv("LOAD_SCRIPTS") .. "/common.lua")
local sent = 0
local run = os.getenv("LOAD_RUN") or "run"

function request()
  sent = sent + 1
  local award = os.getenv("LOAD_AWARD")
  local records = {}
  for i = 1, tonumber(os.getenv("LOAD_BATCH") or "100") do
    records[i] = string.format(
      '{"record_id":"%s-%d-%d-%d","award_id":"%s","gpu_hours":"0.001","period_start":"2026-11-02T08:00:00Z","period_end":"2026-11-02T09:00:00Z"}',
      run, thread_no, sent, i, award)
  end
  return wrk.format("POST", "/api/v1/usage", {
    ["Authorization"] = "Bearer " .. os.getenv("LOAD_TOKEN"),
    ["Content-Type"] = "application/json",
  }, '{"records":[' .. table.concat(records, ",") .. ']}')
end
