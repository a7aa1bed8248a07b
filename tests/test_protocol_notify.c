/*
  The patch protocol (README, "The patch protocol") end to end, part 3: what
  comes back and in what order.  A full notify port (replies wait for room,
  whole and in order), MIDI and patch messages in event order, and events
  stamped at the block's end (through a small lilv host of our own, since
  the test host never produces that time).  The other parts:
  test_protocol_messages.c, test_protocol_commits.c.

  Harness failures stop at once with CHECK; findings about the plugin are
  counted with EXPECT, and the program exits 1 if any was found.
*/

#include "host.h"
#include "protocol.h"
#include "signal.h"

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/log/log.h>
#include <lv2/midi/midi.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint32_t
pad8(const uint32_t size)
{
  return (size + 7u) & ~7u;
}

/* One atom of `room` bytes at most, strictly: its size inside the room,
   strings NUL-terminated, numbers of their size, objects made of whole
   properties.  NULL when well formed, else what is wrong. */
static const char*
malformed_atom(const HpURIs* const   u,
               const LV2_Atom* const atom,
               const uint32_t        room)
{
  if (room < sizeof(LV2_Atom) || atom->size > room - sizeof(LV2_Atom)) {
    return "an atom overruns its container";
  }
  const uint8_t* const body = (const uint8_t*)(atom + 1);
  if (atom->type == u->atom_String || atom->type == u->atom_Path) {
    return atom->size && body[atom->size - 1u] == '\0'
             ? NULL
             : "a string without its NUL";
  }
  if (atom->type == u->atom_Int || atom->type == u->atom_Float ||
      atom->type == u->atom_Bool || atom->type == u->atom_URID) {
    return atom->size == 4u ? NULL : "a number of the wrong size";
  }
  if (atom->type != u->atom_Object && atom->type != u->atom_Blank) {
    return NULL;
  }
  if (atom->size < sizeof(LV2_Atom_Object_Body)) {
    return "an object shorter than its header";
  }
  uint32_t off = (uint32_t)sizeof(LV2_Atom_Object_Body);
  while (off < atom->size) {
    const uint32_t left = atom->size - off;
    if (left < sizeof(LV2_Atom_Property_Body)) {
      return "a property key without its value";
    }
    const LV2_Atom_Property_Body* const prop =
      (const LV2_Atom_Property_Body*)(body + off);
    const char* const why = malformed_atom(u, &prop->value, left - 8u);
    if (why) {
      return why;
    }
    off += pad8(8u + (uint32_t)sizeof(LV2_Atom) + prop->value.size);
  }
  return off == atom->size ? NULL
                           : "an object whose size cuts its last property";
}

/* The notify sequence of the last cycle, every event and atom in it. */
static const char*
malformed_notify(const HpHost* const host)
{
  const HpURIs* const            u   = hp_host_uris(host);
  uint32_t                       cap = 0;
  const LV2_Atom_Sequence* const seq = hp_host_notify_sequence(host, &cap);
  if (seq->atom.type != u->atom_Sequence) {
    return "notify is not an atom:Sequence";
  }
  if (seq->atom.size < sizeof(LV2_Atom_Sequence_Body) ||
      seq->atom.size > cap - sizeof(LV2_Atom)) {
    return "the sequence's size is outside its buffer";
  }
  const uint8_t* const body = (const uint8_t*)&seq->body;
  uint32_t             off  = (uint32_t)sizeof(LV2_Atom_Sequence_Body);
  while (off < seq->atom.size) {
    const uint32_t left = seq->atom.size - off;
    if (left < sizeof(LV2_Atom_Event)) {
      return "an event time without its atom";
    }
    const LV2_Atom_Event* const ev  = (const LV2_Atom_Event*)(body + off);
    const char* const           why = malformed_atom(u, &ev->body, left - 8u);
    if (why) {
      return why;
    }
    off += pad8((uint32_t)sizeof(LV2_Atom_Event) + ev->body.size);
  }
  return off == seq->atom.size ? NULL
                               : "a sequence whose size cuts its last event";
}

/* Run `blocks` cycles, checking every notify sequence; the first fault. */
static const char*
run_checking_notify(HpHost* const host, const unsigned blocks)
{
  const char* fault = NULL;
  for (unsigned b = 0; b < blocks; ++b) {
    CHECK(!hp_host_run(host, BLOCK));
    const char* const why = malformed_notify(host);
    fault                 = fault ? fault : why;
    CHECK_MSG(!hp_host_wait_worker(host, 5000), "%s", hp_host_last_error());
  }
  return fault;
}

/* Index of the first event of `kind` for `seq` (whole: with its fields),
   or -1. */
static long
event_index(const HpHost* const host, const HpEventKind kind, const int seq)
{
  for (size_t i = 0; i < hp_host_n_events(host); ++i) {
    const HpHostEvent* const e = hp_host_event(host, i);
    if (e->kind == kind && e->seq == seq &&
        (kind != HP_EV_ERROR || e->message) &&
        (kind != HP_EV_PRIMED ||
         (e->generation >= 0 && e->module_count >= 0 && !isnan(e->prime_ms) &&
          !isnan(e->warmup_rms))) &&
        (kind != HP_EV_SWAPPED || (e->generation >= 0 && e->frame >= 0))) {
      return (long)i;
    }
  }
  return -1;
}

static void
test_notify_full(const HpWorkerMode mode)
{
  /* 256 bytes of notify: a bad Create's error, then a commit's Primed,
     Swapped and Ack need several cycles. */
  HpHost* host =
    fx_host_cfg((HpHostConfig){.worker_mode = mode, .notify_capacity = 256});
  fx_send(host, -1, "/patch/create s1 sine");
  fx_send(host, 1, "/patch/create x nosuch");
  fx_send(host, 2, "/patch/commit");
  const char* fault = run_checking_notify(host, 40);
  EXPECT(!fault, "%s worker, 256-byte notify: %s", fx_mode_name(mode), fault);
  const long               error  = event_index(host, HP_EV_ERROR, 1);
  const long               primed = event_index(host, HP_EV_PRIMED, 2);
  const long               swap   = event_index(host, HP_EV_SWAPPED, 2);
  const long               ack    = event_index(host, HP_EV_ACK, 2);
  const HpHostEvent* const e =
    error >= 0 ? hp_host_event(host, (size_t)error) : NULL;
  EXPECT(
    e && e->message &&
      !strncmp(e->message, "unknown module type 'nosuch'; known types: ", 43),
    "%s worker, 256-byte notify: the error of message 1: %s",
    fx_mode_name(mode),
    e ? e->message : "none");
  EXPECT(
    error >= 0 && primed > error && swap > primed && ack > swap,
    "%s worker, 256-byte notify: Error 1 at %ld, Primed 2 at %ld, Swapped 2 "
    "at %ld, Ack 2 at %ld (whole events, in that order, wanted)",
    fx_mode_name(mode),
    error,
    primed,
    swap,
    ack);
  /* The error, longer than this notify can take, arrives cut short: its
     start and "...", as the worker's whole message (the 64 KiB run's). */
  const size_t n_events = hp_host_n_events(host);
  char         cut[512] = "";
  snprintf(cut, sizeof(cut), "%s", e && e->message ? e->message : "");
  hp_host_free(host);
  const size_t cut_len = strlen(cut);
  EXPECT(cut_len > 3u && !strcmp(cut + cut_len - 3u, "..."),
         "%s worker, 256-byte notify: the error arrived whole or not cut "
         "with '...': %s",
         fx_mode_name(mode),
         cut);
  char unknown[512] = "";

  /* 500 bad messages in one cycle at the declared 64 KiB: found by the
     worker (an unknown type) or by run() itself (no hp:type). */
  size_t arrived[2] = {0, 0};
  for (int decode = 0; decode < 2; ++decode) {
    host = fx_host_cfg(
      (HpHostConfig){.worker_mode = mode, .notify_capacity = 65536});
    const uint64_t at = hp_host_frames(host);
    for (int seq = 1; seq <= 500; ++seq) {
      if (decode) {
        b_missing_type(host, at, seq);
      } else {
        fx_send_at(host, at, seq, "/patch/create x nosuch");
      }
    }
    const char* const why = run_checking_notify(host, 40);
    EXPECT(!why,
           "%s worker, 500 %s errors: %s",
           fx_mode_name(mode),
           decode ? "run()" : "worker",
           why);
    long previous = -1;
    int  seq      = 1;
    for (; seq <= 500; ++seq) {
      const long               i = event_index(host, HP_EV_ERROR, seq);
      const HpHostEvent* const r =
        i >= 0 ? hp_host_event(host, (size_t)i) : NULL;
      if (seq == 1 && r && !decode) {
        snprintf(unknown, sizeof(unknown), "%s", r->message);
      }
      if (!r || i < previous ||
          strcmp(r->message,
                 decode ? "hp:Create needs hp:type (an atom:String)"
                        : unknown)) {
        break;
      }
      previous = i;
    }
    arrived[decode] = (size_t)seq - 1u;
    EXPECT(decode || !strncmp(unknown, cut, cut_len - 3u),
           "%s worker: the cut error is not the start of the whole one: %s",
           fx_mode_name(mode),
           unknown);
    EXPECT(seq == 501 && hp_host_count_events(host, HP_EV_ERROR) == 500,
           "%s worker, 500 %s errors in one cycle: replies 1..%d arrive whole "
           "and in order, then reply %d %s (%zu errors in all)",
           fx_mode_name(mode),
           decode ? "run()" : "worker",
           seq - 1,
           seq,
           event_index(host, HP_EV_ERROR, seq) < 0
             ? "is missing or cut"
             : "is out of order or differs",
           hp_host_count_events(host, HP_EV_ERROR));
    hp_host_free(host);
  }
  printf("# %s worker: 256-byte notify: %zu events over 40 cycles (%s); "
         "500 bad messages in one cycle at 64 KiB: replies 1..%zu of the "
         "worker's errors and 1..%zu of run()'s arrive whole and in order\n",
         fx_mode_name(mode),
         n_events,
         fault ? fault : "all whole",
         arrived[0],
         arrived[1]);
}

/* 8. MIDI and patch messages in one block, in event order */

static void
test_midi_order(void)
{
  static const char* const midi_patch[] = {
    "/patch/clear",
    "/patch/create kb midi",
    "/patch/create osc saw",
    "/patch/set osc gain 0.4",
    "/patch/create env adsr",
    "/patch/set env attack 0",
    "/patch/set env decay 0",
    "/patch/set env sustain 1",
    "/patch/connect kb:freq osc:freq",
    "/patch/connect kb:gate env:gate",
    "/patch/connect osc env",
  };
  uint64_t onsets[2] = {0, 0};
  uint64_t blocks[2] = {0, 0};
  double   pitch     = 0.0;
  for (int order = 0; order < 2; ++order) {
    HpHost* const host = fx_host(HP_WORKER_SYNC, 8);
    fx_send(host, -1, "/patch/clear");
    fx_send(host, -1, "/patch/create quiet sine");
    fx_send(host, -1, "/patch/set quiet gain 0");
    commit_at(host, 0, 1, 0.0f, NULL, 0);
    render(host, 4096);
    const uint64_t block = hp_host_frames(host);
    blocks[order]        = block;
    /* order 0: commit at +50, note at +100; order 1: note at +50, commit
       at +100 (the note reaches the old patch, which has no midi module). */
    const uint64_t commit = block + (order ? 100 : 50);
    const uint64_t note   = block + (order ? 50 : 100);
    CHECK(!hp_host_note_on(host, note, 57, 100));
    for (size_t i = 0; i < sizeof(midi_patch) / sizeof(midi_patch[0]); ++i) {
      fx_send_at(host, commit, -1, midi_patch[i]);
    }
    commit_at(host, commit, 2, 0.0f, NULL, 0);
    render(host, BLOCK);
    /* The block really carried both, in frame order. */
    size_t                   n_in      = 0;
    const LV2_Atom_Sequence* seq       = hp_host_control_sequence(host);
    int64_t                  note_time = -1, commit_time = -1;
    LV2_ATOM_SEQUENCE_FOREACH(seq, ev)
    {
      ++n_in;
      if (ev->body.type == hp_host_uris(host)->midi_MidiEvent) {
        note_time = ev->time.frames;
      } else if (ev->body.type == hp_host_uris(host)->atom_Object &&
                 ((const LV2_Atom_Object*)&ev->body)->body.otype ==
                   hp_host_uris(host)->hp_Commit) {
        commit_time = ev->time.frames;
      }
    }
    CHECK_MSG(note_time == (int64_t)(note - block) &&
                commit_time == (int64_t)(commit - block),
              "control sequence: note at %lld, commit at %lld",
              (long long)note_time,
              (long long)commit_time);
    const Sound s = listen(host, 24000);
    onsets[order] = first_sound(host, block, 1e-6f);
    if (!order) {
      pitch = s.freq;
      EXPECT(onsets[0] == note,
             "note at %llu, commit at %llu: sound from %llu",
             (unsigned long long)note,
             (unsigned long long)commit,
             (unsigned long long)onsets[0]);
      EXPECT(fabs(s.freq - 220.0) < 0.2 && s.rms > 0.1,
             "note 57: %.3f Hz RMS %.4f",
             s.freq,
             s.rms);
    } else {
      EXPECT(onsets[1] == UINT64_MAX,
             "a note before the commit was heard from %llu",
             (unsigned long long)onsets[1]);
    }
    hp_host_free(host);
  }
  printf(
    "# sync worker, one block: commit at +50 then note at +100 sounds from "
    "+%llu at %.3f Hz; note at +50 then commit at +100: %s\n",
    (unsigned long long)(onsets[0] == UINT64_MAX ? 0 : onsets[0] - blocks[0]),
    pitch,
    onsets[1] == UINT64_MAX ? "silent (the note reached the old patch)"
                            : "heard");
}

/* 9. Events stamped at the block's end.  The test host only produces times
   inside the block, so this is a minimal lilv host of our own: urid:map and
   a synchronous work:schedule (like Ardour's export), one control sequence
   we write by hand. */

typedef struct {
  LilvWorld*                  world;
  LilvInstance*               instance;
  const LV2_Worker_Interface* iface;
  char*                       uris[512];
  uint32_t                    n_uris;
  LV2_URID_Map                map;
  LV2_Worker_Schedule         schedule;
  LV2_Feature                 f_map;
  LV2_Feature                 f_schedule;
  const LV2_Feature*          features[3];
  HpURIs                      u;
  float                       controls[HP_N_PORTS];
  uint64_t                    control[4096]; /* 32 KiB, 8-byte aligned */
  uint64_t                    notify[8192];
  float                       out_l[8192];
  float                       out_r[8192];
  float*                      rec;
  size_t                      n_rec;
  uint8_t                     events[4096];
  uint32_t                    events_used;
} Mini;

static LV2_URID
mini_map(LV2_URID_Map_Handle handle, const char* const uri)
{
  Mini* const m = (Mini*)handle;
  for (uint32_t i = 0; i < m->n_uris; ++i) {
    if (!strcmp(m->uris[i], uri)) {
      return i + 1;
    }
  }
  CHECK(m->n_uris < 512);
  const size_t len   = strlen(uri);
  m->uris[m->n_uris] = (char*)malloc(len + 1);
  CHECK(m->uris[m->n_uris]);
  memcpy(m->uris[m->n_uris], uri, len + 1);
  return ++m->n_uris;
}

static LV2_Worker_Status
mini_respond(LV2_Worker_Respond_Handle handle,
             const uint32_t            size,
             const void* const         data)
{
  Mini* const m = (Mini*)handle;
  return m->iface->work_response(
    lilv_instance_get_handle(m->instance), size, data);
}

static LV2_Worker_Status
mini_schedule(LV2_Worker_Schedule_Handle handle,
              const uint32_t             size,
              const void* const          data)
{
  Mini* const m = (Mini*)handle;
  return m->iface->work(
    lilv_instance_get_handle(m->instance), mini_respond, m, size, data);
}

static Mini*
mini_new(void)
{
  Mini* const m = (Mini*)calloc(1, sizeof(Mini));
  CHECK(m);
  const char* const bundle = getenv("HP_BUNDLE");
  CHECK_MSG(bundle, "HP_BUNDLE is not set");
  m->world = lilv_world_new();
  char path[4096];
  snprintf(path, sizeof(path), "%s/", bundle);
  LilvNode* const bundle_uri = lilv_new_file_uri(m->world, NULL, path);
  lilv_world_load_bundle(m->world, bundle_uri);
  lilv_node_free(bundle_uri);
  LilvNode* const   uri = lilv_new_uri(m->world, HP_PLUGIN_URI);
  const LilvPlugin* plugin =
    lilv_plugins_get_by_uri(lilv_world_get_all_plugins(m->world), uri);
  lilv_node_free(uri);
  CHECK_MSG(plugin, "no %s in %s", HP_PLUGIN_URI, bundle);

  m->map         = (LV2_URID_Map){m, mini_map};
  m->schedule    = (LV2_Worker_Schedule){m, mini_schedule};
  m->f_map       = (LV2_Feature){LV2_URID__map, &m->map};
  m->f_schedule  = (LV2_Feature){LV2_WORKER__schedule, &m->schedule};
  m->features[0] = &m->f_map;
  m->features[1] = &m->f_schedule;
  m->features[2] = NULL;
  hp_map_uris(&m->map, &m->u);
  m->instance = lilv_plugin_instantiate(plugin, RATE, m->features);
  CHECK(m->instance);
  m->iface = (const LV2_Worker_Interface*)lilv_instance_get_extension_data(
    m->instance, LV2_WORKER__interface);
  CHECK(m->iface);

  /* Every port, control inputs at their defaults. */
  float mins[HP_N_PORTS], maxs[HP_N_PORTS], defs[HP_N_PORTS];
  CHECK(lilv_plugin_get_num_ports(plugin) == HP_N_SYNTH_PORTS);
  lilv_plugin_get_port_ranges_float(plugin, mins, maxs, defs);
  for (uint32_t p = 0; p < HP_N_SYNTH_PORTS; ++p) {
    m->controls[p] = isnan(defs[p]) ? 0.0f : defs[p];
    lilv_instance_connect_port(m->instance, p, &m->controls[p]);
  }
  lilv_instance_connect_port(m->instance, HP_PORT_CONTROL, m->control);
  lilv_instance_connect_port(m->instance, HP_PORT_NOTIFY, m->notify);
  lilv_instance_connect_port(m->instance, HP_PORT_OUT_L, m->out_l);
  lilv_instance_connect_port(m->instance, HP_PORT_OUT_R, m->out_r);
  lilv_instance_activate(m->instance);
  return m;
}

static void
mini_free(Mini* const m)
{
  lilv_instance_deactivate(m->instance);
  lilv_instance_free(m->instance);
  lilv_world_free(m->world);
  for (uint32_t i = 0; i < m->n_uris; ++i) {
    free(m->uris[i]);
  }
  free(m->rec);
  free(m);
}

/* Queue an event for the next block at any int64 time, even past its end. */
static void
mini_event(Mini* const m, const int64_t time, const LV2_Atom* const body)
{
  const uint32_t need =
    (uint32_t)sizeof(LV2_Atom_Event) + lv2_atom_pad_size(body->size);
  CHECK(m->events_used + need <= sizeof(m->events));
  LV2_Atom_Event* const ev = (LV2_Atom_Event*)(m->events + m->events_used);
  memset(ev, 0, need);
  ev->time.frames = time;
  memcpy(&ev->body, body, sizeof(LV2_Atom) + body->size);
  m->events_used += need;
}

/* The few text-protocol lines this test needs, as atoms with our URIDs. */
static void
mini_text(Mini* const m, const int64_t time, const char* const line)
{
  char buf[256];
  snprintf(buf, sizeof(buf), "%s", line);
  char* words[5] = {NULL, NULL, NULL, NULL, NULL};
  int   n        = 0;
  for (char* w = strtok(buf, " "); w && n < 5; w = strtok(NULL, " ")) {
    words[n++] = w;
  }
  uint8_t        mem[1024];
  LV2_Atom_Forge forge;
  lv2_atom_forge_init(&forge, &m->map);
  lv2_atom_forge_set_buffer(&forge, mem, sizeof(mem));
  LV2_Atom_Forge_Frame obj;
  const HpURIs* const  u = &m->u;
  if (!strcmp(words[0], "/patch/clear")) {
    lv2_atom_forge_object(&forge, &obj, 0, u->hp_Clear);
  } else if (!strcmp(words[0], "/patch/create")) {
    lv2_atom_forge_object(&forge, &obj, 0, u->hp_Create);
    put_string(&forge, u->hp_module, words[1]);
    put_string(&forge, u->hp_type, words[2]);
  } else if (!strcmp(words[0], "/patch/connect")) {
    lv2_atom_forge_object(&forge, &obj, 0, u->hp_Connect);
    put_string(&forge, u->hp_source, words[1]);
    put_string(&forge, u->hp_dest, words[2]);
  } else if (!strcmp(words[0], "/patch/set")) {
    lv2_atom_forge_object(&forge, &obj, 0, u->hp_Set);
    put_string(&forge, u->hp_module, words[1]);
    put_string(&forge, u->hp_param, words[2]);
    lv2_atom_forge_key(&forge, u->hp_value);
    lv2_atom_forge_float(&forge, strtof(words[3], NULL));
  } else if (!strcmp(words[0], "/patch/commit")) {
    lv2_atom_forge_object(&forge, &obj, 0, u->hp_Commit);
    lv2_atom_forge_key(&forge, u->patch_sequenceNumber);
    lv2_atom_forge_int(&forge, (int32_t)strtol(words[1], NULL, 10));
    lv2_atom_forge_key(&forge, u->hp_crossfade);
    lv2_atom_forge_float(&forge, 0.0f);
  } else {
    CHECK_MSG(false, "mini host: no %s", words[0]);
  }
  lv2_atom_forge_pop(&forge, &obj);
  mini_event(m, time, (const LV2_Atom*)mem);
}

static void
mini_note(Mini* const m, const int64_t time, const uint8_t note)
{
  struct {
    LV2_Atom atom;
    uint8_t  msg[3];
  } ev = {{3, m->u.midi_MidiEvent}, {LV2_MIDI_MSG_NOTE_ON, note, 100}};
  mini_event(m, time, &ev.atom);
}

typedef struct {
  int32_t seq;
  int64_t frame; /* hp:frame */
  int64_t time;  /* the event's time */
} MiniSwap;

/* One run() of `n` frames with the queued events; records the output and
   returns the last hp:Swapped seen (seq -1 if none). */
static MiniSwap
mini_run(Mini* const m, const uint32_t n)
{
  LV2_Atom_Sequence* const in = (LV2_Atom_Sequence*)m->control;
  in->atom.type               = m->u.atom_Sequence;
  in->atom.size = (uint32_t)sizeof(LV2_Atom_Sequence_Body) + m->events_used;
  in->body.unit = 0;
  in->body.pad  = 0;
  memcpy(in + 1, m->events, m->events_used);
  m->events_used               = 0;
  LV2_Atom_Sequence* const out = (LV2_Atom_Sequence*)m->notify;
  out->atom.type               = 0;
  out->atom.size = (uint32_t)(sizeof(m->notify) - sizeof(LV2_Atom));
  lilv_instance_run(m->instance, n);

  float* const grown = (float*)realloc(m->rec, (m->n_rec + n) * sizeof(float));
  CHECK(grown);
  m->rec = grown;
  memcpy(m->rec + m->n_rec, m->out_l, n * sizeof(float));
  m->n_rec += n;

  MiniSwap swap = {-1, -1, -1};
  int64_t  last = 0;
  CHECK(out->atom.type == m->u.atom_Sequence);
  LV2_ATOM_SEQUENCE_FOREACH(out, ev)
  {
    EXPECT(ev->time.frames >= last,
           "notify times go back: %lld after %lld",
           (long long)ev->time.frames,
           (long long)last);
    last                       = ev->time.frames;
    const LV2_Atom_Object* obj = (const LV2_Atom_Object*)&ev->body;
    if (ev->body.type != m->u.atom_Object ||
        obj->body.otype != m->u.hp_Swapped) {
      continue;
    }
    const LV2_Atom* seq   = NULL;
    const LV2_Atom* frame = NULL;
    lv2_atom_object_get(
      obj, m->u.patch_sequenceNumber, &seq, m->u.hp_frame, &frame, 0);
    CHECK(seq && frame && seq->type == m->u.atom_Int &&
          frame->type == m->u.atom_Int);
    swap.seq   = ((const LV2_Atom_Int*)seq)->body;
    swap.frame = ((const LV2_Atom_Int*)frame)->body;
    swap.time  = ev->time.frames;
  }
  return swap;
}

static uint64_t
mini_first_sound(const Mini* const m, const uint64_t from)
{
  for (uint64_t f = from; f < m->n_rec; ++f) {
    if (fabsf(m->rec[f]) > 1e-6f) {
      return f;
    }
  }
  return UINT64_MAX;
}

static void
test_block_end(void)
{
  /* Commits: time n (jalv), n - 1 (Ardour), n + 5000 (a broken host). */
  static const int64_t late[3] = {0, -1, 5000};
  static const char* names[3] = {"n_frames", "n_frames - 1", "n_frames + 5000"};
  uint64_t           onset[3];
  int64_t            swap_time = -1;
  for (int k = 0; k < 3; ++k) {
    Mini* const    m = mini_new();
    const uint32_t n = 200;
    mini_text(m, 0, "/patch/clear");
    mini_text(m, 0, "/patch/create quiet sine");
    mini_text(m, 0, "/patch/set quiet gain 0");
    mini_text(m, 0, "/patch/commit 1");
    mini_run(m, n);
    for (int b = 0; b < 9; ++b) {
      mini_run(m, n);
    }
    CHECK(mini_first_sound(m, 0) == UINT64_MAX);
    const int64_t t = (int64_t)n + late[k];
    mini_text(m, t, "/patch/create loud sine");
    mini_text(m, t, "/patch/set loud gain 0.5");
    mini_text(m, t, "/patch/commit 2");
    const uint64_t block = m->n_rec;
    const MiniSwap sw    = mini_run(m, n);
    const MiniSwap next  = mini_run(m, n);
    for (int b = 0; b < 60; ++b) {
      mini_run(m, n);
    }
    const uint64_t want = block + (uint64_t)(late[k] < 0 ? t : (int64_t)n);
    onset[k]            = mini_first_sound(m, 0);
    EXPECT(
      sw.seq == 2 || next.seq == 2, "%s: commit 2 never swapped", names[k]);
    EXPECT(onset[k] == want,
           "commit at time %s: sound from frame %llu, want %llu",
           names[k],
           (unsigned long long)onset[k],
           (unsigned long long)want);
    /* A swap after the block's last frame plays from the next block's
       frame 0, and is notified there: hp:frame stays inside its block. */
    const MiniSwap* at = late[k] < 0 ? &sw : &next;
    EXPECT(at->seq == 2 && at->frame == (late[k] < 0 ? t : 0),
           "commit at time %s: Swapped with hp:frame %lld (seq %d)",
           names[k],
           (long long)at->frame,
           at->seq);
    if (!k) {
      swap_time = at->time;
    }
    const double f =
      hp_sig_freq(m->rec + block + n, (size_t)(m->n_rec - block - n), RATE);
    EXPECT(fabs(f - 440.0) < 0.05, "loud at %.3f Hz", f);
    mini_free(m);
  }

  /* A note-on at time n_frames plays from the next block's first frame. */
  Mini* const    m = mini_new();
  const uint32_t n = 200;
  mini_text(m, 0, "/patch/clear");
  mini_text(m, 0, "/patch/create kb midi");
  mini_text(m, 0, "/patch/create osc saw");
  mini_text(m, 0, "/patch/create env adsr");
  mini_text(m, 0, "/patch/set env attack 0");
  mini_text(m, 0, "/patch/connect kb:freq osc:freq");
  mini_text(m, 0, "/patch/connect kb:gate env:gate");
  mini_text(m, 0, "/patch/connect osc env");
  mini_text(m, 0, "/patch/commit 1");
  for (int b = 0; b < 10; ++b) {
    mini_run(m, n);
  }
  CHECK(mini_first_sound(m, 0) == UINT64_MAX);
  const uint64_t block = m->n_rec;
  mini_note(m, n, 69);
  for (int b = 0; b < 60; ++b) {
    mini_run(m, n);
  }
  const uint64_t note_onset = mini_first_sound(m, 0);
  EXPECT(note_onset == block + n,
         "note at time n_frames: sound from %llu, want %llu",
         (unsigned long long)note_onset,
         (unsigned long long)(block + n));
  mini_free(m);
  printf(
    "# own lilv host, sync worker, 200-frame blocks: a commit stamped "
    "n_frames sounds from the next block's frame 0 (%+lld), n_frames - 1 "
    "from the block's last frame (%+lld), n_frames + 5000 clamped "
    "(%+lld); a note stamped n_frames from %+lld; the swap of a commit at "
    "n_frames is notified in the next block, hp:frame 0, event time %lld\n",
    (long long)onset[0] - 2200,
    (long long)onset[1] - 2200,
    (long long)onset[2] - 2200,
    (long long)note_onset - 2200,
    (long long)swap_time);
}

int
main(void)
{
  const clock_t t0 = clock();
  test_notify_full(HP_WORKER_THREADED);
  test_notify_full(HP_WORKER_SYNC);
  test_midi_order();
  test_block_end();
  printf("# protocol notify tests: %.1f s of CPU\n",
         (double)(clock() - t0) / CLOCKS_PER_SEC);
  return expect_summary("protocol");
}
