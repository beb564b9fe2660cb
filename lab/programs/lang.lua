-- Lua's network stack for lab/lang.sh: LuaSocket (lua-socket). Usage:
--   lua5.4 lang.lua get HOST PORT TIMEOUT [COUNT]   settimeout (a nonblocking connect and
--                                                   select), a GET, the answer to EOF
--   lua5.4 lang.lua server PORT [COUNT|hold]        answers COUNT requests (hold: never answers)
local socket = require("socket")
local mode = arg[1]
if mode == "get" then
  local count = tonumber(arg[5] or "1")
  for i = 1, count do
    local c = socket.tcp()
    c:settimeout(tonumber(arg[4]))
    local ok, err = c:connect(arg[2], tonumber(arg[3]))
    if not ok then print("connect: " .. err); os.exit(1) end
    c:send("GET /lua?n=" .. i .. " HTTP/1.0\r\nHost: lab\r\n\r\n")
    local body, rerr, partial = c:receive("*a")
    if not body then print("receive: " .. rerr .. " after " .. #(partial or "")); os.exit(1) end
    print(i .. ": " .. #body .. " bytes")
    c:close()
  end
elseif mode == "server" then
  local srv = assert(socket.bind("0.0.0.0", tonumber(arg[2])))
  local hold = arg[3] == "hold"
  local count = hold and math.huge or tonumber(arg[3] or "1")
  local n = 0
  while n < count do
    local c = srv:accept()
    n = n + 1
    repeat local line = c:receive("*l") until not line or line == ""
    if hold then socket.sleep(60) end
    local body = "hello from lua\n"
    c:send("HTTP/1.0 200 OK\r\nContent-Length: " .. #body .. "\r\nConnection: close\r\n\r\n" .. body)
    c:close()
  end
  srv:close()
end
