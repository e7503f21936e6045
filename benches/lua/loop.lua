-- Tail-recursive sum of 1..70,000,000 (peer of programs/loop.menai).
local function loop(i, acc)
  if i > 70000000 then return acc end
  return loop(i + 1, acc + i)
end
print(loop(1, 0))
