-- Scenario 6: POST /v1/customers creates that merge two profiles of one person. Each data row
-- is a pair seeded split in two (A, B): BENCH_VARIANT=email sends A's email with B's userId,
-- BENCH_VARIANT=phone sends A's email with B's phone and a similar name. The runner hands each
-- run pairs no earlier run used; a thread takes every BENCH_THREADS-th row, and wraps around
-- (then its creates only update) if the run outlasts them: the runner counts real merges.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local rows
local k = 0
local stride = tonumber(os.getenv("BENCH_THREADS") or "1")

function c.init()
  rows = c.read_tsv(os.getenv("BENCH_DATA")) -- A's email, B's userId or phone, name
end

c.install(function()
  local index = ((tid - 1) + k * stride) % #rows + 1
  k = k + 1
  local r = rows[index]
  local other = c.variant == "phone" and '"phone": ' or '"userId": '
  local body = '{"email": ' .. c.json_string(r[1]) .. ", " .. other .. c.json_string(r[2])
    .. ', "name": ' .. c.json_string(r[3]) .. "}"
  return wrk.format("POST", "/v1/customers", c.headers, body)
end)
