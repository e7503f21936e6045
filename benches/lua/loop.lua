-- Tail-recursive sum of 1..10,000,000 (peer of programs/loop.menai).
local function loop(i, acc)
  if i > 10000000 then return acc end
  return loop(i + 1, acc + i)
end
print(loop(1, 0))
