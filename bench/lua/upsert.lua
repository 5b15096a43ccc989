-- Scenario 1: partner upsert, POST /api/v1/partner/contacts; every other request is a new
-- person, the others an existing one (its email and external id, from the sample).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local rows
local i = 0

function c.init()
  rows = c.read_tsv(os.getenv("BENCH_DATA")) -- id, email, external id, name
end

c.install(function()
  i = i + 1
  local r = rows[math.random(#rows)]
  local body
  if i % 2 == 0 then
    body = '{"email": ' .. c.json_string(r[2])
    if r[4] then
      body = body .. ', "name": ' .. c.json_string(r[4])
    end
    if r[3] then
      body = body .. ', "external_id": ' .. c.json_string(r[3])
    end
    body = body .. "}"
  else
    local token = c.run .. "." .. tid .. "." .. i
    body = '{"email": "new.' .. token .. '@example.org", "name": '
      .. c.json_string(r[4] or "Alex Morgan") .. ', "external_id": "new_' .. token .. '"}'
  end
  return wrk.format("POST", "/api/v1/partner/contacts", c.headers, body)
end)
