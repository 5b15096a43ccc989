-- Scenario 5: GET /v1/customers?limit=100 deep into the large account: by offset
-- (BENCH_VARIANT=offset) or by cursor (BENCH_VARIANT=cursor), at positions the runner drew
-- from the second half of the account (data: offset, cursor of the row before that offset).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local paths

function c.init()
  paths = {}
  for _, row in ipairs(c.read_tsv(os.getenv("BENCH_DATA"))) do
    if c.variant == "cursor" then
      paths[#paths + 1] = "/v1/customers?limit=100&after=" .. row[2]
    else
      paths[#paths + 1] = "/v1/customers?limit=100&offset=" .. row[1]
    end
  end
end

c.install(function()
  return wrk.format("GET", paths[math.random(#paths)], c.headers)
end)
