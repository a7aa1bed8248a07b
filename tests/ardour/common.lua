-- Helpers shared by create.lua and check.lua (run by ardour7-lua, loaded
-- with dofile).  Results go to a file, flushed line by line, so that they
-- survive Ardour 7.3's occasional abort at exit.

local M = {}

M.URI = "urn:hotpatch:synth"
M.FX_URI = "urn:hotpatch:fx"
-- The scene timeline (seconds): scene 0, 1, 2, then 0 again, one second
-- each; macro 1 of the other track ramps 0 -> 1 over the same LEN seconds.
M.SCENES = { 0, 1, 2, 0 }
M.SEGMENT = 1.0
M.LEN = #M.SCENES * M.SEGMENT
-- Export preset "hotpatch test: WAV 16-bit and 32-bit float"
-- (tests/ardour/export.preset, installed by test_ardour.sh): in one pass,
-- Ardour's own "WAV (tagged)" format (16-bit, shaped dither: what a user
-- exports) as NAME.wav and the raw 32-bit float values as NAME.f32.wav
-- (float.format), so that an anomaly in the 16-bit file can be placed in
-- the sound itself or in Ardour's conversion.  Ardour pairs a preset's
-- formats with its filename entries: one entry per format.
M.EXPORT_PRESET = "399f9237-b3fc-4730-92d1-f5fbca08ca28"

-- The effect's session (fx_session.lua, fx.lua): FX_LEN seconds of the
-- imported file, the Echo preset's Macro 2 (mix) at FX_MIX[1] until
-- FX_SWITCH seconds, then at FX_MIX[2] (a discrete lane).
M.FX_LEN = 3.5
M.FX_SWITCH = 2.0
M.FX_MIX = { 0.25, 0.75 }

local results = nil

function M.open_results (path)
	results = path
	local f = assert (io.open (path, "w"))
	f:close ()
end

-- One result line: words separated by spaces (python reads them).
function M.put (...)
	local words = {}
	for _, v in ipairs ({ ... }) do words[#words + 1] = tostring (v) end
	local line = table.concat (words, " ")
	local f = assert (io.open (results, "a"))
	f:write (line, "\n")
	f:close ()
	print ("result: " .. line)
end

function M.fail (msg)
	M.put ("fail", msg)
	error (msg)
end

function M.check (cond, msg)
	if not cond then M.fail (msg) end
end

-- The hotpatch insert (the instrument, or the plugin URI) on a route, or
-- nil.
function M.find_hotpatch (route, uri)
	uri = uri or M.URI
	local i = 0
	while true do
		local p = route:nth_plugin (i)
		if p:isnil () then return nil end
		local pi = p:to_insert ()
		if not pi:isnil () and pi:plugin (0):unique_id () == uri then return p end
		i = i + 1
	end
end

-- Control parameters by label ("Scene", "Macro 1", "Modules", ...): the
-- index LuaAPI.plugin_automation and get_processor_param take (the n-th
-- control port) and the LV2 port index.
function M.controls (proc)
	local plug = proc:to_insert ():plugin (0)
	local byname = {}
	local n = 0
	while true do
		local port, refs = plug:nth_parameter (n, true)
		if not refs[2] then break end
		byname[plug:parameter_label (port)] = { n = n, port = port }
		n = n + 1
	end
	return byname
end

function M.get (proc, ctl)
	local v, refs = ARDOUR.LuaAPI.get_processor_param (proc, ctl.n, true)
	M.check (refs[3], "cannot read control " .. ctl.n)
	return v
end

function M.at (sec)
	return Temporal.timepos_t (math.floor (sec * Session:nominal_sample_rate () + 0.5))
end

-- Rolls the transport in real time (the dummy backend runs at 1x) from 0
-- for LEN seconds, sampling the output controls of the given inserts every
-- 20 ms: "trace NAME FRAME MODULES SWAPS" lines.
function M.realtime_run (tracks)
	local sr = Session:nominal_sample_rate ()
	local stop_at = math.floor (M.LEN * sr)
	Session:request_locate (0, false, ARDOUR.LocateTransportDisposition.MustStop, ARDOUR.TransportRequestSource.TRS_UI)
	local waited = 0
	while Session:transport_sample () ~= 0 and waited < 200 do sleep (0.01); waited = waited + 1 end
	sleep (0.3) -- let the stopped-transport automation settle at 0
	Session:request_roll (ARDOUR.TransportRequestSource.TRS_UI)
	waited = 0
	while not Session:transport_rolling () and waited < 500 do sleep (0.01); waited = waited + 1 end
	M.check (Session:transport_rolling (), "the transport does not roll")
	local deadline = (M.LEN + 10) / 0.02
	local steps = 0
	while steps < deadline do
		local pos = Session:transport_sample ()
		for _, t in ipairs (tracks) do
			M.put ("trace", t.name, pos, M.get (t.proc, t.ctl["Modules"]), M.get (t.proc, t.ctl["Swaps"]))
		end
		if pos >= stop_at then break end
		sleep (0.02)
		steps = steps + 1
	end
	Session:request_stop (false, false, ARDOUR.TransportRequestSource.TRS_UI)
	waited = 0
	while Session:transport_rolling () and waited < 500 do sleep (0.01); waited = waited + 1 end
	M.check (steps < deadline, "the transport did not reach the end in time")
end

-- Exports the master bus through the Lua export API to FOLDER/NAME.wav
-- and NAME.f32.wav; without START/END the session range is used.
function M.export (folder, name, start_sample, end_sample)
	local e = Session:simple_export ()
	e:set_folder (folder)
	e:set_name (name)
	if start_sample then e:set_range (start_sample, end_sample) end
	M.check (e:set_preset (M.EXPORT_PRESET), "no export preset \"hotpatch test\"")
	M.check (e:check_outputs (), "export has no master output")
	local ok = e:run_export ()
	M.put ("exported", name, tostring (ok))
	M.check (ok, "export failed")
	e = nil
end

-- Exports (M.export), records each track's plugin outputs after it, then
-- frees the exporter between two markers: Ardour 7.3 sometimes aborts
-- there, and the markers let the test tell that from any other
-- crash.
function M.export_then_free (folder, name, tracks, start_sample, end_sample)
	M.export (folder, name, start_sample, end_sample)
	for _, t in ipairs (tracks) do
		M.put ("after_export", t.name, M.get (t.proc, t.ctl["Modules"]), M.get (t.proc, t.ctl["Swaps"]))
	end
	M.put ("freeing_exporter")
	collectgarbage ()
	M.put ("exporter_freed")
end

return M
