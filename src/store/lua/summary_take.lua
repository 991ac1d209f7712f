-- Takes a duty group's due summary for a lease (by moving its due time to lease_until_ms, so
-- only one caller gets it and a crash only delays it) and returns its batch: the codes it
-- lists and how many of its parts were posted. A batch left by a crashed run is returned as it
-- was; otherwise the group's queue becomes the batch. Returns nil when the summary is not due,
-- or when nothing is queued (then the group is no longer due).
-- KEYS: due, queue, batch
-- ARGV: group, now_ms, lease_until_ms
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due or tonumber(due) > tonumber(ARGV[2]) then
  return nil
end
if redis.call('EXISTS', KEYS[3]) == 0 then
  local codes = redis.call('ZRANGE', KEYS[2], 0, -1)
  if #codes == 0 then
    redis.call('ZREM', KEYS[1], ARGV[1])
    return nil
  end
  redis.call('HSET', KEYS[3], 'codes', table.concat(codes, ','), 'posted', 0)
  redis.call('DEL', KEYS[2])
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return redis.call('HMGET', KEYS[3], 'codes', 'posted')
