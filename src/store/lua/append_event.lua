-- Appends an event that changes no state, with the tip's next sequence number; with once = '1'
-- only the first time the once key is set (kept a week). Returns the sequence number, or 0
-- (appended before, or the tip was purged).
-- field_value... are pairs copied into the event.
-- KEYS: tip, events, once
-- ARGV: code, event_type, actor, at_ms, once, field_value...
-- A purged tip takes no more events: `purged` stays its last.
if redis.call('HEXISTS', KEYS[1], 'purged') == 1 then
  return 0
end
if ARGV[5] == '1' and not redis.call('SET', KEYS[3], 1, 'NX', 'EX', 604800) then
  return 0
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local event = {'type', ARGV[2], 'code', ARGV[1], 'seq', seq, 'actor', ARGV[3], 'at', ARGV[4]}
for i = 6, #ARGV do
  table.insert(event, ARGV[i])
end
redis.call('XADD', KEYS[2], '*', unpack(event))
return seq
