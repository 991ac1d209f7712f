-- Records that the triage service has event seq of a tip (if the tip still exists), forgets the
-- event's failed attempts, ends the consumer's hold on the tip, and acknowledges the event.
-- Returns XACK's count.
-- KEYS: tip, events, attempts, busy
-- ARGV: seq, stream_id, group, consumer
if redis.call('EXISTS', KEYS[1]) == 1 then
  local cur = tonumber(redis.call('HGET', KEYS[1], 'fwd_seq') or '0')
  if cur < tonumber(ARGV[1]) then
    redis.call('HSET', KEYS[1], 'fwd_seq', ARGV[1])
  end
end
redis.call('HDEL', KEYS[3], ARGV[2])
if redis.call('GET', KEYS[4]) == ARGV[4] then
  redis.call('DEL', KEYS[4])
end
return redis.call('XACK', KEYS[2], ARGV[3], ARGV[2])
