-- Counter closures over captured state, each step returning a new counter (peer of programs/upvalue-counter.menai).
local N = 3500000

-- counter(0) is its value, counter(1) the counter advanced by its step,
-- any other op the same value with the step increased by one
local function make_counter(n, step)
  return function(op)
    if op == 0 then
      return n
    elseif op == 1 then
      return make_counter((n + step) % 1000003, step)
    else
      return make_counter(n, step + 1)
    end
  end
end

local a, b = make_counter(0, 1), make_counter(7, 3)
local acc = 0
for i = 1, N do
  a = a(1)
  if i % 7 == 0 then a = a(2) end
  if a(0) % 3 == 0 then b = b(2) else b = b(1) end
  acc = (acc + a(0) * 3 + b(0)) % 1000003
end
print(acc)
