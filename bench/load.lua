-- Hooks of every benchmark load (bench/wrk.py prepends the data: prepared, expect_status,
-- expect_body (a Lua pattern), rotate_refresh). Requests are built once in init; each
-- response is checked.

local built = {}
local next_index = 0
local queue, queue_head, queue_tail = {}, 1, 0
local refresh_headers = nil

statuses = {}
unexpected = 0

function init(args)
  for i, item in ipairs(prepared) do
    built[i] = wrk.format(item.method, nil, item.headers, item.body)
    if rotate_refresh then
      queue_tail = queue_tail + 1
      queue[queue_tail] = item.body
      refresh_headers = item.headers
    end
  end
end

function request()
  if rotate_refresh and queue_head <= queue_tail then
    local body = queue[queue_head]
    queue[queue_head] = nil
    queue_head = queue_head + 1
    return wrk.format("POST", nil, refresh_headers, body)
  end
  next_index = next_index % #built + 1
  return built[next_index]
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  local ok = status == expect_status
  if ok and expect_body ~= "" then
    ok = body ~= nil and string.find(body, expect_body) ~= nil
  end
  if not ok then
    unexpected = unexpected + 1
  elseif rotate_refresh then
    local token = string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
    if token then
      queue_tail = queue_tail + 1
      queue[queue_tail] = "grant_type=refresh_token&refresh_token=" .. token
    end
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local merged, bad = {}, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
    bad = bad + thread:get("unexpected")
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"unexpected": %d, "statuses": {%s}, "socket": {"connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad, table.concat(parts, ", "), e.connect, e.read, e.write, e.timeout))
end
