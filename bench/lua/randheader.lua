-- Random header-match routes: x-tenant: t0 .. t(N-1).
local N = tonumber(os.getenv("ROUTES") or "10000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/", { ["x-tenant"] = "t" .. math.random(0, N-1) })
end
