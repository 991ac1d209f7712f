-- Takes a due SLA timer for a lease by moving it to lease_until_ms: only the caller that moves
-- it gets it. Returns 1 when taken, 0 when it is not due (or gone).
-- KEYS: sla
-- ARGV: code, now_ms, lease_until_ms
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due or tonumber(due) > tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
