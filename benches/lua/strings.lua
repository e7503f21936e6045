-- String building: concatenation, split into characters and rejoin, substrings, number formatting (peer of programs/strings.menai).
local N = 90000
local PIECES = 12

local acc = 0
for i = 0, N - 1 do
  -- the decimal forms of PIECES pseudo-random numbers
  local pieces = {}
  for j = 0, PIECES - 1 do
    pieces[j + 1] = tostring((i * 7919 + j * 104729) % 1000003)
  end
  -- joined with commas, and again piece by piece with repeated concatenation
  local s = table.concat(pieces, ",")
  local u = ""
  for j = 1, PIECES do u = u .. pieces[j] .. ";" end
  -- split into characters, reversed, joined back
  local chars = {}
  for k = 1, #s do chars[k] = s:sub(k, k) end
  local n = #chars
  local rev = {}
  for k = 1, n do rev[k] = chars[n - k + 1] end
  local r = table.concat(rev)
  -- substrings
  local len = #s
  local t = r:sub(1, 4) .. "|" .. s:sub(len - 3, len) .. "|" .. u:sub(5, 12)
  acc = (acc * 31 + #r + #u + r:byte(i % len + 1) + #t + t:byte(6)) % 1000003
end
print(acc)
