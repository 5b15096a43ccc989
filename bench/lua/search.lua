-- Scenario 4: POST /v1/customers/search, one exact filter: by email (BENCH_VARIANT=email; the
-- address as the person typed it) or by userId (BENCH_VARIANT=userId).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local bodies

function c.init()
  bodies = {}
  local column = c.variant == "userId" and 3 or 2
  for _, row in ipairs(c.read_tsv(os.getenv("BENCH_DATA"))) do
    if row[column] then
      bodies[#bodies + 1] = '{"filter": [{"field": "customers.' .. c.variant
        .. '", "operator": "=", "value": ' .. c.json_string(row[column]) .. "}]}"
    end
  end
end

c.install(function()
  return wrk.format("POST", "/v1/customers/search", c.headers, bodies[math.random(#bodies)])
end)
