-- Appends an audit record and moves the head to it, if the head is still the one the caller
-- read (an empty string: none). Returns 1 when appended, 0 when another append came first.
-- KEYS: audit, audit_head
-- ARGV: head_read, n, at_ms, actor, action, code, detail, prev_hash, hash
local head = redis.call('GET', KEYS[2]) or ''
if head ~= ARGV[1] then
  return 0
end
redis.call('XADD', KEYS[1], '*', 'n', ARGV[2], 'at', ARGV[3], 'actor', ARGV[4], 'action', ARGV[5],
  'code', ARGV[6], 'detail', ARGV[7], 'prev', ARGV[8], 'hash', ARGV[9], 'v', '2')
redis.call('SET', KEYS[2], ARGV[2] .. ':' .. ARGV[9])
return 1
