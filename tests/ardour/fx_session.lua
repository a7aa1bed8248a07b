-- ardour7-lua fx_session.lua TESTS_ARDOUR_DIR WORK
--
-- First Ardour process of the effect's part of tests/test_ardour.sh: makes
-- a 48 kHz session in WORK/fx with one stereo audio track, "echo", and
-- saves it.  Ardour 7.3's Lua cannot import a sound file (Editor:do_import
-- needs the GUI; Session has no import call bound), so the test imports it
-- as Ardour's import does, into the saved session (analyze.py fx-import),
-- and fx.lua reopens it.  Results: WORK/fx_session.txt.

local T = dofile (arg[1] .. "/common.lua")
local work = arg[2]
T.open_results (work .. "/fx_session.txt")

local s = create_session (work .. "/fx", "fx", 48000)
T.check (s ~= nil, "cannot create the session")
T.put ("backend", AudioEngine:current_backend_name ())
T.put ("rate", Session:nominal_sample_rate ())

local tl = Session:new_audio_track (2, 2, nil, 1, "echo",
	ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
T.check (tl:size () == 1, "cannot add the audio track")
local track = tl:front ()
T.put ("track", track:name (), track:n_inputs ():n_audio (), track:n_outputs ():n_audio ())
-- Saved before Ardour connects the track to the master bus, the track
-- would play to nowhere.
local waited = 0
while not T.to_master (track) and waited < 500 do sleep (0.01); waited = waited + 1 end
T.check (T.to_master (track), "the track's outputs are not connected to the master bus")
T.put ("connected", "master", waited * 10, "ms")

T.check (Session:save_state ("", false, false, false, false, false) == 0, "cannot save the session")
T.put ("saved", Session:path ())
T.put ("done")
