-- ardour7-lua create.lua TESTS_ARDOUR_DIR WORK SCENES_PRESET MACRO_PRESET
--
-- First Ardour process of tests/test_ardour.sh: makes a 48 kHz session in
-- WORK/session at common.lua's TEMPO with three MIDI tracks playing
-- hotpatch:
--   "scenes": preset SCENES_PRESET, the Scene control automated 0, 1, 2, 0
--             (one second each), panned hard left;
--   "macro":  preset MACRO_PRESET, notes from a Lua DSP processor placed
--             before the instrument, Macro 1 automated as a ramp 0 -> 1,
--             panned hard right;
--   "quant":  preset SCENES_PRESET with Scene quantize at Bar and no
--             crossfade, the Scene control automated off the bar lines
--             (common.lua's QUANT_*), panned to the middle.
-- Rolls it in real time (tracing the plugin's output controls), saves it,
-- and exports WORK/export1/first.wav (and first.f32.wav) with "quant"
-- muted, then first_quant.wav (and .f32.wav) with only "quant" heard: it
-- would mix with the others' drones and chords.  Results:
-- WORK/create.txt.

local T = dofile (arg[1] .. "/common.lua")
local work, scenes_preset, macro_preset = arg[2], arg[3], arg[4]
T.open_results (work .. "/create.txt")

local s = create_session (work .. "/session", "hotpatch", 48000)
T.check (s ~= nil, "cannot create the session")
T.put ("backend", AudioEngine:current_backend_name ())
T.put ("rate", Session:nominal_sample_rate ())
T.put ("block", Session:get_block_size ())
local sr = Session:nominal_sample_rate ()

-- The tempo, before any automation is written (a lane may count in beats).
local tm = Temporal.TempoMap.fetch_writable ()
tm:set_tempo (Temporal.Tempo (T.TEMPO, T.TEMPO, 4), Temporal.timepos_t (0))
Temporal.TempoMap.update (tm)
T.put_tempo ()

local info = ARDOUR.LuaAPI.new_plugin_info (T.URI, ARDOUR.PluginType.LV2)
T.check (not info:isnil (), "Ardour does not find " .. T.URI .. " on LV2_PATH")

local function add_track (name, preset, azimuth, gain_db)
	local tl = Session:new_midi_track (
		ARDOUR.ChanCount (ARDOUR.DataType ("midi"), 1),
		ARDOUR.ChanCount (ARDOUR.DataType ("audio"), 2),
		false, info, nil, nil, 1, name,
		ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
	T.check (tl:size () == 1, "cannot add track " .. name)
	local route = tl:front ()
	local proc = T.find_hotpatch (route)
	T.check (proc ~= nil, "no hotpatch on track " .. name)
	local plug = proc:to_insert ():plugin (0)
	local pr = plug:preset_by_label (preset)
	T.check (pr ~= nil, "no preset labelled '" .. preset .. "'")
	T.check (plug:load_preset (pr), "cannot load preset " .. preset)
	T.put ("preset", name, pr.uri, plug:last_preset ().label)
	-- Pan hard left (0) or right (1); a stereo panner also gets width 0.
	local az, width = route:pan_azimuth_control (), route:pan_width_control ()
	T.check (not az:isnil (), "track " .. name .. " has no panner")
	if not width:isnil () then width:set_value (0, PBD.GroupControlDisposition.NoGroup) end
	az:set_value (azimuth, PBD.GroupControlDisposition.NoGroup)
	local t = { name = name, route = route, proc = proc, ctl = T.controls (proc) }
	-- A plain control value, to be found again after reopening (and some
	-- headroom: the two tracks go to one master).
	T.check (ARDOUR.LuaAPI.set_processor_param (proc, t.ctl["Gain"].n, gain_db), "cannot set Gain")
	return t
end

local scenes = add_track ("scenes", scenes_preset, 0, -3)
local macro = add_track ("macro", macro_preset, 1, -6)
local quant = add_track ("quant", scenes_preset, 0.5, -3)
T.check (ARDOUR.LuaAPI.set_processor_param (quant.proc, quant.ctl["Crossfade"].n, 0), "cannot set Crossfade")
T.check (quant.ctl["Scene quantize"] ~= nil, "no control labelled Scene quantize")
T.check (ARDOUR.LuaAPI.set_processor_param (quant.proc, quant.ctl["Scene quantize"].n, 2), "cannot set Scene quantize")

-- Notes for the "macro" track: a Lua DSP processor before the instrument.
local notes = ARDOUR.LuaAPI.new_luaproc (Session, "hotpatch test notes")
T.check (not notes:isnil (), "the note generator script is not found")
T.check (macro.route:add_processor_by_index (notes, 0, nil, true) == 0, "cannot add the note generator")
local order = {}
local i = 0
while true do
	local p = macro.route:nth_processor (i)
	if p:isnil () then break end
	order[#order + 1] = p:display_name ()
	i = i + 1
end
T.put ("chain", "macro", table.concat (order, "|"))

-- Automation of the Scene control: steps (discrete interpolation).
local function lane (t, label)
	local ctl = t.ctl[label]
	T.check (ctl ~= nil, "no control labelled " .. label)
	local al, cl, pd = ARDOUR.LuaAPI.plugin_automation (t.proc, ctl.n)
	T.check (not al:isnil (), "no automation list for " .. label)
	local ac = t.proc:to_automatable ():automation_control (
		Evoral.Parameter (ARDOUR.AutomationType.PluginAutomation, 0, ctl.port), false)
	T.check (not ac:isnil (), "no automation control for " .. label)
	return al, cl, pd, ac
end

local _, scl, spd, sac = lane (scenes, "Scene")
T.put ("range", "scene", spd.lower, spd.upper)
T.check (scl:set_interpolation (Evoral.InterpolationStyle.Discrete), "scene lane cannot be discrete")
for k, v in ipairs (T.SCENES) do
	scl:add (T.at ((k - 1) * T.SEGMENT), v, false, false)
end
sac:set_automation_state (ARDOUR.AutoState.Play)

local _, qcl, _, qac = lane (quant, "Scene")
T.check (qcl:set_interpolation (Evoral.InterpolationStyle.Discrete), "quant lane cannot be discrete")
for k, v in ipairs (T.QUANT_SCENES) do
	qcl:add (T.at (T.QUANT_POINTS[k]), v, false, false)
end
qac:set_automation_state (ARDOUR.AutoState.Play)

local _, mcl, mpd, mac = lane (macro, "Macro 1")
T.put ("range", "macro1", mpd.lower, mpd.upper)
mcl:add (T.at (0), 0, false, false)
mcl:add (T.at (T.LEN), 1, false, false)
mac:set_automation_state (ARDOUR.AutoState.Play)

-- What the lanes hold, as Ardour evaluates them (compared after reopening).
for k = 0, #T.SCENES * 4 - 1 do
	local sec = (k + 0.5) * T.SEGMENT / 4
	T.put ("lane", string.format ("%.3f", sec), scl:eval (T.at (sec)), string.format ("%.4f", mcl:eval (T.at (sec))),
		qcl:eval (T.at (sec)))
end
T.put ("autostate", sac:automation_state (), mac:automation_state (), qac:automation_state ())

-- A range marker over the test; Lua cannot make it the session range in
-- Ardour 7.3 (Session::set_session_extents is not bound): the shell script
-- turns it into the session range in the saved XML.
Session:locations ():add_range (Temporal.timepos_t (0), T.at (T.LEN))

-- Let the plugins run a moment (the engine runs while stopped).
sleep (0.5)
local tracks = { scenes, macro, quant }
T.settle_latencies (tracks)
for _, t in ipairs (tracks) do
	T.put ("gain", t.name, T.get (t.proc, t.ctl["Gain"]))
	T.put ("crossfade", t.name, T.get (t.proc, t.ctl["Crossfade"]))
	T.put ("scene_quant", t.name, T.get (t.proc, t.ctl["Scene quantize"]))
	T.put ("outputs", t.name, T.get (t.proc, t.ctl["Modules"]), T.get (t.proc, t.ctl["Swaps"]))
end

T.realtime_run (tracks)

T.check (Session:save_state ("", false, false, false, false, false) == 0, "cannot save the session")
T.put ("saved", Session:path ())

T.export_then_free (work .. "/export1",
	{ { name = "first", channels = { "scenes", "macro" } }, { name = "first_quant", channels = { "quant", "quant" } } },
	tracks, 0, math.floor (T.LEN * sr))
