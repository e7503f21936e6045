-- Symbolic differentiation and simplification of a big expression tree (peer of programs/deriv.menai).
-- Expressions: integers, the variables "x" and "y", and nodes {op, a, b} with op "+" or "*".
local DEPTH, ROUNDS = 16, 18
local M = 2147483647
local floor = math.floor

local function mix(k)
  return (k * 48271 % M) * 48271 % M
end

-- Deterministic pseudo-random tree: node k has children 2k and 2k+1.
local function gen(depth, k)
  local h = mix(k)
  if depth == 0 or h % 8 == 0 then
    local r = floor(h / 8) % 4
    if r == 0 then return "x"
    elseif r == 1 then return "y"
    else return floor(h / 32) % 5 + 1 end
  end
  local op = (floor(h / 8) % 2 == 0) and "+" or "*"
  return {op, gen(depth - 1, 2 * k), gen(depth - 1, 2 * k + 1)}
end

local function deriv(e, v)
  local t = type(e)
  if t == "number" then
    return 0
  elseif t == "string" then
    if e == v then return 1 else return 0 end
  elseif e[1] == "+" then
    return {"+", deriv(e[2], v), deriv(e[3], v)}
  else
    return {"+", {"*", deriv(e[2], v), e[3]}, {"*", e[2], deriv(e[3], v)}}
  end
end

local function mkadd(a, b)
  if a == 0 then return b end
  if b == 0 then return a end
  if type(a) == "number" and type(b) == "number" then return a + b end
  return {"+", a, b}
end

local function mkmul(a, b)
  if a == 0 or b == 0 then return 0 end
  if a == 1 then return b end
  if b == 1 then return a end
  if type(a) == "number" and type(b) == "number" then return a * b end
  return {"*", a, b}
end

local function simplify(e)
  if type(e) ~= "table" then return e end
  local a = simplify(e[2])
  local b = simplify(e[3])
  if e[1] == "+" then return mkadd(a, b) else return mkmul(a, b) end
end

-- size + 1000 * (sum of the constants mod 1000)
local function measure(e)
  local t = type(e)
  if t == "table" then return 1 + measure(e[2]) + measure(e[3])
  elseif t == "number" then return 1 + e % 1000 * 1000
  else return 1 end
end

local tree = gen(DEPTH, 1)
local acc = measure(tree) % 1000003
for i = 1, ROUNDS do
  local v = (i % 2 == 1) and "x" or "y"
  local d = simplify(deriv(tree, v))
  acc = (acc * 31 + measure(d)) % 1000003
end
print(acc)
