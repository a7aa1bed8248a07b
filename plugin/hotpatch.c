/*
  hotpatch LV2 glue, in lifecycle order: instantiate, connect_port, run,
  the worker, cleanup.  The engine (src/) does the work; this file only
  translates between LV2 and it.  Two plugins share all of it: the
  instrument (urn:hotpatch:synth) and the effect (urn:hotpatch:fx), which
  has audio inputs besides and a patch that reads them.

  Threading classes (LV2):
  - instantiate, cleanup: instantiation class (no other call concurrent).
  - run, connect_port: audio class.
  - work: the host's worker thread; work_response: audio class.
*/

#include "atoms.h"
#include "display.h"
#include "engine.h"
#include "uris.h"

#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/core/lv2.h>
#include <lv2/core/lv2_util.h>
#include <lv2/log/logger.h>
#include <lv2/options/options.h>
#include <lv2/state/state.h>
#include <lv2/worker/worker.h>

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a new instance plays: a classic monosynth, silent until a note. */
static const char* const default_patch =
  "/patch/clear\n"
  "/patch/create midi midi\n"
  "/patch/create osc saw\n"
  "/patch/create env adsr\n"
  "/patch/create filt biquad\n"
  "/patch/connect midi:freq osc:freq\n"
  "/patch/connect midi:gate env:gate\n"
  "/patch/connect osc env\n"
  "/patch/connect env filt\n"
  "/patch/set osc gain 0.4\n"
  "/patch/set env attack 5\n"
  "/patch/set env decay 200\n"
  "/patch/set env sustain 0.6\n"
  "/patch/set env release 250\n"
  "/patch/macro 1 filt:cutoff 100 12000 exp\n"
  "/patch/macro 2 filt:q 0.5 12 exp\n";

/* What a new effect plays: its inputs to its outputs, unchanged (the
   module `input` unconnected goes to the outputs as a stereo pair). */
static const char* const fx_default_patch = "/patch/clear\n"
                                            "/patch/create in input\n";

/* The token run() schedules: the work itself waits in the engine's own
   queues, so worker messages stay tiny whatever the host's ring size. */
static const char work_token[4] = {'w', 'o', 'r', 'k'};

typedef struct {
  /* Ports */
  const LV2_Atom_Sequence* control;
  LV2_Atom_Sequence*       notify;
  float*                   out_l;
  float*                   out_r;
  const float*             in_l; /* the effect's; NULL for the instrument */
  const float*             in_r;
  const float*             gain;
  const float*             crossfade;
  const float*             scene;
  const float*             scene_quant;
  const float*             macro[8];
  float*                   swaps;
  float*                   prime_ms;
  float*                   modules;

  /* Features */
  LV2_URID_Map*        map;
  LV2_Worker_Schedule* schedule;
  LV2_Log_Logger       logger;

  HpURIs         uris;
  LV2_Atom_Forge forge;
  HpEngine*      engine;
  HpDisplay*     display;        /* Ardour's inline display */
  int            last_scene;     /* the scene control's last value, or -1 */
  atomic_int     restored_scene; /* restore() -> run(): the bank's, or -1 */
  float          live_reload;    /* last hp:liveReload sent to the engine */

  /* Scratch for one decoded message (audio thread). */
  HpOp ops[HP_MAX_MESSAGE_OPS];

  /* The engine's next reply, taken but not yet written to notify (audio
     thread): it leaves only once it is written whole, so a full notify
     delays replies to the next cycles instead of cutting or dropping
     them. */
  HpEvent pending;
  bool    has_pending;
} Hotpatch;

/* Worker thread (or instantiate/restore): log through the host. */
static void
log_message(void* const handle, const bool error, const char* const message)
{
  Hotpatch* self = (Hotpatch*)handle;
  if (self->logger.log) {
    if (error) {
      lv2_log_error(&self->logger, "hotpatch: %s\n", message);
    } else {
      lv2_log_note(&self->logger, "hotpatch: %s\n", message);
    }
  } else {
    fprintf(stderr, "hotpatch: %s\n", message);
  }
}

/* The engine asks for work: one small token, the work itself waits in the
   engine's own queues (so worker messages stay tiny whatever the host's
   ring size).  Audio thread. */
static bool
schedule(void* const handle)
{
  const Hotpatch* const self = (const Hotpatch*)handle;
  return self->schedule->schedule_work(self->schedule->handle,
                                       sizeof(work_token),
                                       work_token) == LV2_WORKER_SUCCESS;
}

static LV2_Handle
instantiate(const LV2_Descriptor* const     descriptor,
            const double                    rate,
            const char* const               bundle_path,
            const LV2_Feature* const* const features)
{
  (void)bundle_path;
  const bool effect = !strcmp(descriptor->URI, HP_FX_URI);
  Hotpatch*  self   = (Hotpatch*)calloc(1, sizeof(Hotpatch));
  if (!self) {
    return NULL;
  }
  const LV2_Options_Option* options    = NULL;
  LV2_Log_Log*              log        = NULL;
  const HpDisplayQueueDraw* queue_draw = NULL;
  const char* const         missing    = lv2_features_query(features,
                                                 LV2_LOG__log,
                                                 &log,
                                                 false,
                                                 LV2_OPTIONS__options,
                                                 &options,
                                                 false,
                                                 HP_IDPY__queue_draw,
                                                 &queue_draw,
                                                 false,
                                                 LV2_URID__map,
                                                 &self->map,
                                                 true,
                                                 LV2_WORKER__schedule,
                                                 &self->schedule,
                                                 true,
                                                 NULL);
  lv2_log_logger_init(&self->logger, self->map, log);
  if (missing) {
    lv2_log_error(&self->logger,
                  "hotpatch: the host lacks the required feature %s; "
                  "hotpatch needs urid:map and work:schedule\n",
                  missing);
    free(self);
    return NULL;
  }
  hp_map_uris(self->map, &self->uris);
  lv2_atom_forge_init(&self->forge, self->map);

  /* The engine splits host blocks itself, so block-length options are not
     needed; a sample rate option overrides the argument (some hosts). */
  float sample_rate = (float)rate;
  for (const LV2_Options_Option* o = options; o && o->key; ++o) {
    if (o->key == self->uris.param_sampleRate &&
        o->type == self->uris.atom_Float) {
      sample_rate = *(const float*)o->value;
    }
  }
  if (!(sample_rate >= 1000.0f && sample_rate <= 1536000.0f)) {
    lv2_log_error(&self->logger,
                  "hotpatch: sample rate %g Hz unsupported\n",
                  (double)sample_rate);
    free(self);
    return NULL;
  }
  self->last_scene = -1;
  atomic_init(&self->restored_scene, -1);
  self->live_reload = -1.0f;
  self->display     = hp_display_new(sample_rate, queue_draw);
  self->engine      = self->display
                        ? hp_engine_new(sample_rate,
                                   log_message,
                                   schedule,
                                   self,
                                   effect ? fx_default_patch : default_patch,
                                   effect)
                        : NULL;
  if (!self->engine) {
    lv2_log_error(&self->logger, "hotpatch: out of memory\n");
    hp_display_free(self->display);
    free(self);
    return NULL;
  }
  return (LV2_Handle)self;
}

static void
connect_port(LV2_Handle const instance, const uint32_t port, void* const data)
{
  Hotpatch* self = (Hotpatch*)instance;
  switch ((HpPortIndex)port) {
  case HP_PORT_CONTROL:
    self->control = (const LV2_Atom_Sequence*)data;
    break;
  case HP_PORT_NOTIFY:
    self->notify = (LV2_Atom_Sequence*)data;
    break;
  case HP_PORT_OUT_L:
    self->out_l = (float*)data;
    break;
  case HP_PORT_OUT_R:
    self->out_r = (float*)data;
    break;
  case HP_PORT_GAIN:
    self->gain = (const float*)data;
    break;
  case HP_PORT_CROSSFADE:
    self->crossfade = (const float*)data;
    break;
  case HP_PORT_SCENE:
    self->scene = (const float*)data;
    break;
  case HP_PORT_SCENE_QUANT:
    self->scene_quant = (const float*)data;
    break;
  case HP_PORT_SWAPS:
    self->swaps = (float*)data;
    break;
  case HP_PORT_PRIME_MS:
    self->prime_ms = (float*)data;
    break;
  case HP_PORT_MODULES:
    self->modules = (float*)data;
    break;
  case HP_PORT_IN_L:
    self->in_l = (const float*)data;
    break;
  case HP_PORT_IN_R:
    self->in_r = (const float*)data;
    break;
  case HP_N_PORTS:
    break;
  default:
    if (port >= HP_PORT_MACRO1 && port <= HP_PORT_MACRO8) {
      self->macro[port - HP_PORT_MACRO1] = (const float*)data;
    }
    break;
  }
}

/* This cycle's notify sequence: where events go, and where it began. */
typedef struct {
  LV2_Atom_Forge_Frame frame;
  uint32_t             start; /* forge offset of the first event */
  uint32_t             last;  /* event times never go backwards */
  uint32_t             n_frames;
} Notify;

/* Event times stay inside the block (an event stamped n_frames answers at
   n_frames - 1) and never go backwards. */
static uint32_t
notify_time(Notify* const n, const uint32_t frame)
{
  const uint32_t end = n->n_frames ? n->n_frames - 1u : 0u;
  const uint32_t t   = frame < end ? frame : end;
  if (t > n->last) {
    n->last = t;
  }
  return n->last;
}

static bool
write_event(Hotpatch* const self, Notify* const n, const HpEvent* const event)
{
  const uint32_t time = notify_time(n, event->frame); /* 0 but at swaps */
  if (event->type == HP_EVENT_PATCH && event->history) {
    return hp_atom_write_history(&self->forge,
                                 &self->uris,
                                 time,
                                 event->seq,
                                 event->text,
                                 event->text_len);
  }
  if (event->type == HP_EVENT_PATCH) {
    return hp_atom_write_patch(&self->forge,
                               &self->uris,
                               time,
                               event->seq,
                               event->text,
                               event->text_len,
                               event->message,
                               event->live_reload);
  }
  bool ok = hp_atom_write_event(&self->forge, &self->uris, time, event);
  if (ok && event->type == HP_EVENT_SWAPPED) {
    /* The patch changed: hosts mark the session as modified. */
    LV2_Atom_Forge_Frame obj;
    ok = lv2_atom_forge_frame_time(&self->forge, time) &&
         lv2_atom_forge_object(
           &self->forge, &obj, 0, self->uris.state_StateChanged);
    if (ok) {
      lv2_atom_forge_pop(&self->forge, &obj);
    }
  }
  return ok;
}

/* Take back what a write that ran out of room left in the sequence. */
static void
rewind_notify(LV2_Atom_Forge* const forge,
              Notify* const         n,
              const uint32_t        offset,
              const uint32_t        size)
{
  forge->offset                                   = offset;
  forge->stack                                    = &n->frame;
  lv2_atom_forge_deref(forge, n->frame.ref)->size = size;
}

/* Write one event whole or not at all, so notify only ever holds
   well-formed atoms.  True when the event is done with: written, or too
   large for even an empty notify (it never will fit: a patch reply becomes
   an error saying so, an error's message is cut short), or there is no notify
   buffer at all. */
static bool
send_event(Hotpatch* const self, Notify* const n, HpEvent* const event)
{
  LV2_Atom_Forge* const forge = &self->forge;
  if (!n->frame.ref) {
    return true;
  }
  const uint32_t offset = forge->offset;
  const uint32_t size   = lv2_atom_forge_deref(forge, n->frame.ref)->size;
  if (write_event(self, n, event)) {
    return true;
  }
  rewind_notify(forge, n, offset, size);
  if (offset > n->start) {
    return false; /* the next cycle's empty notify may take it */
  }
  /* An error too long for the whole notify the host gives: its start,
     shorter and shorter (the log has it whole). */
  for (size_t len = strlen(event->message);
       event->type == HP_EVENT_ERROR && len > 16u;) {
    len /= 2u;
    memcpy(event->message + len, "...", 4);
    if (write_event(self, n, event)) {
      return true;
    }
    rewind_notify(forge, n, offset, size);
  }
  if (event->type == HP_EVENT_PATCH &&
      !hp_atom_write_error(forge,
                           &self->uris,
                           notify_time(n, 0),
                           event->seq,
                           "the patch does not fit in the notify buffer the "
                           "host gave")) {
    rewind_notify(forge, n, offset, size);
  }
  return true;
}

/* Write the engine's notifications (acks, errors, Primed, Swapped, the
   patch:Get reply), in order, until notify is full. */
static void
flush_events(Hotpatch* const self, Notify* const n)
{
  while (self->has_pending ||
         hp_engine_next_event(self->engine, &self->pending)) {
    self->has_pending = true;
    if (!send_event(self, n, &self->pending)) {
      return;
    }
    self->has_pending = false;
  }
}

static void
handle_object(Hotpatch* const              self,
              const LV2_Atom_Object* const obj,
              Notify* const                n)
{
  uint32_t n_ops = 0;
  int32_t  seq   = HP_NO_SEQ;
  HpError  err;
  err.message[0] = '\0';
  if (hp_atom_decode(&self->uris, obj, self->ops, &n_ops, &seq, &err)) {
    hp_engine_reject(self->engine, seq, &err);
  } else {
    const HpOp* const op = &self->ops[0];
    if (n_ops == 1 && op->type == HP_OP_LIVE_RELOAD && op->seq == HP_NO_SEQ &&
        op->reload == (self->live_reload > 0.0f)) {
      return; /* automation repeats the value every cycle (Ardour) */
    }
    if (n_ops == 1 && op->type == HP_OP_LIVE_RELOAD) {
      self->live_reload = op->reload ? 1.0f : 0.0f;
    }
    hp_engine_message(self->engine, self->ops, n_ops, seq);
  }
  flush_events(self, n); /* many swaps may happen in one block */
}

/* A control input clamped to its range, as ttl/plugin.ttl.in declares it:
   hosts may send anything (Ardour automation, a typed value).  False when
   the port is not connected or the value is not finite: the last good
   value stays. */
static bool
read_control(const float* const port,
             const float        min,
             const float        max,
             float* const       value)
{
  if (!port || !isfinite(*port)) {
    return false;
  }
  *value = *port < min ? min : *port > max ? max : *port;
  return true;
}

static void
run(LV2_Handle const instance, const uint32_t n_frames)
{
  Hotpatch* const self = (Hotpatch*)instance;
  HpEngine* const e    = self->engine;

  float value = 0.0f;
  if (read_control(self->gain, -90.0f, 12.0f, &value)) {
    hp_engine_set_gain_db(e, value);
  }
  if (read_control(self->crossfade, 0.0f, 2000.0f, &value)) {
    hp_engine_set_crossfade_ms(e, value);
  }
  for (uint32_t m = 0; m < 8; ++m) {
    if (read_control(self->macro[m], 0.0f, 1.0f, &value)) {
      hp_engine_macro(e, m, value);
    }
  }
  /* A restored bank plays its active scene as if the control had chosen
     it: a control that says otherwise (the host set it, or saved it so)
     then wins, so the two agree, as they do after the host applies a
     preset's or a session's port values. */
  const int restored =
    atomic_exchange_explicit(&self->restored_scene, -1, memory_order_acquire);
  if (restored >= 0) {
    self->last_scene = restored;
  }
  const uint32_t capacity = self->notify ? self->notify->atom.size : 0;
  lv2_atom_forge_set_buffer(&self->forge, (uint8_t*)self->notify, capacity);
  Notify notify;
  memset(&notify, 0, sizeof(notify));
  lv2_atom_forge_sequence_head(&self->forge, &notify.frame, 0);
  notify.start    = self->forge.offset;
  notify.n_frames = n_frames;

  hp_engine_begin(e, n_frames);
  /* The instrument's are NULL: its `input` is refused anyway. */
  hp_engine_input(e, self->in_l, self->in_r);
  if (read_control(self->scene, 0.0f, 7.0f, &value)) {
    /* A new scene hot-swaps through the worker like a commit (an exporting
       host swaps at this block's start). */
    const int scene = (int)(value + 0.5f);
    /* The scene's swap waits for the beat or the bar line if asked. */
    float quant = 0.0f;
    if (read_control(self->scene_quant, 0.0f, 2.0f, &quant)) {
      quant = quant >= 1.5f ? HP_QUANT_BAR : quant >= 0.5f ? 1.0f : 0.0f;
    }
    if (scene != self->last_scene &&
        hp_engine_select_scene(e, (uint32_t)scene, quant)) {
      self->last_scene = scene;
    }
  }
  uint32_t pos = 0;
  if (self->control) {
    LV2_ATOM_SEQUENCE_FOREACH(self->control, ev)
    {
      /* Hosts stamp events up to n_frames (jalv) or n_frames - 1 (Ardour):
         clamp into the block. */
      int64_t        t     = ev->time.frames;
      const uint32_t frame = t < (int64_t)pos        ? pos
                             : t > (int64_t)n_frames ? n_frames
                                                     : (uint32_t)t;
      if (frame > pos) {
        hp_engine_render(e, self->out_l + pos, self->out_r + pos, frame - pos);
        pos = frame;
      }
      const LV2_Atom_Object* const obj = (const LV2_Atom_Object*)&ev->body;
      const bool object = ev->body.type == self->uris.atom_Object ||
                          ev->body.type == self->uris.atom_Blank;
      HpPosition position;
      if (ev->body.type == self->uris.midi_MidiEvent) {
        hp_engine_midi(
          e, (const uint8_t*)LV2_ATOM_BODY_CONST(&ev->body), ev->body.size);
      } else if (object && obj->body.otype != self->uris.time_Position) {
        handle_object(self, obj, &notify);
      } else if (object && hp_atom_read_position(&self->uris, obj, &position)) {
        /* The host's transport from this frame on; one that is not
           well-formed is ignored quietly, as any other host data. */
        hp_engine_time(e,
                       position.beat,
                       position.bar_beat,
                       position.bpm,
                       position.beats_per_bar,
                       position.speed);
      }
    }
  }
  if (pos < n_frames) {
    hp_engine_render(e, self->out_l + pos, self->out_r + pos, n_frames - pos);
  }
  hp_engine_end(e);

  flush_events(self, &notify);
  if (notify.frame.ref) {
    lv2_atom_forge_pop(&self->forge, &notify.frame);
  }

  HpEngineStatus status;
  hp_engine_status(e, &status);
  if (self->swaps) {
    *self->swaps = (float)status.swaps;
  }
  if (self->prime_ms) {
    *self->prime_ms = status.last_prime_ms;
  }
  if (self->modules) {
    *self->modules = (float)status.module_count;
  }
  hp_display_run(self->display, self->out_l, self->out_r, n_frames, &status);
}

static LV2_Worker_Status
work(LV2_Handle const                  instance,
     const LV2_Worker_Respond_Function respond,
     const LV2_Worker_Respond_Handle   handle,
     const uint32_t                    size,
     const void* const                 data)
{
  (void)respond;
  (void)handle;
  (void)size;
  (void)data;
  hp_engine_work(((Hotpatch*)instance)->engine);
  return LV2_WORKER_SUCCESS;
}

/* The worker publishes a ready standby itself (one atomic store, seen by
   run() at cycle start or right after scheduling), so no response is ever
   sent: hosts deliver responses late (Carla) or from another thread (Ardour
   preset load), and readiness must not depend on either. */
static LV2_Worker_Status
work_response(LV2_Handle const  instance,
              const uint32_t    size,
              const void* const body)
{
  (void)instance;
  (void)size;
  (void)body;
  return LV2_WORKER_SUCCESS;
}

/* Paths from mapPath are freed by the host's freePath when it has one. */
static void
free_path(const LV2_Feature* const* const features, char* const path)
{
  const LV2_State_Free_Path* fp = (const LV2_State_Free_Path*)lv2_features_data(
    features, LV2_STATE__freePath);
  if (fp && path) {
    fp->free_path(fp->handle, path);
  } else {
    free(path);
  }
}

/* State: the bank as one patch document string (hosts round-trip strings
   faithfully).  save() may run while run() does: it takes only the
   worker's lock. */
static LV2_State_Status
save(LV2_Handle const                instance,
     const LV2_State_Store_Function  store,
     const LV2_State_Handle          handle,
     const uint32_t                  flags,
     const LV2_Feature* const* const features)
{
  (void)flags;
  Hotpatch* self = (Hotpatch*)instance;
  char*     doc  = hp_engine_save_document(self->engine);
  if (!doc) {
    lv2_log_error(&self->logger, "hotpatch: out of memory saving state\n");
    return LV2_STATE_ERR_UNKNOWN;
  }
  LV2_State_Status st = store(handle,
                              self->uris.hp_patchBank,
                              doc,
                              strlen(doc) + 1u,
                              self->uris.atom_String,
                              LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
  free(doc);

  /* The patch file, as the host wants paths saved (mapPath), and live
     reload: everything the user set. */
  char path[HP_MESSAGE_MAX];
  bool live = false;
  hp_engine_file_settings(self->engine, path, &live);
  const LV2_State_Map_Path* map_path =
    (const LV2_State_Map_Path*)lv2_features_data(features, LV2_STATE__mapPath);
  if (!st && path[0]) {
    char* abstract =
      map_path ? map_path->abstract_path(map_path->handle, path) : NULL;
    const char* saved = abstract ? abstract : path;
    st                = store(handle,
               self->uris.hp_patchFile,
               saved,
               strlen(saved) + 1u,
               self->uris.atom_Path,
               LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
    free_path(features, abstract);
  }
  const int32_t live_value = live;
  if (!st) {
    st = store(handle,
               self->uris.hp_liveReload,
               &live_value,
               sizeof(live_value),
               self->uris.atom_Bool,
               LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
  }
  return st;
}

/* Builds the restored patch here (hosts may offer no worker: Ardour's
   session load) and hands it over through the standby like any commit, so
   run() may go on meanwhile (threadSafeRestore). */
static LV2_State_Status
restore(LV2_Handle const                  instance,
        const LV2_State_Retrieve_Function retrieve,
        const LV2_State_Handle            handle,
        const uint32_t                    flags,
        const LV2_Feature* const* const   features)
{
  (void)flags;
  Hotpatch*   self   = (Hotpatch*)instance;
  size_t      size   = 0;
  uint32_t    type   = 0;
  uint32_t    vflags = 0;
  const void* value =
    retrieve(handle, self->uris.hp_patchBank, &size, &type, &vflags);
  if (!value) {
    return LV2_STATE_SUCCESS; /* nothing of ours: keep what plays */
  }
  if (type != self->uris.atom_String || size == 0 || size > (64u << 20u)) {
    lv2_log_error(&self->logger,
                  "hotpatch: state holds a patch bank that is not a string "
                  "(%zu bytes); the playing patch stays\n",
                  size);
    return LV2_STATE_ERR_BAD_TYPE;
  }
  char* text = (char*)malloc(size + 1u);
  if (!text) {
    return LV2_STATE_ERR_UNKNOWN;
  }
  memcpy(text, value, size);
  text[size] = '\0';
  HpError        err;
  const HpStatus st = hp_engine_load_document(self->engine, text, NULL, &err);
  free(text);
  if (st) {
    lv2_log_error(&self->logger,
                  "hotpatch: cannot restore the saved patch: %s; the playing "
                  "patch stays\n",
                  err.message);
    return LV2_STATE_ERR_UNKNOWN;
  }

  atomic_store_explicit(&self->restored_scene,
                        (int)hp_engine_scene(self->engine),
                        memory_order_release);

  /* The patch file is remembered (for live reload and patch:Get), not
     loaded: the bank above is what was saved. */
  const LV2_State_Map_Path* map_path =
    (const LV2_State_Map_Path*)lv2_features_data(features, LV2_STATE__mapPath);
  /* Corrupt state may hold anything: a path must be a NUL-terminated Path
     or String, the flag a Bool of its size. */
  const void* file =
    retrieve(handle, self->uris.hp_patchFile, &size, &type, &vflags);
  if (file &&
      (!(type == self->uris.atom_Path || type == self->uris.atom_String) ||
       !size || ((const char*)file)[size - 1u] != '\0')) {
    file = NULL;
  }
  const void* live =
    retrieve(handle, self->uris.hp_liveReload, &size, &type, &vflags);
  const bool on = live && type == self->uris.atom_Bool &&
                  size == sizeof(int32_t) && *(const int32_t*)live != 0;
  char* path = NULL;
  if (file && map_path) {
    path = map_path->absolute_path(map_path->handle, (const char*)file);
  }
  hp_engine_set_file_settings(self->engine,
                              path   ? path
                              : file ? (const char*)file
                                     : "",
                              on);
  free_path(features, path);
  return LV2_STATE_SUCCESS;
}

static void
cleanup(LV2_Handle const instance)
{
  Hotpatch* self = (Hotpatch*)instance;
  hp_engine_free(self->engine);
  hp_display_free(self->display);
  free(self);
}

/* Ardour's GUI thread, maybe while run() goes on. */
static HpDisplaySurface*
render_display(LV2_Handle const instance, const uint32_t w, const uint32_t h)
{
  return hp_display_render(((Hotpatch*)instance)->display, w, h);
}

static const void*
extension_data(const char* const uri)
{
  static const LV2_Worker_Interface worker  = {work, work_response, NULL};
  static const LV2_State_Interface  state   = {save, restore};
  static const HpDisplayInterface   display = {render_display};
  if (!strcmp(uri, LV2_WORKER__interface)) {
    return &worker;
  }
  if (!strcmp(uri, LV2_STATE__interface)) {
    return &state;
  }
  if (!strcmp(uri, HP_IDPY__interface)) {
    return &display;
  }
  return NULL;
}

static const LV2_Descriptor descriptors[2] = {{HP_PLUGIN_URI,
                                               instantiate,
                                               connect_port,
                                               NULL,
                                               run,
                                               NULL,
                                               cleanup,
                                               extension_data},
                                              {HP_FX_URI,
                                               instantiate,
                                               connect_port,
                                               NULL,
                                               run,
                                               NULL,
                                               cleanup,
                                               extension_data}};

LV2_SYMBOL_EXPORT const LV2_Descriptor*
lv2_descriptor(const uint32_t index)
{
  return index < 2u ? &descriptors[index] : NULL;
}
