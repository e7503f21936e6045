-- Backtracking sudoku solver (fewest-candidates cell first) on several hard puzzles (peer of programs/sudoku.menai).
local floor = math.floor
local PUZZLES = {
  "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......",
  "52...6.........7.13...........4..8..6......5...........418.........3..2...87.....",
  "6.....8.3.4.7.................5.4.7.3..2.....1.6.......2.....5.....8.6......1....",
  "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..",
  "85...24..72......9..4.........1.7..23.5...9...4...........8..7..17..........36.4.",
  "..53.....8......2..7..1.5..4....53...1..7...6..32...8..6.5....9..4....3......97..",
  "12..4......5.69.1...9...5.........7.7...52.9..3......2.9.6...5.4..9..8.1..3...9.4",
  "...57..3.1......2.7...234......8...4..7..4...49....6.5.42...3.....7..9....18.....",
  "7..1523........92....3.....1....47.8.......6............9...5.6.4.9.7...8....6.1.",
  "1....7.9..3..2...8..96..5....53..9...1..8...26....4...3......1..4......7..7...3..",
  "1...34.8....8..5....4.6..21.18......3..1.2..6......81.52..7.9....6..9....9.64...2",
}

local function parse(s)
  local grid = {}
  for r = 1, 9 do
    local row = {}
    for c = 1, 9 do
      local ch = s:sub((r - 1) * 9 + c, (r - 1) * 9 + c)
      row[c] = (ch == ".") and 0 or (ch:byte() - 48)
    end
    grid[r] = row
  end
  return grid
end

local function box(r, c)
  return floor((r - 1) / 3) * 3 + floor((c - 1) / 3) + 1
end

local nodes = 0

-- fills grid in place; true when solved
local function solve(grid)
  nodes = nodes + 1
  -- the digits used in each row, column and box
  local rs, cs, bs = {}, {}, {}
  for i = 1, 9 do rs[i] = {}; cs[i] = {}; bs[i] = {} end
  for r = 1, 9 do
    local row = grid[r]
    for c = 1, 9 do
      local v = row[c]
      rs[r][v] = true
      cs[c][v] = true
      bs[box(r, c)][v] = true
    end
  end
  -- the empty cell with the fewest candidates (the first one on ties)
  local best_r, best_c, best_cands, best_len = nil, nil, nil, 10
  for r = 1, 9 do
    local row, rused = grid[r], rs[r]
    for c = 1, 9 do
      if row[c] == 0 then
        local cused, bused = cs[c], bs[box(r, c)]
        local cands, n = {}, 0
        for d = 1, 9 do
          if not (rused[d] or cused[d] or bused[d]) then
            n = n + 1
            cands[n] = d
          end
        end
        if n < best_len then
          best_r, best_c, best_cands, best_len = r, c, cands, n
        end
      end
    end
  end
  if not best_r then return true end
  for i = 1, best_len do
    grid[best_r][best_c] = best_cands[i]
    if solve(grid) then return true end
  end
  grid[best_r][best_c] = 0
  return false
end

local acc = 0
for p = 1, #PUZZLES do
  local grid = parse(PUZZLES[p])
  if not solve(grid) then error("no solution") end
  local sum = 0
  for r = 1, 9 do
    for c = 1, 9 do sum = sum + grid[r][c] * ((r - 1) * 9 + c) end
  end
  acc = (acc * 31 + sum) % 1000003
end
print((acc * 31 + nodes) % 1000003)
