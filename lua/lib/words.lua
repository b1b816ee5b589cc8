--- Words of a text, for the word index and the text conditions (matches, matchesAny,
--- matchesPrefix). One definition, implemented here and in src/query/tokenize.ts (a property test
--- runs both on random Unicode text): a word is a maximal run of bytes other than ASCII whitespace
--- (tab, LF, VT, FF, CR, space) and ASCII punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~); ASCII
--- letters are lowered, every other byte (so every non-ASCII character) is kept as written. Only
--- ASCII bytes separate words, and UTF-8 never uses them inside a character, so words stay whole
--- characters. The pattern and the lowering name bytes explicitly: no locale is involved.
--- tx_words(text) -> { word, ... }, each word once, in order of first appearance
--- tx_match(text, words, mode) -> true when text holds every word of `words` (mode 'all'), one
---   of them ('any'), or a word starting with words[1] ('prefix'); text may be nil
local function tx_words(text)
  local out, seen = {}, {}
  if not text then return out end
  for w in string.gmatch(text, '[^\t\n\v\f\r !-/:-@[-`{-~]+') do
    w = string.gsub(w, '[A-Z]', function(c) return string.char(string.byte(c) + 32) end)
    if not seen[w] then
      seen[w] = true
      out[#out + 1] = w
    end
  end
  return out
end

local function tx_match(text, words, mode)
  local have = tx_words(text)
  if mode == 'prefix' then
    local p = words[1]
    for _, w in ipairs(have) do
      if string.sub(w, 1, #p) == p then return true end
    end
    return false
  end
  local set = {}
  for _, w in ipairs(have) do set[w] = true end
  for _, w in ipairs(words) do
    if set[w] then
      if mode == 'any' then return true end
    elseif mode == 'all' then
      return false
    end
  end
  return mode == 'all'
end
