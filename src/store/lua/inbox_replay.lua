-- Replays an inbox dead letter: appends its kind, key and body (the letter's body as sealed by
-- the caller) to the inbox as a new entry and removes the dead letter, in one step. Returns the
-- new entry's id, or false when there is no such dead letter.
-- KEYS: dlq, inbox
-- ARGV: dead_id, body
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then
  return false
end
local f = found[1][2]
local kind, key = '', ''
for i = 1, #f, 2 do
  if f[i] == 'kind' then kind = f[i + 1]
  elseif f[i] == 'key' then key = f[i + 1]
  end
end
local id = redis.call('XADD', KEYS[2], '*', 'kind', kind, 'key', key, 'body', ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[1])
return id
