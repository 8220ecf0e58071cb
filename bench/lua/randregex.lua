-- Random regex routes: /re<N>/<digits>.
local N = tonumber(os.getenv("ROUTES") or "10000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/re" .. math.random(0, N-1) .. "/" .. math.random(1, 1000000))
end
