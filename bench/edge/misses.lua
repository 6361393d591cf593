-- wrk script for the edge bench's miss workload: every request asks for a URL no request asked
-- before (the mix's objects in turn, each with a query of its own), so every request is a miss and
-- an origin fetch in any cache that keys on the query, as Meridian's and Varnish's defaults do.
-- Args: N and the path prefix, as mix.lua's. Each wrk thread gets its own id (setup), so the two
-- threads' URLs never meet.
local n, prefix, counter = 2000, "/mix/", 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  n = tonumber(args[1]) or n
  prefix = args[2] or prefix
end

function request()
  counter = counter + 1
  return wrk.format("GET", prefix .. (counter % n) .. "?miss=" .. id .. "-" .. counter)
end
