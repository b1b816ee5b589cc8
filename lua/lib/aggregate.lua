--- Aggregates of a query's matches, computed where the records are: no record leaves the server.
--- agg_collect(M, fields, group): M the matched record states, fields one entry per aggregate (a
--- hash field to read as a number, or false for a plain count), group the hash field whose stored
--- value groups the matches (nil: one group of all).
--- Returns a flat list, per group (in first-seen order; the client sorts them):
---   '1' and the group's stored value (or '0' and '' for matches without one), the match count,
---   then per aggregate its partial state: n (values present), sum, min, max (min and max '' when
---   n is 0). Partials, not finished values, so that shards' replies merge on the client (the sum
---   of sums, the least min...), and avg is sum / n there.
--- @include "state"
--- @include "fmt-num"
local function agg_collect(M, fields, group)
  local groups, order = {}, {}
  for _, s in ipairs(M) do
    local g = false
    if group then g = st_get(s, group) or false end
    -- a stored value is a string key; the number 0 stands for "no value", which no string equals
    local key = g or 0
    local acc = groups[key]
    if not acc then
      acc = { g = g, count = 0 }
      for i = 1, #fields do acc[i] = { n = 0, sum = 0 } end
      groups[key] = acc
      order[#order + 1] = acc
    end
    acc.count = acc.count + 1
    for i, f in ipairs(fields) do
      if f then
        local v = tonumber(st_get(s, f))
        if v then
          local a = acc[i]
          a.n = a.n + 1
          a.sum = a.sum + v
          if a.min == nil or v < a.min then a.min = v end
          if a.max == nil or v > a.max then a.max = v end
        end
      end
    end
  end
  local out = {}
  for _, acc in ipairs(order) do
    out[#out + 1] = acc.g and '1' or '0'
    out[#out + 1] = acc.g or ''
    out[#out + 1] = string.format('%d', acc.count)
    for i = 1, #fields do
      local a = acc[i]
      out[#out + 1] = string.format('%d', a.n)
      out[#out + 1] = fmt_num(a.sum)
      out[#out + 1] = a.min and fmt_num(a.min) or ''
      out[#out + 1] = a.max and fmt_num(a.max) or ''
    end
  end
  return out
end
