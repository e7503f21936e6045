-- Sorting 100,000 pseudo-random integers with the library sort and a hand-written merge sort (peer of programs/sort.menai).
local ROUNDS, N = 5, 100000
local M = 2147483647
local floor = math.floor

local function random_array(seed)
  local t, x = {}, seed
  for i = 1, N do
    x = x * 48271 % M
    t[i] = x
  end
  return t
end

local function merge(a, b)
  local r, i, j, k, na, nb = {}, 1, 1, 1, #a, #b
  while i <= na and j <= nb do
    local x, y = a[i], b[j]
    if y < x then r[k] = y; j = j + 1 else r[k] = x; i = i + 1 end
    k = k + 1
  end
  while i <= na do r[k] = a[i]; i = i + 1; k = k + 1 end
  while j <= nb do r[k] = b[j]; j = j + 1; k = k + 1 end
  return r
end

-- top-down merge sort returning a new array
local function msort(t)
  local n = #t
  if n <= 1 then return t end
  local h = floor(n / 2)
  local left, right = {}, {}
  for i = 1, h do left[i] = t[i] end
  for i = h + 1, n do right[i - h] = t[i] end
  return merge(msort(left), msort(right))
end

local function checksum(t)
  local s = 0
  for i = 1, #t do s = (s + t[i] % 1000 * (i % 1000 + 1)) % 1000003 end
  return s
end

local acc = 0
for round = 1, ROUNDS do
  local xs = random_array(round)
  local a = {}
  for i = 1, N do a[i] = xs[i] end
  table.sort(a)
  local b = msort(xs)
  acc = (acc * 31 + checksum(a) + 7 * checksum(b)) % 1000003
end
print(acc)
