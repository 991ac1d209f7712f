-- Applies an officer action to a tip and appends its event, if the tip is in a state the
-- action applies to. Returns {seq, new status}, {0, current status} or {-1, ''} (no tip).
-- field_value... are pairs set on the tip and copied into the event (`*_by` names stay off it).
-- KEYS: tip, events
-- ARGV: code, at_ms, to_status, event_type, actor, from_statuses, field_value...
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
redis.call('HSET', KEYS[1], 'status', ARGV[3])
local event = {'type', ARGV[4], 'code', ARGV[1], 'actor', ARGV[5], 'at', ARGV[2]}
for i = 7, #ARGV, 2 do
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
