-- wrk script: GET /<slug> for slugs drawn at random from $BENCH_SLUGS_FILE (one per line).
-- The seed is fixed ($BENCH_SEED, default 42, plus the wrk thread index), so every server in a run
-- gets the same sequence of paths. Requests are formatted once in init(): request() only picks
-- one, so wrk's own CPU per request stays small.
-- done() prints one machine-readable line: "BENCH_RESULT {json}" (latencies in microseconds).

local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

local requests = {}
local count = 0

function init(args)
  local path = os.getenv("BENCH_SLUGS_FILE")
  if not path then
    error("BENCH_SLUGS_FILE is not set")
  end
  for line in io.lines(path) do
    if #line > 0 then
      count = count + 1
      requests[count] = wrk.format("GET", "/" .. line)
    end
  end
  if count == 0 then
    error("no slugs in " .. path)
  end
  math.randomseed(tonumber(os.getenv("BENCH_SEED") or "42") + (thread_id or 0))
end

function request()
  return requests[math.random(count)]
end

-- done(): report.lua, next to this file.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
