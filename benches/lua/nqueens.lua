-- N-queens solution count for sizes 1..12 by backtracking, placed rows kept as a stack (peer of programs/nqueens.menai).
local function ok(row, placed, n)
  -- placed[n] is the most recent queen (distance 1), placed[1] the oldest
  local dist = 1
  for i = n, 1, -1 do
    local q = placed[i]
    if q == row or q == row + dist or q == row - dist then return false end
    dist = dist + 1
  end
  return true
end

local function solve(size, col, placed)
  if col == size then return 1 end
  local count = 0
  for row = 0, size - 1 do
    if ok(row, placed, col) then
      placed[col + 1] = row
      count = count + solve(size, col + 1, placed)
      placed[col + 1] = nil
    end
  end
  return count
end

local total = 0
for size = 1, 12 do
  total = total + solve(size, 0, {})
end
print(total)
