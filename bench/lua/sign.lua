-- POST the signing form with a unique email per request.
-- Arguments after wrk's "--": TOKEN (from the embed page) and RUN (a tag unique to this wrk
-- process), so emails never repeat across threads, connections or runs.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local prefix
local sent = 0

function init(args)
  local token = args[1] or error("sign.lua: pass the form token after --")
  run = args[2] or "r"
  math.randomseed(os.time() + (tid or 0) * 7919)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  prefix = "token=" .. token .. "&lang=en&view=embed&first_name=Bench&last_name=Signer"
    .. "&country=CA&opt_in=1&email="
end

function request()
  sent = sent + 1
  local email = string.format("b%s-%d-%d-%d%%40example.org",
    run, tid or 0, sent, math.random(0, 999999))
  return wrk.format(nil, nil, nil, prefix .. email)
end
