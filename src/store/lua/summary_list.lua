-- Decides, once per tip, whether a new citizen's tip goes into its duty group's summary card
-- instead of a card of its own (see summary.rs). A citizen is known when one of their earlier
-- tips (their list of codes) came at least known_after_ms before this one: then 0. Otherwise
-- the tip counts in the hour's new tips, over all and in its commune (when it has one); over
-- either ceiling, it is listed for the group's next summary (and among the group's open tips),
-- the group's summary is due at due_ms unless it is due already, and 1 comes back.
-- A tip already listed returns 2 and changes nothing.
-- KEYS: my_tips, tips, new_tips, new_tips_commune, listed, queue, due, open
-- ARGV: code, received_ms, known_after_ms, window_ms, per_commune, per_hour, has_commune, group, due_ms, listed_ttl_secs
if redis.call('EXISTS', KEYS[5]) == 1 then
  return 2
end
local code = ARGV[1]
local at = tonumber(ARGV[2])
for _, earlier in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if earlier ~= code then
    local when = redis.call('ZSCORE', KEYS[2], earlier)
    if when and tonumber(when) <= at - tonumber(ARGV[3]) then
      return 0
    end
  end
end
local window = tonumber(ARGV[4])
local function count(key)
  redis.call('ZADD', key, at, code)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', at - window - 1)
  redis.call('PEXPIRE', key, window)
  -- Tips of the hour before this one, and later ones counted already (the desk works tips
  -- concurrently): the first ones worked get cards, whatever their order.
  return redis.call('ZCOUNT', key, at - window, '+inf')
end
local over = count(KEYS[3]) > tonumber(ARGV[6])
if ARGV[7] ~= '' and count(KEYS[4]) > tonumber(ARGV[5]) then
  over = true
end
if not over then
  return 0
end
redis.call('SET', KEYS[5], ARGV[8], 'EX', ARGV[10])
redis.call('ZADD', KEYS[6], at, code)
redis.call('ZADD', KEYS[7], 'NX', ARGV[9], ARGV[8])
redis.call('ZADD', KEYS[8], at, code)
return 1
