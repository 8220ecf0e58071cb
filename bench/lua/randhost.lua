-- Random host routes.
local N = tonumber(os.getenv("ROUTES") or "10000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/", { ["Host"] = "h" .. math.random(0, N-1) .. ".example.com" })
end
