-- wrk script: GET /<slug> like random_slug.lua, but each request also carries a User-Agent,
-- an X-Forwarded-For public IPv4 address and (often) a Referer drawn from a realistic mix, so the
-- clicks it produces cost the worker real enrichment work (geolocation, User-Agent parsing, bot
-- detection). The server must trust 127.0.0.1 as a proxy to use X-Forwarded-For.
--   BENCH_SLUGS_FILE   slugs, one per line (required)
--   BENCH_UA_FILE      User-Agents, one per line (default bench/lib/user_agents.txt via env)
--   BENCH_REFERER_FILE referers, one per line, "-" for none
--   BENCH_SEED         fixed seed (default 42) plus the wrk thread index
-- bench/node-reference/prefill.js draws jobs from the same lists for the Node.js reference.
-- 20,000 requests are formatted in init(); request() only picks one.

local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

local requests = {}
local count = 0

local function read_lines(path, keep_dash)
  local out = {}
  for line in io.lines(path) do
    if #line > 0 then
      if line == "-" and keep_dash then line = "" end
      out[#out + 1] = line
    end
  end
  if #out == 0 then error("no lines in " .. path) end
  return out
end

local function public_ipv4()
  local a
  repeat
    a = math.random(1, 223)
  until a ~= 10 and a ~= 127 and a ~= 0
  return string.format("%d.%d.%d.%d", a, math.random(0, 255), math.random(0, 255), math.random(1, 254))
end

function init(args)
  local slugs = read_lines(os.getenv("BENCH_SLUGS_FILE") or error("BENCH_SLUGS_FILE is not set"))
  local agents = read_lines(os.getenv("BENCH_UA_FILE") or error("BENCH_UA_FILE is not set"))
  local referers = read_lines(os.getenv("BENCH_REFERER_FILE") or error("BENCH_REFERER_FILE is not set"), true)
  math.randomseed(tonumber(os.getenv("BENCH_SEED") or "42") + (thread_id or 0))
  for i = 1, 20000 do
    local headers = {
      ["User-Agent"] = agents[math.random(#agents)],
      ["X-Forwarded-For"] = public_ipv4(),
    }
    local referer = referers[math.random(#referers)]
    if #referer > 0 then headers["Referer"] = referer end
    requests[i] = wrk.format("GET", "/" .. slugs[math.random(#slugs)], headers)
  end
  count = #requests
end

function request()
  return requests[math.random(count)]
end

-- done(): report.lua, next to this file.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
