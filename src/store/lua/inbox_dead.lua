-- Gives an inbox entry up: acknowledges and deletes it, and only if it was still pending,
-- appends field_value... (what replays it, and why it failed) to the inbox's dead letters,
-- trimming those older than the retention and letting the list expire after it; a draft
-- timer's queued mark is cleared so the next tick can come. Returns the dead letter's id,
-- or false when the entry was no longer pending (given up or finished before).
-- KEYS: inbox, dlq, tick_queued
-- ARGV: group, stream_id, retention_ms, clear_tick, field_value...
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return false
end
redis.call('XDEL', KEYS[1], ARGV[2])
if ARGV[4] == '1' then
  redis.call('DEL', KEYS[3])
end
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XTRIM', KEYS[2], 'MINID', now_ms - tonumber(ARGV[3]))
local fields = {}
for i = 5, #ARGV do
  table.insert(fields, ARGV[i])
end
local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return id
