-- Replaces a tip past its retention with a tombstone, in one step (see purge.rs): the hash keeps
-- only the fields statistics read (status, times, disposition, sequence numbers) and `json` is
-- the tombstone built by the caller; appends the `purged` event; removes the tip from the
-- citizen's lists and timers, its card links, file copies and file fingerprints, and the citizen's sealed route
-- when no other tip or draft of theirs needs it.
-- Returns the event's seq, 0 when the tip is purged already or its status is no longer the one
-- the caller read, -1 when there is no such tip.
-- KEYS: tip, events, my_tips, recent, route, convo, answering, card, card_message, telegram_copies, open, sla, offduty, evidence
-- ARGV: code, at_ms, actor, status_read, tombstone_json
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
if redis.call('HEXISTS', KEYS[1], 'purged') == 1 then
  return 0
end
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[4] then
  return 0
end
local kept = {}
for _, f in ipairs({'status', 'seq', 'fwd_seq', 'ack_ms', 'claim_ms', 'close_ms', 'disposition'}) do
  local v = redis.call('HGET', KEYS[1], f)
  if v then
    table.insert(kept, f)
    table.insert(kept, v)
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'json', ARGV[5], 'purged', ARGV[2], unpack(kept))
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], '*', 'type', 'purged', 'code', ARGV[1], 'seq', seq,
  'actor', ARGV[3], 'at', ARGV[2])
redis.call('LREM', KEYS[3], 0, ARGV[1])
for _, entry in ipairs(redis.call('LRANGE', KEYS[4], 0, -1)) do
  local ok, recent = pcall(cjson.decode, entry)
  if ok and type(recent) == 'table' and recent.code == ARGV[1] then
    redis.call('LREM', KEYS[4], 0, entry)
  end
end
if redis.call('GET', KEYS[7]) == ARGV[1] then
  redis.call('DEL', KEYS[7])
end
-- The route is the citizen's, not the tip's: it goes with their last tip on record, unless
-- they are writing a report now. An idle conversation goes with it (it holds only the
-- language), so that their next message starts afresh and seals the route again.
if redis.call('LLEN', KEYS[3]) == 0 then
  local convo = redis.call('GET', KEYS[6])
  local idle = not convo
  if convo then
    local ok, c = pcall(cjson.decode, convo)
    idle = ok and type(c) == 'table' and type(c.state) == 'table' and c.state.step == 'idle'
  end
  if idle then
    redis.call('DEL', KEYS[5], KEYS[6])
  end
end
if KEYS[9] ~= KEYS[1] then
  redis.call('DEL', KEYS[9])
end
redis.call('DEL', KEYS[8], KEYS[10], KEYS[14])
if KEYS[11] ~= KEYS[1] then
  redis.call('ZREM', KEYS[11], ARGV[1])
end
redis.call('ZREM', KEYS[12], ARGV[1])
redis.call('ZREM', KEYS[13], ARGV[1])
return seq
