-- Replaces a tip past its retention with a tombstone, in one step (see purge.rs): the hash keeps
-- only the fields statistics read (status, times, disposition, sequence numbers) and `json` is
-- the tombstone built by the caller; appends the `purged` event; removes the tip from the
-- citizen's lists and timers, its card links, file copies and file fingerprints, and the citizen's sealed route
-- when no other tip or draft of theirs needs it.
-- The purge's audit record is written in the same call: the two land together or not at all.
-- Returns the event's seq, 0 when the tip is purged already or its status is no longer the one
-- the caller read, -1 when there is no such tip, -2 when the audit head moved since the record
-- was computed (nothing written; the caller computes it again).
-- KEYS: tip, events, my_tips, recent, route, convo, answering, card, card_message, telegram_copies, open, sla, offduty, evidence, audit, audit_head
-- ARGV: code, at_ms, actor, status_read, tombstone_json, audit_head_read, audit_n, audit_at, audit_actor, audit_action, audit_code, audit_detail, audit_prev, audit_hash
if (redis.call('GET', KEYS[16]) or '') ~= ARGV[6] then
  return -2
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
if redis.call('HEXISTS', KEYS[1], 'purged') == 1 then
  return 0
end
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[4] then
  return 0
end
-- The audit record first: Redis does not undo a script's writes when a later command fails,
-- so a record that cannot be written stops the purge before anything of it is done.
redis.call('XADD', KEYS[15], '*', 'n', ARGV[7], 'at', ARGV[8], 'actor', ARGV[9], 'action', ARGV[10],
  'code', ARGV[11], 'detail', ARGV[12], 'prev', ARGV[13], 'hash', ARGV[14], 'v', '2')
redis.call('SET', KEYS[16], ARGV[7] .. ':' .. ARGV[14])
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
