ardour {
	["type"]    = "dsp",
	name        = "hotpatch test notes",
	category    = "Utility",
	license     = "ISC",
	author      = "hotpatch tests",
	description = [[Plays an A major chord (MIDI notes 57, 61, 64: A3, C#4,
E4, struck together) every 250 ms, held for 200 ms, locked to the
transport position.  A stand-in for a MIDI region, which Ardour 7.3
cannot create headless (tests/test_ardour.sh; tests/ardour/analyze.py
looks for these three pitches).]]
}

function dsp_ioconfig ()
	return { { midi_in = 1, midi_out = 1, audio_in = 0, audio_out = 0 } }
end

local rate = 48000
function dsp_init (r) rate = r end

local CHORD = { 57, 61, 64 }

function dsp_run (_, _, n_samples)
	if not Session:transport_rolling () then return end
	-- The cycle starts at the transport position (no latent plugins here).
	local t0     = Session:transport_sample ()
	local period = math.floor (rate / 4)
	local hold   = math.floor (rate / 5)
	local m = 1
	local k = math.floor (t0 / period)
	while k * period < t0 + n_samples do
		local on, off = k * period, k * period + hold
		if on >= t0 and on < t0 + n_samples then
			for _, note in ipairs (CHORD) do
				midiout[m] = { time = on - t0 + 1, data = { 0x90, note, 100 } }
				m = m + 1
			end
		end
		if off >= t0 and off < t0 + n_samples then
			for _, note in ipairs (CHORD) do
				midiout[m] = { time = off - t0 + 1, data = { 0x80, note, 0 } }
				m = m + 1
			end
		end
		k = k + 1
	end
end
