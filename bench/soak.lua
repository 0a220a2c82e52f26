-- wrk script for the mixed soak: a share of the requests submit a new weekly pain score for a random
-- patient (a fresh submissionId each), the rest read a random patient's trend or outcomes, or the
-- practitioner's patient list. Usage: wrk ... -s bench/soak.lua URL -- <patients> <write percent> <answeredAt>
local patients = 200
local writes = 50
local answered_at = "2026-01-05T10:00:00Z"
local counter = 0

function init(args)
  patients = tonumber(args[1] or patients)
  writes = tonumber(args[2] or writes)
  if args[3] then answered_at = args[3] end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

local function hex(digits)
  local s = ""
  for _ = 1, digits do s = s .. string.format("%x", math.random(0, 15)) end
  return s
end

function request()
  counter = counter + 1
  local patient = math.random(1, patients)
  if math.random(1, 100) <= writes then
    local id = hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-8" .. hex(3) .. "-" .. hex(12)
    local body = string.format('{"submissionId":"%s","answeredAt":"%s","score":%d,"recall":"average7Days"}', id, answered_at, counter % 11)
    return wrk.format("POST", "/api/v1/patients/" .. patient .. "/pain-scores", { ["Content-Type"] = "application/json",
      ["Authorization"] = wrk.headers["Authorization"] }, body)
  end
  local pick = math.random(1, 3)
  if pick == 1 then return wrk.format("GET", "/api/v1/patients/" .. patient .. "/trend?measure=pain_nrs") end
  if pick == 2 then return wrk.format("GET", "/api/v1/patients/" .. patient .. "/outcomes") end
  return wrk.format("GET", "/api/v1/patients/summaries?limit=50")
end
