-- Gives an event up: counts it as passed for its tip, forgets its failed attempts, appends
-- field_value... (the event, its id, the error, the attempts) to the dead letters, and
-- acknowledges it. Returns XACK's count.
-- KEYS: tip, events, attempts, dlq
-- ARGV: seq, stream_id, group, field_value...
if redis.call('EXISTS', KEYS[1]) == 1 then
  local cur = tonumber(redis.call('HGET', KEYS[1], 'fwd_seq') or '0')
  if cur < tonumber(ARGV[1]) then
    redis.call('HSET', KEYS[1], 'fwd_seq', ARGV[1])
  end
end
redis.call('HDEL', KEYS[3], ARGV[2])
local fields = {}
for i = 4, #ARGV do
  table.insert(fields, ARGV[i])
end
redis.call('XADD', KEYS[4], '*', unpack(fields))
return redis.call('XACK', KEYS[2], ARGV[3], ARGV[2])
