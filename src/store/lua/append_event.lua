-- Appends an event that changes no state, with the tip's next sequence number; with once = '1'
-- only the first time the once key is set (kept a week); with audited = '1' together with its
-- audit record, in this call or not at all. Returns the sequence number, 0 (appended before, or
-- the tip was purged), or -2 (audited, and the audit head moved since the record was computed:
-- nothing written, the caller computes the record again).
-- field_value... are pairs copied into the event.
-- KEYS: tip, events, once, audit, audit_head
-- ARGV: code, event_type, actor, at_ms, once, audited, audit_head_read, audit_n, audit_at, audit_actor, audit_action, audit_code, audit_detail, audit_prev, audit_hash, field_value...
local audited = ARGV[6] == '1'
if audited and (redis.call('GET', KEYS[5]) or '') ~= ARGV[7] then
  return -2
end
-- A purged tip takes no more events: `purged` stays its last.
if redis.call('HEXISTS', KEYS[1], 'purged') == 1 then
  return 0
end
if ARGV[5] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then
  return 0
end
-- The audit record first: Redis does not undo a script's writes when a later command fails,
-- so a record that cannot be written stops the event (and its once mark) before they are written.
if audited then
  redis.call('XADD', KEYS[4], '*', 'n', ARGV[8], 'at', ARGV[9], 'actor', ARGV[10], 'action', ARGV[11],
    'code', ARGV[12], 'detail', ARGV[13], 'prev', ARGV[14], 'hash', ARGV[15], 'v', '2')
  redis.call('SET', KEYS[5], ARGV[8] .. ':' .. ARGV[15])
end
if ARGV[5] == '1' then
  redis.call('SET', KEYS[3], 1, 'EX', 604800)
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local event = {'type', ARGV[2], 'code', ARGV[1], 'seq', seq, 'actor', ARGV[3], 'at', ARGV[4]}
for i = 16, #ARGV do
  table.insert(event, ARGV[i])
end
redis.call('XADD', KEYS[2], '*', unpack(event))
return seq
