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
-- The session's tempo (4/4): a bar of 1.2 s (57600 frames at 48 kHz), so
-- bar lines fall at 1.2, 2.4 and 3.6 s, none on the scenes track's
-- automation points.  The "quant" track (Scene quantize: Bar) has its
-- Scene lane step to QUANT_SCENES[k] at QUANT_POINTS[k] seconds, 0.3 s
-- after a bar line: each change must wait 0.9 s, for the next bar line.
M.TEMPO = 200
M.QUANT_SCENES = { 0, 1, 2, 0 }
M.QUANT_POINTS = { 0, 0.3, 1.5, 2.7 }
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

-- Whether both outputs of ROUTE are connected to the master bus (Ardour
-- connects a new track from a thread of its own).
function M.to_master (route)
	local master = Session:master_out ():input ()
	for c = 0, 1 do
		if not route:output ():audio (c):connected_to (master:audio (c):name ()) then return false end
	end
	return true
end

-- Ardour 7.3 gives each track the master bus's playback latency (its
-- output's: 272 frames on the dummy backend) in the background, and now
-- and then (about once in 20 sessions, before this wait) left a new
-- track's at 0 -- its Session::update_latency_compensation returns when
-- another update holds its lock.  That track then rolls a block after the
-- others (Ardour's latency preroll holds back the tracks with less latency
-- than the master's) and plays 272 frames late.  Waits for the tracks to
-- be connected and at the master's latency; a laggard's outputs are
-- reconnected after 0.5 s ("reconnected TRACK FRAMES"), for the engine to
-- compute every latency again.  Writes "latency TRACK FRAMES
-- MASTER_FRAMES".
function M.settle_latencies (tracks)
	local master = Session:master_out ()
	local function settled (t)
		return M.to_master (t.route) and t.route:playback_latency (false) == master:playback_latency (false)
	end
	for _, t in ipairs (tracks) do
		local waited = 0
		while not settled (t) and waited < 100 do
			sleep (0.01)
			waited = waited + 1
			if waited == 50 and M.to_master (t.route) then
				M.put ("reconnected", t.name, t.route:playback_latency (false))
				for c = 0, 1 do
					local port, to = t.route:output ():audio (c), master:input ():audio (c):name ()
					M.check (port:disconnect (to) == 0 and port:connect (to) == 0, "cannot reconnect " .. t.name)
				end
			end
		end
		M.check (M.to_master (t.route), "the outputs of " .. t.name .. " are not connected to the master bus")
		M.put ("latency", t.name, t.route:playback_latency (false), master:playback_latency (false))
	end
end

-- The tempo map as Ardour reads it: "tempo BPM BEATS_PER_BAR", then for
-- each bar line TEMPO puts inside LEN seconds "bar FRAME BBT_BEFORE BBT
-- BBT_AFTER": Ardour's BBT there and TICK_FRAMES either side, a little
-- more than one of its ticks (1/1920 beat, 7.5 frames at 200 bpm: it
-- rounds a frame to a tick).
M.TICK_FRAMES = 8
function M.put_tempo ()
	local tm = Temporal.TempoMap.read ()
	local zero = Temporal.timepos_t (0)
	local bpb = tm:meter_at (zero):divisions_per_bar ()
	M.put ("tempo", tm:quarters_per_minute_at (zero), bpb)
	local sr = Session:nominal_sample_rate ()
	local bar = bpb * 60 / M.TEMPO * sr
	local k = 1
	while k * bar < M.LEN * sr do
		local f = math.floor (k * bar + 0.5)
		local function bbt (frame) return tm:bbt_at (Temporal.timepos_t (frame)):str () end
		M.put ("bar", f, bbt (f - M.TICK_FRAMES), bbt (f), bbt (f + M.TICK_FRAMES))
		k = k + 1
	end
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

-- The exporters of a process (one an export: a second run of one
-- exports nothing), kept to be freed together (export_then_free says
-- why).
local exporters = {}

-- Exports the master bus through the Lua export API to FOLDER/NAME.wav
-- and NAME.f32.wav; without START/END the session range is used.
function M.export (folder, name, start_sample, end_sample)
	local e = Session:simple_export ()
	exporters[#exporters + 1] = e
	e:set_folder (folder)
	e:set_name (name)
	if start_sample then e:set_range (start_sample, end_sample) end
	M.check (e:set_preset (M.EXPORT_PRESET), "no export preset \"hotpatch test\"")
	M.check (e:check_outputs (), "export has no master output")
	local ok = e:run_export ()
	M.put ("exported", name, tostring (ok))
	M.check (ok, "export failed")
end

-- Makes each export of EXPORTS ({ name = NAME, channels = { LEFT, RIGHT
-- } }: the track heard in each channel, "channels NAME LEFT RIGHT") in
-- turn with M.export, the other tracks muted, and records each track's
-- plugin outputs after it ("after_export NAME TRACK MODULES SWAPS"); then
-- frees the exporters between two markers: Ardour 7.3 sometimes aborts
-- there, and the markers let the test tell that from any other crash.
function M.export_then_free (folder, exports, tracks, start_sample, end_sample)
	for _, x in ipairs (exports) do
		M.put ("channels", x.name, x.channels[1], x.channels[2])
		local heard = {}
		for _, name in ipairs (x.channels) do heard[name] = true end
		-- A mute is applied in a process cycle: wait for it.
		local function muted_as_asked ()
			for _, t in ipairs (tracks) do
				if (t.route:mute_control ():get_value () ~= 0) == (heard[t.name] or false) then return false end
			end
			return true
		end
		for _, t in ipairs (tracks) do
			t.route:mute_control ():set_value (heard[t.name] and 0 or 1, PBD.GroupControlDisposition.NoGroup)
		end
		local waited = 0
		while not muted_as_asked () and waited < 500 do sleep (0.01); waited = waited + 1 end
		M.check (muted_as_asked (), "the tracks are not muted as export " .. x.name .. " asks")
		M.export (folder, x.name, start_sample, end_sample)
		for _, t in ipairs (tracks) do
			M.put ("after_export", x.name, t.name, M.get (t.proc, t.ctl["Modules"]), M.get (t.proc, t.ctl["Swaps"]))
		end
	end
	M.put ("freeing_exporter")
	exporters = {}
	collectgarbage ()
	M.put ("exporter_freed")
end

return M
