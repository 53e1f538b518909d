-- Shared by the load scenarios (scripts/bench_load.sh): gives each wrk thread a number and
-- prints one JSON line of figures when the run ends.
local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

-- Every thread set up, for a done() that reads what each counted.
function all_threads()
  return threads
end

-- The thread count, known to every thread once setup has run.
function thread_count()
  return tonumber(os.getenv("LOAD_THREADS") or "2")
end

-- Reads a file of the setup's, one value per line.
function read_lines(name)
  local lines = {}
  for line in io.lines(os.getenv("LOAD_DATA") .. "/" .. name) do
    table.insert(lines, line)
  end
  return lines
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.2f,"rps":%.1f,"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"non_2xx":%d,"socket_errors":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
