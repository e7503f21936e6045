-- map/filter/fold pipelines over 100,000-element arrays, repeated (peer of programs/hof.menai).
local ROUNDS = 100

local function map(f, t)
  local r = {}
  for i = 1, #t do r[i] = f(t[i]) end
  return r
end

local function filter(p, t)
  local r, n = {}, 0
  for i = 1, #t do
    local v = t[i]
    if p(v) then n = n + 1; r[n] = v end
  end
  return r
end

local function fold(f, init, t)
  local acc = init
  for i = 1, #t do acc = f(acc, t[i]) end
  return acc
end

local xs = {}
for i = 1, 100000 do xs[i] = i - 1 end

local acc = 0
for r = 1, ROUNDS do
  local ys = map(function(x) return (x * x + r) % 1009 end, xs)
  local zs = filter(function(y) return y % 3 ~= 0 end, ys)
  local ws = map(function(z) return z * 2 + r end, zs)
  local s = fold(function(a, w) return a + w end, 0, ws)
  acc = (acc * 31 + s + #ws) % 1000003
end
print(acc)
