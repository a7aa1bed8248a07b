-- ardour7-lua check.lua TESTS_ARDOUR_DIR WORK
--
-- Second Ardour process of tests/test_ardour.sh (closing and reopening a
-- session in one process hangs in Ardour 7.3): reopens WORK/session and
-- writes what came back -- presets, control values, the tempo, automation
-- lanes, the session range, the plugin's output controls while rolling in
-- real time -- then saves a snapshot "reopened" (so the plugin saves its
-- restored state again) and exports the session range as create.lua does,
-- to WORK/export2/second.wav and second_quant.wav (and their .f32.wav).
-- Results: WORK/check.txt, in create.lua's format.

local T = dofile (arg[1] .. "/common.lua")
local work = arg[2]
T.open_results (work .. "/check.txt")

local s = load_session (work .. "/session", "hotpatch")
T.check (s ~= nil, "cannot load the session")
T.put ("backend", AudioEngine:current_backend_name ())
T.put ("rate", Session:nominal_sample_rate ())
T.put ("block", Session:get_block_size ())
T.put ("unknown_processors", Session:unknown_processors ():size ())

local function track (name)
	local route = Session:route_by_name (name)
	T.check (not route:isnil (), "no track " .. name .. " after reopening")
	local proc = T.find_hotpatch (route)
	T.check (proc ~= nil, "no hotpatch on track " .. name .. " after reopening")
	local plug = proc:to_insert ():plugin (0)
	local pr = plug:last_preset ()
	T.put ("preset", name, pr.uri, pr.label)
	local t = { name = name, route = route, proc = proc, ctl = T.controls (proc) }
	T.put ("gain", name, T.get (proc, t.ctl["Gain"]))
	T.put ("crossfade", name, T.get (proc, t.ctl["Crossfade"]))
	T.put ("scene_quant", name, T.get (proc, t.ctl["Scene quantize"]))
	return t
end

local scenes = track ("scenes")
local macro = track ("macro")
local quant = track ("quant")
T.put_tempo ()

local function lane (t, label)
	local ctl = t.ctl[label]
	local _, cl, _ = ARDOUR.LuaAPI.plugin_automation (t.proc, ctl.n)
	local ac = t.proc:to_automatable ():automation_control (
		Evoral.Parameter (ARDOUR.AutomationType.PluginAutomation, 0, ctl.port), false)
	return cl, ac
end
local scl, sac = lane (scenes, "Scene")
local mcl, mac = lane (macro, "Macro 1")
local qcl, qac = lane (quant, "Scene")
for k = 0, #T.SCENES * 4 - 1 do
	local sec = (k + 0.5) * T.SEGMENT / 4
	T.put ("lane", string.format ("%.3f", sec), scl:eval (T.at (sec)), string.format ("%.4f", mcl:eval (T.at (sec))),
		qcl:eval (T.at (sec)))
end
T.put ("autostate", sac:automation_state (), mac:automation_state (), qac:automation_state ())

local range = Session:locations ():session_range_location ()
T.check (range ~= nil, "the session has no session range after reopening")
T.put ("session_range", range:start ():samples (), range:_end ():samples ())

sleep (0.5)
local tracks = { scenes, macro, quant }
T.settle_latencies (tracks)
for _, t in ipairs (tracks) do
	T.put ("outputs", t.name, T.get (t.proc, t.ctl["Modules"]), T.get (t.proc, t.ctl["Swaps"]))
end

T.realtime_run (tracks)

T.check (Session:save_state ("reopened", false, false, false, false, false) == 0, "cannot save the snapshot")
T.put ("saved", Session:path ())

-- No range: the session range.
T.export_then_free (work .. "/export2",
	{ { name = "second", channels = { "scenes", "macro" } }, { name = "second_quant", channels = { "quant", "quant" } } },
	tracks)
