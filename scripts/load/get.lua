-- GET one path with the bearer token of LOAD_TOKEN (none for the trivial endpoint).
dofile(os.getenv("LOAD_SCRIPTS") .. "/common.lua")
local token = os.getenv("LOAD_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.method = "GET"
wrk.path = os.getenv("LOAD_PATH")
