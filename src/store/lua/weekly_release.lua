-- Gives a weekly report's lease back if the caller still holds it. Returns 1.
-- KEYS: weekly
-- ARGV: lease
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 1
