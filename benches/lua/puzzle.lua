-- IDA* search with the Manhattan-distance heuristic on 15-puzzle instances (peer of programs/puzzle.menai).
local INSTANCES, WALK = 14, 38
local M = 2147483647
local floor = math.floor
local FOUND, INF = -1, 1000000
-- moves 0..3 move the blank up, left, right, down; the inverse of m is 3 - m
local DELTA = {[0] = -4, -1, 1, 4}

local function legal(m, blank)
  if m == 0 then return blank >= 4
  elseif m == 1 then return blank % 4 > 0
  elseif m == 2 then return blank % 4 < 3
  else return blank < 12 end
end

-- DIST[t][p]: Manhattan distance of tile t at position p from its goal position t - 1
local DIST = {}
for t = 1, 15 do
  local row = {}
  for p = 0, 15 do
    local g = t - 1
    row[p] = math.abs(floor(p / 4) - floor(g / 4)) + math.abs(p % 4 - g % 4)
  end
  DIST[t] = row
end

-- a node: tiles (positions 0..15, 0 is the blank), blank position, heuristic
local function move(node, m)
  local tiles, blank = node.tiles, node.blank
  local target = blank + DELTA[m]
  local tile = tiles[target]
  local new = {}
  for p = 0, 15 do new[p] = tiles[p] end
  new[blank] = tile
  new[target] = 0
  return {tiles = new, blank = target,
          h = node.h - DIST[tile][target] + DIST[tile][blank]}
end

local nodes = 0

local function search(node, g, bound, prev)
  nodes = nodes + 1
  local f = g + node.h
  if f > bound then return f end
  if node.h == 0 then return FOUND end
  local min = INF
  for m = 0, 3 do
    if m ~= 3 - prev and legal(m, node.blank) then
      local t = search(move(node, m), g + 1, bound, m)
      if t == FOUND then return FOUND end
      if t < min then min = t end
    end
  end
  return min
end

local function solve(start)
  local bound = start.h
  while true do
    local t = search(start, 0, bound, -1)
    if t == FOUND then return bound end
    bound = t
  end
end

-- a start state: a random walk of WALK moves from the goal that never
-- undoes its previous move
local function scramble(seed)
  local tiles = {}
  for p = 0, 14 do tiles[p] = p + 1 end
  tiles[15] = 0
  local node = {tiles = tiles, blank = 15, h = 0}
  local x, prev = seed, -1
  for _ = 1, WALK do
    local moves, n = {}, 0
    for m = 0, 3 do
      if m ~= 3 - prev and legal(m, node.blank) then n = n + 1; moves[n] = m end
    end
    x = x * 48271 % M
    local m = moves[x % n + 1]
    node = move(node, m)
    prev = m
  end
  return node
end

-- total solution length * 10^8 + nodes searched
local total = 0
for i = 1, INSTANCES do
  local len = solve(scramble(i))
  total = total + len
end
print(total * 100000000 + nodes)
