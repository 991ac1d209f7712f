-- Appends a draft timer (tick) of one alias to the inbox unless one of theirs is queued.
-- Returns 1 when it was appended, 0 when one was already queued.
-- KEYS: tick_queued, inbox
-- ARGV: mark_ttl_secs, alias, kind
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], '*', 'kind', ARGV[3], 'key', ARGV[2], 'body', '')
  return 1
end
return 0
