-- wrk script for the edge bench's mix workload: each request asks for object floor(N^u) - 1,
-- u uniform in [0, 1): Zipf-like popularity over N objects (object 0 the most requested).
-- Args: N and the path prefix. Each wrk thread seeds its own generator.
local n, prefix = 2000, "/mix/"

function init(args)
  n = tonumber(args[1]) or n
  prefix = args[2] or prefix
  math.randomseed(os.time() * 1000 + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 1000)
end

function request()
  return wrk.format("GET", prefix .. (math.floor(n ^ math.random()) - 1))
end
