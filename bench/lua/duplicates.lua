-- Scenario "duplicates": GET /v1/customers/{id}/duplicates (10 suggestions), random existing
-- customers (from the sample). The service only: the floor has no such endpoint.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local paths

function c.init()
  paths = {}
  for _, row in ipairs(c.read_tsv(os.getenv("BENCH_DATA"))) do
    paths[#paths + 1] = "/v1/customers/" .. row[1] .. "/duplicates?limit=10"
  end
end

c.install(function()
  return wrk.format("GET", paths[math.random(#paths)], c.headers)
end)
