-- Replaces a sealed value by the same value sealed again under the current key, only if it
-- has not changed since it was read (compare and set): a string, or one field of a hash.
-- Returns 1 when it was replaced, 0 when it changed meanwhile or is gone.
-- KEYS: key
-- ARGV: field, old, new
if ARGV[1] == '' then
  if redis.call('GET', KEYS[1]) ~= ARGV[2] then
    return 0
  end
  redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL')
else
  if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
    return 0
  end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 1
