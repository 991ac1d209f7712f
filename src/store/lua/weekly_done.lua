-- Marks a weekly report sent (kept 400 days) if the caller still holds its lease. Returns 1.
-- KEYS: weekly
-- ARGV: lease
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], 'done', 'EX', 34560000)
end
return 1
