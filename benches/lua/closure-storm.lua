-- Closure creation: build and call very many short-lived closures (peer of programs/closure-storm.menai).
local ROUNDS, DEPTH = 350000, 10

local function adder(n)
  return function(x) return x + n end
end

local function compose(f, g)
  return function(x) return f(g(x)) end
end

-- adder(1) . adder(2) . ... . adder(n) . f
local function chain(n, f)
  if n == 0 then return f end
  return chain(n - 1, compose(adder(n), f))
end

-- sums n + (n-1) + ... + 1 in continuation-passing style
local function cps_sum(n, k)
  if n == 0 then return k(0) end
  return cps_sum(n - 1, function(v) return k(v + n) end)
end

local acc = 0
for i = 1, ROUNDS do
  local f = chain(DEPTH, adder(i))
  local s = cps_sum(DEPTH, function(v) return v + i end)
  acc = (acc * 31 + f(i) + s) % 1000003
end
print(acc)
