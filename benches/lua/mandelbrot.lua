-- Mandelbrot set membership on a grid: float arithmetic in a tight loop (peer of programs/mandelbrot.menai).
local SIZE, MAXITER = 1000, 200
local STEP = 2.5 / SIZE

local function inset(cr, ci)
  local zr, zi = 0.0, 0.0
  for _ = 1, MAXITER do
    local zr2, zi2 = zr * zr, zi * zi
    if zr2 + zi2 > 4.0 then return 0 end
    zi = 2.0 * zr * zi + ci
    zr = zr2 - zi2 + cr
  end
  return 1
end

local count = 0
for y = 0, SIZE - 1 do
  local ci = -1.25 + y * STEP
  for x = 0, SIZE - 1 do
    count = count + inset(-2.0 + x * STEP, ci)
  end
end
print(count)
