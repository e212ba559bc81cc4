-- serve_wrk.lua: the wrk requests of bench/b_serve.sh, for bootmeta serve and etcd alike.
--   wrk ... -s serve_wrk.lua URL -- MODE N [RELEASE]
-- MODE: promote (POST .../channels/cN/promote {"release":R}), get (GET .../channels/cN),
--       put (etcd POST /v3/kv/put), range (etcd POST /v3/kv/range).
-- N: how many channels (or etcd keys) the requests go round; wrk thread t of T takes its own
-- share (channels t*N/T .. (t+1)*N/T-1), so with one connection per channel each write in
-- flight names another channel. b_serve.sh fails the run on wrk's "Non-2xx" count.
local counter = 0
function setup(thread)
	thread:set("tid", counter)
	counter = counter + 1
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
	return ((s:gsub(".", function(x)
		local r, b = "", x:byte()
		for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
		return r
	end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
		if #x < 6 then return "" end
		local c = 0
		for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
		return b64chars:sub(c + 1, c + 1)
	end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

local reqs = {}
local nreq, at = 0, 0

function init(args)
	local mode, n, release = args[1], tonumber(args[2]), args[3] or ""
	local threads = tonumber(args[4] or "1")
	local id = tid or 0
	local from, to = 0, n - 1
	if n >= threads then
		from = math.floor(id * n / threads)
		to = math.floor((id + 1) * n / threads) - 1
	end
	for c = from, to do
		local path, method, body, hdr
		local name = "c" .. c
		if mode == "promote" then
			method, path = "POST", "/v1/projects/bench/app/channels/" .. name .. "/promote"
			body = '{"release":"' .. release .. '"}'
		elseif mode == "get" then
			method, path = "GET", "/v1/projects/bench/app/channels/" .. name
		elseif mode == "put" then
			method, path = "POST", "/v3/kv/put"
			body = '{"key":"' .. b64("bench/" .. name) .. '","value":"' .. b64('{"release":"' .. release .. '"}') .. '"}'
		elseif mode == "range" then
			method, path = "POST", "/v3/kv/range"
			body = '{"key":"' .. b64("bench/" .. name) .. '"}'
		else
			error("serve_wrk.lua: unknown mode " .. tostring(mode))
		end
		hdr = {}
		if body then hdr["Content-Type"] = "application/json" end
		nreq = nreq + 1
		reqs[nreq] = wrk.format(method, path, hdr, body)
	end
end

function request()
	at = at % nreq + 1
	return reqs[at]
end

