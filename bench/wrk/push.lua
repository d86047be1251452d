-- Pushes for wrk: requests.lua (run from this directory), and every answer read for the
-- outcome of each operation it carries ("applied", "duplicate", "conflict", "rejected"), so
-- the benchmark can tell applied operations from refused ones. An answer that is not 200
-- counts as "http_<status>" once.

dofile("requests.lua")

function response(status, _, body)
   if status ~= 200 then
      local key = "http_" .. status
      outcomes[key] = (outcomes[key] or 0) + 1
      return
   end
   for outcome in body:gmatch('"outcome"%s*:%s*"(%a+)"') do
      outcomes[outcome] = (outcomes[outcome] or 0) + 1
   end
end
