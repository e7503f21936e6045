-- Word frequencies: generate a pseudo-random text, split it into words, count them in a table (peer of programs/wordfreq.menai).
local ROUNDS, WORDS = 45, 125000
local M = 2147483647
local floor = math.floor
local SYLLABLES = {"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi",
                   "be", "do", "fu", "gi", "ha", "jo", "ku", "le"}

-- the text: WORDS words of 1 to 3 syllables, each word from one draw of the
-- Park-Miller generator
local function make_text(seed)
  local words = {}
  local x = seed
  for i = 1, WORDS do
    x = x * 48271 % M
    local r = x % 10
    local q = floor(x / 10)
    local w = SYLLABLES[q % 16 + 1]
    if r >= 4 then w = w .. SYLLABLES[floor(q / 16) % 16 + 1] end
    if r >= 8 then w = w .. SYLLABLES[floor(q / 256) % 16 + 1] end
    words[i] = w
  end
  return table.concat(words, " ")
end

local acc = 0
for round = 1, ROUNDS do
  local text = make_text(round)
  local counts = {}
  for w in text:gmatch("[^ ]+") do
    counts[w] = (counts[w] or 0) + 1
  end
  local distinct, top = 0, 0
  for _, c in pairs(counts) do
    distinct = distinct + 1
    if c > top then top = c end
  end
  acc = (acc * 31 + distinct * 1000 + top) % 1000003
end
print(acc)
