-- wrk script: each request submits a new weekly pain score (a fresh submissionId every time).
-- Usage: wrk ... -s bench/post-pain-score.lua URL -- <answeredAt>
local counter = 0
local answered_at = "2026-01-05T10:00:00Z"

function init(args)
  if args[1] then answered_at = args[1] end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  -- Added to wrk's own headers (which carry -H Authorization); a table passed to wrk.format would replace them.
  wrk.headers["Content-Type"] = "application/json"
end

local function hex(digits)
  local s = ""
  for _ = 1, digits do s = s .. string.format("%x", math.random(0, 15)) end
  return s
end

function request()
  counter = counter + 1
  local id = hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-8" .. hex(3) .. "-" .. hex(12)
  local body = string.format(
    '{"submissionId":"%s","answeredAt":"%s","score":%d,"recall":"average7Days"}', id, answered_at, counter % 11)
  return wrk.format("POST", nil, nil, body)
end
