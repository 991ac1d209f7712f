-- Applies an officer action to a tip, appends its event and its audit record, if the tip is in
-- a state the action applies to. Returns {seq, new status}, {0, current status}, {-1, ''} (no
-- tip) or {-2, ''} (the audit head moved since the record was computed: nothing written, the
-- caller computes the record again). The audit record lands with the change or not at all.
-- field_value... are pairs set on the tip and copied into the event (`*_by` names stay off it).
-- KEYS: tip, events, audit, audit_head
-- ARGV: code, at_ms, to_status, event_type, actor, from_statuses, audit_head_read, audit_n, audit_at, audit_actor, audit_action, audit_code, audit_detail, audit_prev, audit_hash, field_value...
if (redis.call('GET', KEYS[4]) or '') ~= ARGV[7] then
  return {-2, ''}
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {-1, ''}
end
local status = redis.call('HGET', KEYS[1], 'status')
-- A purged tip is final: no action applies to its tombstone.
if redis.call('HEXISTS', KEYS[1], 'purged') == 1 then
  return {0, status}
end
local allowed = false
for s in string.gmatch(ARGV[6], '[^,]+') do
  if s == status then allowed = true end
end
if not allowed then
  return {0, status}
end
-- The audit record first: Redis does not undo a script's writes when a later command fails,
-- so a record that cannot be written stops the change before anything of it is written.
redis.call('XADD', KEYS[3], '*', 'n', ARGV[8], 'at', ARGV[9], 'actor', ARGV[10], 'action', ARGV[11],
  'code', ARGV[12], 'detail', ARGV[13], 'prev', ARGV[14], 'hash', ARGV[15], 'v', '2')
redis.call('SET', KEYS[4], ARGV[8] .. ':' .. ARGV[15])
redis.call('HSET', KEYS[1], 'status', ARGV[3])
local event = {'type', ARGV[4], 'code', ARGV[1], 'actor', ARGV[5], 'at', ARGV[2]}
for i = 16, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  -- Officers' names stay on the tip for the card; events name officers by alias only.
  if not string.match(ARGV[i], '_by$') then
    table.insert(event, ARGV[i])
    table.insert(event, ARGV[i + 1])
  end
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
table.insert(event, 'seq')
table.insert(event, seq)
redis.call('XADD', KEYS[2], '*', unpack(event))
return {seq, ARGV[3]}
