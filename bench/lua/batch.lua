-- Scenario 2: PUT /v1/customers/batch, 10 existing customers (random, from the sample) with
-- fields, tags and custom data of attributes the account has.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids
local i = 0
local companies = { "Acme Corp", "Globex", "Initech", "Hooli", "Müller GmbH", "Wonka" }
local tags = { "vip", "newsletter", "Lead", "trial", "beta", "EU", "Kunde" }
local plans = { "free", "starter", "pro", "business", "enterprise" }

function c.init()
  ids = {}
  for _, row in ipairs(c.read_tsv(os.getenv("BENCH_DATA"))) do
    ids[#ids + 1] = row[1]
  end
end

c.install(function()
  i = i + 1
  local items = {}
  for k = 1, 10 do
    local t1, t2 = tags[math.random(#tags)], tags[math.random(#tags)]
    local tag_list = '{"name": "' .. t1 .. '"}'
    if t2 ~= t1 then
      tag_list = tag_list .. ', {"name": "' .. t2 .. '"}'
    end
    items[k] = '{"customer": ' .. ids[math.random(#ids)]
      .. ', "company": "' .. companies[math.random(#companies)]
      .. '", "notes": "Batch ' .. c.run .. "." .. tid .. "." .. i
      .. '", "tags": [' .. tag_list .. "]"
      .. ', "customData": [{"property": "plan", "value": "' .. plans[math.random(#plans)]
      .. '"}, {"property": "visitsNum", "value": ' .. math.random(1, 500)
      .. '}, {"property": "vipBool", "value": ' .. (math.random() < 0.2 and "true" or "false")
      .. "}]}"
  end
  return wrk.format("PUT", "/v1/customers/batch", c.headers, "[" .. table.concat(items, ", ") .. "]")
end)
