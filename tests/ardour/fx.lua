-- ardour7-lua fx.lua TESTS_ARDOUR_DIR WORK PRESET
--
-- Second Ardour process of the effect's part of tests/test_ardour.sh:
-- reopens WORK/fx (fx_session.lua's session, with the imported file on
-- track "echo"), inserts hotpatch fx on that track with preset PRESET
-- (Echo), automates its Macro 2 (mix) as common.lua's FX_MIX steps and
-- exports FX_LEN seconds to WORK/export3/fx.wav (and fx.f32.wav).  It
-- does not save: a retry starts from the same session.  Results:
-- WORK/fx.txt.

local T = dofile (arg[1] .. "/common.lua")
local work, preset = arg[2], arg[3]
T.open_results (work .. "/fx.txt")

local s = load_session (work .. "/fx", "fx")
T.check (s ~= nil, "cannot load the session")
T.put ("backend", AudioEngine:current_backend_name ())
T.put ("rate", Session:nominal_sample_rate ())
T.put ("block", Session:get_block_size ())
local sr = Session:nominal_sample_rate ()

local route = Session:route_by_name ("echo")
T.check (not route:isnil (), "no track echo")
local track = route:to_track ()
T.check (not track:isnil (), "echo is not a track")
-- The imported region, as Ardour read it from the session, and its peak
-- as Ardour reads it from the files.
local regions = track:playlist ():region_list ()
T.put ("regions", regions:size ())
for r in regions:iter () do
	local ar = r:to_audioregion ()
	T.put ("region", r:name (), r:position ():samples (), r:length ():samples (),
		ar:n_channels (), string.format ("%.6f", ar:maximum_amplitude (nil)))
end

local proc = ARDOUR.LuaAPI.new_plugin (Session, T.FX_URI, ARDOUR.PluginType.LV2, "")
T.check (not proc:isnil (), "Ardour does not find " .. T.FX_URI .. " on LV2_PATH")
T.check (route:add_processor_by_index (proc, 0, nil, true) == 0, "cannot insert the effect")
proc = T.find_hotpatch (route, T.FX_URI)
T.check (proc ~= nil, "no hotpatch fx on the track")
local order = {}
local i = 0
while true do
	local p = route:nth_processor (i)
	if p:isnil () then break end
	order[#order + 1] = p:display_name ()
	i = i + 1
end
T.put ("chain", "echo", table.concat (order, "|"))

local plug = proc:to_insert ():plugin (0)
local pr = plug:preset_by_label (preset)
T.check (pr ~= nil, "no preset labelled '" .. preset .. "'")
T.check (plug:load_preset (pr), "cannot load preset " .. preset)
T.put ("preset", "echo", pr.uri, plug:last_preset ().label)
local t = { name = "echo", route = route, proc = proc, ctl = T.controls (proc) }

-- Macro 2 (the preset's mix): steps, like the scene lane of create.lua.
local ctl = t.ctl["Macro 2"]
T.check (ctl ~= nil, "no control labelled Macro 2")
local _, cl, pd = ARDOUR.LuaAPI.plugin_automation (proc, ctl.n)
T.check (cl ~= nil, "no automation list for Macro 2")
local ac = proc:to_automatable ():automation_control (
	Evoral.Parameter (ARDOUR.AutomationType.PluginAutomation, 0, ctl.port), false)
T.check (not ac:isnil (), "no automation control for Macro 2")
T.put ("range", "macro2", pd.lower, pd.upper)
T.check (cl:set_interpolation (Evoral.InterpolationStyle.Discrete), "the Macro 2 lane cannot be discrete")
cl:add (T.at (0), T.FX_MIX[1], false, false)
cl:add (T.at (T.FX_SWITCH), T.FX_MIX[2], false, false)
ac:set_automation_state (ARDOUR.AutoState.Play)
for k = 0, 2 * T.FX_LEN - 1 do
	local sec = (k + 0.5) / 2
	T.put ("lane", string.format ("%.3f", sec), string.format ("%.4f", cl:eval (T.at (sec))))
end
T.put ("switch", T.FX_SWITCH)

-- Let the worker swap the preset's patch in (the engine runs while
-- stopped), then note what plays: Macro 1 where the preset leaves it.
sleep (0.5)
T.put ("macro1", T.get (proc, t.ctl["Macro 1"]))
T.put ("gain", "echo", T.get (proc, t.ctl["Gain"]))
T.put ("outputs", "echo", T.get (proc, t.ctl["Modules"]), T.get (proc, t.ctl["Swaps"]))

T.export_then_free (work .. "/export3", { { name = "fx", channels = { "echo", "echo" } } }, { t },
	0, math.floor (T.FX_LEN * sr))
