-- A plain GET of the URL given to wrk; only the report is added.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
