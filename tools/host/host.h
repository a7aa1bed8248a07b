/*
  hotpatch's lilv host, "as real as jalv": hotpatch-render plays scripts
  through it, and the integration tests drive the plugin with it.

  One HpHost loads one plugin (by default urn:hotpatch:synth, or
  urn:hotpatch:fx, from the bundle in $HP_BUNDLE), offers the features real
  hosts offer (urid:map/unmap, options, log, work:schedule,
  state:loadDefaultState, bufsz:boundedBlockLength, and Ardour's inline
  display when asked), runs it block by block and records everything it
  says: audio, notify events, log messages, worker traffic.

  Threads: every hp_host_* function is called from one thread, the test's
  ("the run thread"), except hp_host_save_state(), which may run in another
  thread while hp_host_run() goes on (as LV2 state allows), provided no
  hp_host_set_control() runs at the same time, and hp_host_render_display()
  and hp_host_queue_draws(), as Ardour's GUI thread draws.  The host owns a
  worker thread in HP_WORKER_THREADED mode.

  Real-time checking: the host marks lilv_instance_run(), work_response()
  and end_run() with hp_rt_set_active() (below), which the test programs'
  tests/host/rtcheck.c turns into counts.
*/

#ifndef HP_HOST_H
#define HP_HOST_H

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/urid/urid.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../plugin/display.h"
#include "../../plugin/uris.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct HpHostImpl HpHost;

/** How the host runs the plugin's worker. */
typedef enum {
  /** A worker thread fed by a request ring, like jalv: responses reach
      work_response() after run() in a later cycle, then end_run(). */
  HP_WORKER_THREADED = 0,
  /** work() runs inside schedule_work() and respond() calls
      work_response() at once, like Ardour's freewheel export. */
  HP_WORKER_SYNC,
  /** No work:schedule feature is offered at all. */
  HP_WORKER_NONE
} HpWorkerMode;

/** Host configuration.  All-zero is the default for every field. */
typedef struct {
  const char* plugin_uri; ///< NULL: urn:hotpatch:synth
  const char* bundle;     ///< NULL: $HP_BUNDLE for hotpatch, else LV2_PATH
  /** The audio inputs share the outputs' buffers (in_l with out_l, in_r
      with out_r), as hosts that process in place connect them. */
  bool         in_place;
  double       sample_rate; ///< 0: 48000
  HpWorkerMode worker_mode;
  uint32_t     max_block;     ///< 0: 4096 (bufsz:maxBlockLength)
  uint32_t     min_block;     ///< 0: 1 (bufsz:minBlockLength)
  uint32_t     nominal_block; ///< 0: min(256, max_block)
  bool         no_options;    ///< offer no options feature at all
  bool         no_log;        ///< offer no log feature
  bool no_default_state;      ///< skip loading the plugin's state:state default
  bool strict_features; ///< refuse plugins needing unoffered features (jalv)
  bool poison_outputs;  ///< fill audio outputs with NaN before each run()
  bool pace_realtime;   ///< hp_host_run() waits for each block's wall time
  uint64_t seed;        ///< RNG seed for block sizes and delays; 0: 1
  uint32_t worker_ring_size;    ///< 0: 4096 bytes (jalv 1.6.6), rounded to 2^n
  uint32_t worker_delay_max_us; ///< worker sleeps up to this before each work()
  uint32_t control_capacity;    ///< 0: 256 KiB control sequence buffer
  uint32_t notify_capacity;     ///< 0: 1 MiB notify sequence buffer; else
                                ///< exactly this, even below rsz:minimumSize
  /** Count instructions in the plugin's run() only: callgrind collection is
      toggled on around it (start valgrind with --collect-atstart=no). */
  bool callgrind_run;
  /** Offer idpy:queue_draw, as Ardour does (hp_host_queue_draws()). */
  bool inline_display;
} HpHostConfig;

/** Load, instantiate, connect and activate; NULL on failure (see
    hp_host_last_error()).  `cfg` may be NULL for all defaults. */
HpHost* hp_host_new(const HpHostConfig* cfg);

/** hp_host_new() for test programs, which cannot go on without a host: on
    failure it prints the reason and exits with status 1.  Call it with a
    compound literal, e.g. &(HpHostConfig){.sample_rate = 48000.0}. */
HpHost* hp_host_open(const HpHostConfig* cfg);

/** Deactivate, stop the worker (after it drained its queue), free all. */
void hp_host_free(HpHost* host);

/** Why the last hp_host_* call of this thread failed. */
const char* hp_host_last_error(void);

/** Mapped hotpatch URIs (plugin/uris.h), for building or reading atoms. */
const HpURIs* hp_host_uris(const HpHost* host);

LV2_URID
hp_host_map(HpHost* host, const char* uri);

const char* hp_host_unmap(HpHost* host, LV2_URID urid);

double hp_host_sample_rate(const HpHost* host);

uint32_t hp_host_max_block(const HpHost* host);

/* Ports */

/** True if the plugin has a port with this symbol. */
bool hp_host_has_port(const HpHost* host, const char* symbol);

/** Set an input control port; -1 if there is no such input control. */
int hp_host_set_control(HpHost* host, const char* symbol, float value);

/** Value of an input control port (TTL default until set); NAN if none. */
float hp_host_control_in(const HpHost* host, const char* symbol);

/** Value of an output control port after the last run(); NAN if none. */
float hp_host_control_out(const HpHost* host, const char* symbol);

/* Events in.  Frames are absolute (0 = first frame rendered).  Events are
   delivered in frame order, then in submission order; each goes into the
   control sequence of the block containing its frame.  A frame before
   hp_host_frames() is an error (-1).  The atom is copied. */

int hp_host_send_atom(HpHost* host, uint64_t frame, const LV2_Atom* atom);

int hp_host_send_midi(HpHost*        host,
                      uint64_t       frame,
                      const uint8_t* msg,
                      uint32_t       size);

/** Note on, channel 1. */
int hp_host_note_on(HpHost*  host,
                    uint64_t frame,
                    uint8_t  note,
                    uint8_t  velocity);

/** Note off, channel 1, velocity 64. */
int hp_host_note_off(HpHost* host, uint64_t frame, uint8_t note);

/* The patch protocol (README, "The patch protocol").  `seq` < 0: no
   patch:sequenceNumber.  Return 0 when sent, -1 on error. */

/** Parse one text-protocol line with the engine's own parser (values the
    plugin must refuse are kept) and send it through the plugin's own
    encoder: every command of the protocol's table.  /patch/prime lines
    ride on the next /patch/commit.  Returns 1 (nothing sent) for a blank
    line or a '#' comment. */
int hp_host_send_text(HpHost* host, uint64_t frame, int seq, const char* line);

/** One hp:prime entry: ("mod"|"gate", module, param or NULL, value). */
typedef struct {
  const char* op;
  const char* module;
  const char* param; ///< NULL: the empty atom (none)
  float       value;
} HpPrimeOp;

/** hp:Commit options; all-zero (or NULL) is a bare commit. */
typedef struct {
  bool             set_warmup;
  int32_t          warmup; ///< hp:warmup (blocks)
  bool             set_crossfade;
  float            crossfade; ///< hp:crossfade (ms)
  bool             set_require_signal;
  bool             require_signal;
  const HpPrimeOp* prime; ///< non-NULL: send hp:prime (even with n_prime 0)
  uint32_t         n_prime;
} HpHostCommit;

int hp_host_send_commit(HpHost*             host,
                        uint64_t            frame,
                        int                 seq,
                        const HpHostCommit* opts);

/** patch:Get without patch:property (everything). */
int hp_host_send_patch_get(HpHost* host, uint64_t frame, int seq);

/** patch:Set of `property` to an absolute atom:Path (hp:patchFile). */
int hp_host_send_patch_set_path(HpHost*     host,
                                uint64_t    frame,
                                int         seq,
                                const char* property,
                                const char* path);

/** patch:Set of `property` to any atom value. */
int hp_host_send_patch_set(HpHost*         host,
                           uint64_t        frame,
                           int             seq,
                           const char*     property,
                           const LV2_Atom* value);

/** A forge over a fresh 64 KiB scratch buffer, for hand-made (malformed)
    atoms: build one, then hp_host_send_atom(host, f, hp_host_forge_atom()). */
LV2_Atom_Forge* hp_host_forge(HpHost* host);

/** The first atom written with hp_host_forge() since it was last called. */
const LV2_Atom* hp_host_forge_atom(HpHost* host);

/** The host's transport as a time:Position carries it.  Hosts send some
    properties alone (a tempo change, a stop): only those whose flag is set
    are written, besides time:frame and time:beatUnit 4. */
typedef struct {
  bool    has_bar, has_bar_beat, has_beat, has_beats_per_bar, has_bpm;
  bool    has_speed;
  int64_t frame; ///< time:frame: the transport's position in frames
  int64_t bar;   ///< time:bar, from 0
  float   bar_beat;
  double  beat; ///< time:beat: beats from the song's start
  float   beats_per_bar;
  float   bpm;
  float   speed; ///< 1 rolling, 0 stopped
} HpHostPosition;

/** `pos` as a time:Position object, built with hp_host_forge() (so that a
    test may spoil it before sending it with hp_host_send_atom()); NULL if
    it does not fit. */
const LV2_Atom* hp_host_forge_position(HpHost* host, const HpHostPosition* pos);

/** Send, at `frame`, a whole time:Position as jalv sends it (and
    time:beat): the song at `beat` (the bar and the beat in it follow),
    tempo, bar length, speed (1 rolling, 0 stopped), and time:frame
    `position`, the transport's own frame.  0, or -1 on error. */
int hp_host_send_transport(HpHost*  host,
                           uint64_t frame,
                           int64_t  position,
                           double   beat,
                           float    bpm,
                           float    beats_per_bar,
                           float    speed);

/* Running */

/** Block-size policy for hp_host_render(). */
typedef enum {
  HP_BLOCK_FIXED = 0, ///< every block `size` frames (0: nominal)
  HP_BLOCK_RANDOM     ///< sizes in [min, max] (0: 1 and max_block)
} HpBlockMode;

typedef struct {
  HpBlockMode mode;
  uint32_t    size;
  uint32_t    min;
  uint32_t    max;
} HpBlockPolicy;

/** One run() cycle of `nframes` (1 to max_block): events in, run(), worker
    responses, end_run(), output recorded, notify parsed.  -1 on a bad
    length.  Never waits for the worker. */
int hp_host_run(HpHost* host, uint32_t nframes);

/** The control sequence as the plugin got it in the last run() (NULL if
    the plugin has no atom input), to check what was delivered when. */
const LV2_Atom_Sequence* hp_host_control_sequence(const HpHost* host);

/** The notify sequence as the plugin left it after the last run() (NULL if
    the plugin has no atom output), and the buffer's capacity in bytes, to
    check its atoms byte by byte. */
const LV2_Atom_Sequence* hp_host_notify_sequence(const HpHost* host,
                                                 uint32_t*     capacity);

/** Run blocks until `total_frames` more frames are rendered (the last block
    is cut short to land exactly).  Random sizes draw 1 block in 8 from the
    edges {min, min+1, max-1, max}, the rest uniformly. */
int hp_host_render(HpHost* host, uint64_t total_frames, HpBlockPolicy policy);

/** Threaded mode: wait until the request queue is empty and the worker is
    idle (responses then wait for the next run()).  0, or -1 on timeout.
    Other modes return 0 at once. */
int hp_host_wait_worker(HpHost* host, unsigned timeout_ms);

/** Uniform random integer in [lo, hi] from the host's seeded RNG. */
uint32_t hp_host_random(HpHost* host, uint32_t lo, uint32_t hi);

/* Output */

/** Frames rendered since the host was made (the current position). */
uint64_t hp_host_frames(const HpHost* host);

/* Audio in */

/** Play `n` frames of `l` and `r` (copied) into the plugin's audio inputs
    (in_l and in_r, else its first two), from the current frame on; after
    them, and before any, the inputs are silent.  -1 if the plugin has no
    audio input. */
int hp_host_set_input(HpHost* host, const float* l, const float* r, size_t n);

/** Recorded audio: hp_host_recorded() frames starting at absolute frame
    hp_host_recorded_start().  A mono plugin's output is copied to both. */
const float* hp_host_out_l(const HpHost* host);

const float* hp_host_out_r(const HpHost* host);

size_t hp_host_recorded(const HpHost* host);

uint64_t hp_host_recorded_start(const HpHost* host);

/** Drop the recorded audio; recording goes on from the current position
    (for long soak runs). */
void hp_host_discard_output(HpHost* host);

/** One host block as run. */
typedef struct {
  uint64_t start;
  uint32_t length;
} HpBlock;

const HpBlock* hp_host_blocks(const HpHost* host, size_t* n_blocks);

/** Write the recorded audio as a 32-bit float stereo WAV file. */
int hp_host_write_wav(const HpHost* host, const char* path);

/* Notify events */

#define HP_SEQ_ANY (-2)

typedef enum {
  HP_EV_ACK = 0,       ///< patch:Ack
  HP_EV_ERROR,         ///< patch:Error
  HP_EV_PRIMED,        ///< hp:Primed
  HP_EV_SWAPPED,       ///< hp:Swapped
  HP_EV_STATE_CHANGED, ///< state:StateChanged
  HP_EV_PATCH_SET,     ///< patch:Set
  HP_EV_MIDI,          ///< midi:MidiEvent (eg-fifths)
  HP_EV_OTHER
} HpEventKind;

/** One event read from the notify port (strings are host-owned copies). */
typedef struct HpHostEventImpl {
  HpEventKind kind;
  int32_t     seq;          ///< patch:sequenceNumber, -1 if absent
  char*       message;      ///< hp:message, NULL if absent
  int64_t     generation;   ///< hp:generation, -1 if absent
  int64_t     frame;        ///< hp:frame as sent, -1 if absent
  uint64_t    frame_abs;    ///< block start + hp:frame (Swapped), else + time
  uint64_t    block_start;  ///< absolute frame of the block's first frame
  uint32_t    time;         ///< event time within the block
  double      prime_ms;     ///< hp:primeTime, NAN if absent
  double      warmup_rms;   ///< hp:warmupRms, NAN if absent
  int64_t     module_count; ///< hp:moduleCount, -1 if absent
  char*       property;     ///< patch:Set: patch:property URI
  char*       value_string; ///< patch:Set: String, Path or URI value
  double      value_number; ///< patch:Set: numeric value, NAN otherwise
  uint8_t     midi[8];      ///< MIDI bytes (first 8)
  uint32_t    midi_size;
  LV2_URID    type;  ///< atom type of the event body
  LV2_URID    otype; ///< object type, 0 if not an object
  LV2_Atom*   atom;  ///< copy of the whole event body
} HpHostEvent;

/** Parse a notify sequence into events, as after every run() (block start:
    the current position).  Public so tests can check the parser on
    hand-made sequences.  Returns how many events were added. */
size_t hp_host_parse_notify(HpHost*                  host,
                            const LV2_Atom_Sequence* seq,
                            uint32_t                 capacity);

size_t hp_host_n_events(const HpHost* host);

const HpHostEvent* hp_host_event(const HpHost* host, size_t index);

/** First event of `kind` with `seq` (HP_SEQ_ANY: any), or NULL. */
const HpHostEvent* hp_host_find_event(const HpHost* host,
                                      HpEventKind   kind,
                                      int           seq);

/** First patch:Ack or patch:Error carrying `seq`, or NULL. */
const HpHostEvent* hp_host_find_reply(const HpHost* host, int seq);

/** Run blocks of `block` frames until an event of `kind` with `seq`
    (HP_SEQ_ANY: any) appears after the call began, or `max_frames` more
    frames are rendered (then NULL).  In threaded mode, work may still be
    under way then: use pace_realtime or hp_host_wait_worker() when the
    wall-clock time matters more than the frame count. */
const HpHostEvent* hp_host_run_until(HpHost*     host,
                                     HpEventKind kind,
                                     int         seq,
                                     uint32_t    block,
                                     uint64_t    max_frames);

size_t hp_host_count_events(const HpHost* host, HpEventKind kind);

void hp_host_clear_events(HpHost* host);

const char* hp_host_event_kind_name(HpEventKind kind);

/* Log (LV2 log messages, from any thread) */

/** True if any log message so far contains `substring`. */
bool hp_host_log_contains(HpHost* host, const char* substring);

size_t hp_host_log_count(HpHost* host);

/** Copy message `index` into buf (truncated); its type's URI or NULL. */
const char* hp_host_log_get(HpHost* host, size_t index, char* buf, size_t size);

void hp_host_log_clear(HpHost* host);

/* Worker */

/** Worker traffic since the host was made. */
typedef struct {
  uint64_t schedule_calls;      ///< schedule_work() calls (main worker)
  uint64_t schedule_failures;   ///< of which refused (NO_SPACE, UNKNOWN)
  uint32_t max_request_size;    ///< largest size passed to schedule_work()
  uint64_t work_calls;          ///< work() calls, any thread
  uint64_t respond_calls;       ///< respond() calls
  uint64_t respond_failures;    ///< of which refused (response ring full)
  uint32_t max_response_size;   ///< largest size passed to respond()
  uint64_t responses_delivered; ///< work_response() calls
  uint64_t end_run_calls;
  uint64_t state_schedule_calls; ///< schedule_work() during restore()
} HpWorkerStats;

void hp_host_worker_stats(const HpHost* host, HpWorkerStats* stats);

/** Wall time of the last lilv_instance_run() alone, in nanoseconds. */
uint64_t hp_host_last_run_ns(const HpHost* host);

/* State (lilv_state_*) */

/** hp_host_restore_state() flags. */
typedef enum {
  /** Offer no work:schedule to restore() (Ardour session load, lv2lint). */
  HP_RESTORE_NO_WORKER = 1u << 0u
} HpRestoreFlags;

/** Save the plugin's state into `dir` (created) as dir/state.ttl and keep
    it for hp_host_restore_state().  0 on success. */
int hp_host_save_state(HpHost* host, const char* dir);

/** Restore the last saved state into this instance.  Blocks the worker
    while restore() runs (restore is instantiation-class).  Work that
    restore() schedules runs at once in this thread; its responses reach
    work_response() after the next run(), as jalv 1.6.6 does. */
int hp_host_restore_state(HpHost* host, unsigned flags);

/** Restore from a state file written by hp_host_save_state (any host). */
int hp_host_restore_state_file(HpHost* host, const char* path, unsigned flags);

/** Load a preset by URI (lilv_state_new_from_world) and restore it. */
int hp_host_load_preset(HpHost* host, const char* preset_uri, unsigned flags);

/** Call `func` for every preset of the plugin; returns how many. */
size_t hp_host_list_presets(HpHost* host,
                            void (*func)(const char* uri,
                                         const char* label,
                                         void*       data),
                            void* data);

/** The last saved state as Turtle; free() it.  NULL if none. */
char* hp_host_state_to_string(HpHost* host);

/* Ardour's inline display (plugin/display.h) */

/** The plugin's idpy:interface render(w, h): a picture at most w x h, or
    NULL (no such interface, or nothing drawn).  Ardour calls it from its GUI
    thread while run() goes on: so may one thread here besides the run
    thread. */
const HpDisplaySurface* hp_host_render_display(HpHost*  host,
                                               uint32_t w,
                                               uint32_t h);

/** How many times the plugin called idpy:queue_draw (any thread). */
uint64_t hp_host_queue_draws(const HpHost* host);

/* Real-time marks */

/** Called with true around the plugin's run(), work_response() and
    end_run(), and with false around the host's own code inside them (its
    schedule_work()); returns the previous mark.  The host defines it as a
    weak no-op: the test programs link tests/host/rtcheck.c, whose
    definition replaces it and counts the calls real-time code must not
    make, while shipped programs interpose nothing. */
bool hp_rt_set_active(bool active);

#ifdef __cplusplus
}
#endif

#endif /* HP_HOST_H */
