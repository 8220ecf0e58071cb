-- Random prefix routes: defeats per-path caches.
local N = tonumber(os.getenv("ROUTES") or "10000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/svc" .. math.random(0, N-1) .. "/" .. math.random(1, 1000000))
end
