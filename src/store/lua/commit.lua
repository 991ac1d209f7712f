-- The one atomic write of a processed update (see commit.rs): the seen mark, the conversation,
-- the draft timer, the route (kept with the conversation's TTL until the citizen has a tip); on submit the tip, its index, its events, the citizen's lists and
-- the hotspot count (distinct citizens, by alias); and a citizen's answer to an officer's
-- question as an event of that tip.
-- Returns -1 when the update has a mark already, 0 when the tip's code is taken, 1 when done.
-- KEYS: seen, convo, idle, route, tip, tips, events, my_tips, unreachable, answered_tip, recent, hotspot, hotspot_alerted, hotspot_citizens
-- ARGV: replies_json, seen_ttl_secs, conversation_json, conversation_ttl_secs, alias, draft_due_ms, route_sealed, code, tip_json, received_ms, priority, answer_code, answer_text, answer_at_ms, recent_entry, recent_ttl_ms, hotspot_window_ms, hotspot_count, commune, category, hotspot_window_mins
if redis.call('EXISTS', KEYS[1]) == 1 then
  return -1
end
local code = ARGV[8]
if code ~= '' and redis.call('EXISTS', KEYS[5]) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
redis.call('DEL', KEYS[9])
if ARGV[6] == '' then
  redis.call('ZREM', KEYS[3], ARGV[5])
else
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
end
if ARGV[7] ~= '' then
  redis.call('SET', KEYS[4], ARGV[7])
end
if code ~= '' then
  redis.call('HSET', KEYS[5], 'json', ARGV[9], 'status', 'submitted', 'seq', 1)
  redis.call('ZADD', KEYS[6], ARGV[10], code)
  redis.call('XADD', KEYS[7], '*', 'type', 'submitted', 'code', code, 'seq', '1',
    'actor', ARGV[5], 'at', ARGV[10], 'priority', ARGV[11])
  redis.call('LPUSH', KEYS[8], code)
  redis.call('LTRIM', KEYS[8], 0, 19)
  if ARGV[15] ~= '' then
    redis.call('LPUSH', KEYS[11], ARGV[15])
    redis.call('LTRIM', KEYS[11], 0, 9)
    redis.call('PEXPIRE', KEYS[11], ARGV[16])
  end
  if ARGV[17] ~= '' then
    local now = tonumber(ARGV[10])
    local window = tonumber(ARGV[17])
    redis.call('ZADD', KEYS[12], now, code)
    redis.call('ZREMRANGEBYSCORE', KEYS[12], '-inf', now - window)
    redis.call('PEXPIRE', KEYS[12], window)
    -- Citizens, not tips: fifty tips of one person are one citizen.
    redis.call('ZADD', KEYS[14], now, ARGV[5])
    redis.call('ZREMRANGEBYSCORE', KEYS[14], '-inf', now - window)
    redis.call('PEXPIRE', KEYS[14], window)
    local n = redis.call('ZCARD', KEYS[14])
    if n >= tonumber(ARGV[18]) and redis.call('SET', KEYS[13], code, 'NX', 'PX', window) then
      local codes = redis.call('ZRANGE', KEYS[12], 0, -1)
      local seq = redis.call('HINCRBY', KEYS[5], 'seq', 1)
      redis.call('XADD', KEYS[7], '*', 'type', 'hotspot', 'code', code, 'seq', seq,
        'actor', 'system', 'at', ARGV[10], 'commune', ARGV[19], 'category', ARGV[20],
        'count', n, 'window_mins', ARGV[21], 'codes', table.concat(codes, ','))
    end
  end
end
if ARGV[12] ~= '' then
  local seq = redis.call('HINCRBY', KEYS[10], 'seq', 1)
  redis.call('XADD', KEYS[7], '*', 'type', 'citizen_replied', 'code', ARGV[12], 'seq', seq,
    'actor', ARGV[5], 'at', ARGV[14], 'text', ARGV[13])
end
-- The route back to the citizen is kept while a tip of theirs needs it (the purge removes it
-- with their last tip); a citizen with no tip on record keeps it only as long as their
-- conversation, so that one who never reports leaves no route behind.
if redis.call('LLEN', KEYS[8]) == 0 then
  redis.call('EXPIRE', KEYS[4], ARGV[4])
else
  redis.call('PERSIST', KEYS[4])
end
return 1
