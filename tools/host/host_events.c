/*
  hotpatch's lilv host: events in (queued, then written into the control
  sequence block by block) and the notify output parsed into HpHostEvents
  (see host_internal.h).
*/

#include "host_internal.h"

#include <lv2/atom/atom.h>
#include <lv2/midi/midi.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t
pad8(const uint32_t size)
{
  return (size + 7u) & ~7u;
}

/* Events in */

static int
queue_event(HpHost* const  host,
            const uint64_t frame,
            const uint32_t type,
            const uint32_t size,
            const void*    body)
{
  if (frame < host->pos) {
    host_set_error("event at frame %llu is in the past (now %llu)",
                   (unsigned long long)frame,
                   (unsigned long long)host->pos);
    return -1;
  }
  if (!host->control_seq) {
    host_set_error("the plugin has no atom input port");
    return -1;
  }
  if ((uint64_t)sizeof(LV2_Atom_Sequence) + sizeof(LV2_Atom_Event) +
        pad8(size) >
      host->control->capacity) {
    host_set_error("a %u-byte event does not fit the %u-byte control buffer",
                   size,
                   host->control->capacity);
    return -1;
  }

  if (host->q_len == host->q_cap) {
    const size_t       cap = host->q_cap ? host->q_cap * 2u : 64u;
    QueuedEvent* const queue =
      (QueuedEvent*)realloc(host->queue, cap * sizeof(QueuedEvent));
    if (!queue) {
      host_set_error("out of memory");
      return -1;
    }
    host->queue = queue;
    host->q_cap = cap;
  }

  uint8_t* const copy = (uint8_t*)malloc(size ? size : 1u);
  if (!copy) {
    host_set_error("out of memory");
    return -1;
  }
  if (size) {
    memcpy(copy, body, size);
  }

  // After every queued event at the same or an earlier frame
  size_t i = host->q_len;
  while (i > host->q_head && host->queue[i - 1u].frame > frame) {
    --i;
  }
  memmove(host->queue + i + 1u,
          host->queue + i,
          (host->q_len - i) * sizeof(QueuedEvent));
  host->queue[i] = (QueuedEvent){frame, type, size, copy};
  ++host->q_len;
  return 0;
}

int
hp_host_send_atom(HpHost* host, uint64_t frame, const LV2_Atom* atom)
{
  if (!atom) {
    host_set_error("no atom to send");
    return -1;
  }
  return queue_event(host, frame, atom->type, atom->size, atom + 1);
}

int
hp_host_send_midi(HpHost*        host,
                  uint64_t       frame,
                  const uint8_t* msg,
                  uint32_t       size)
{
  return queue_event(host, frame, host->uris.midi_MidiEvent, size, msg);
}

int
hp_host_note_on(HpHost* host, uint64_t frame, uint8_t note, uint8_t velocity)
{
  const uint8_t msg[3] = {
    LV2_MIDI_MSG_NOTE_ON, (uint8_t)(note & 0x7Fu), (uint8_t)(velocity & 0x7Fu)};
  return hp_host_send_midi(host, frame, msg, sizeof(msg));
}

int
hp_host_note_off(HpHost* host, uint64_t frame, uint8_t note)
{
  const uint8_t msg[3] = {LV2_MIDI_MSG_NOTE_OFF, (uint8_t)(note & 0x7Fu), 64u};
  return hp_host_send_midi(host, frame, msg, sizeof(msg));
}

/** Move the events of [pos, pos + n) into the control sequence. */
void
host_fill_control(HpHost* const host, const uint32_t nframes)
{
  LV2_Atom_Sequence* const seq = host->control_seq;
  host_reset_sequence_in(seq, host->uris.atom_Sequence);

  const uint64_t end      = host->pos + nframes;
  uint8_t* const base     = (uint8_t*)seq;
  uint32_t       offset   = (uint32_t)sizeof(LV2_Atom_Sequence);
  const uint32_t capacity = host->control->capacity;
  while (host->q_head < host->q_len && host->queue[host->q_head].frame < end) {
    QueuedEvent* const q    = &host->queue[host->q_head];
    const uint32_t     need = (uint32_t)sizeof(LV2_Atom_Event) + pad8(q->size);
    if (offset + need > capacity) {
      ++host->deferred_events; // the rest go at the start of the next block
      break;
    }

    LV2_Atom_Event* const ev = (LV2_Atom_Event*)(base + offset);
    // Deferred events are late: they go first in this block
    ev->time.frames =
      q->frame > host->pos ? (int64_t)(q->frame - host->pos) : 0;
    ev->body.type = q->type;
    ev->body.size = q->size;
    memcpy(ev + 1, q->body, q->size);
    memset((uint8_t*)(ev + 1) + q->size, 0, pad8(q->size) - q->size);
    offset += need;
    free(q->body);
    ++host->q_head;
  }
  seq->atom.size = offset - (uint32_t)sizeof(LV2_Atom);
  if (host->q_head == host->q_len) {
    host->q_head = host->q_len = 0u;
  }
}

/* Notify parsing */

static bool
atom_number(const HpHost* const   host,
            const LV2_Atom* const a,
            double* const         out)
{
  const HpURIs* const u = &host->uris;
  if (a->type == u->atom_Int && a->size >= sizeof(int32_t)) {
    *out = ((const LV2_Atom_Int*)a)->body;
  } else if (a->type == u->atom_Long && a->size >= sizeof(int64_t)) {
    *out = (double)((const LV2_Atom_Long*)a)->body;
  } else if (a->type == u->atom_Float && a->size >= sizeof(float)) {
    *out = (double)((const LV2_Atom_Float*)a)->body;
  } else if (a->type == u->atom_Double && a->size >= sizeof(double)) {
    *out = ((const LV2_Atom_Double*)a)->body;
  } else if (a->type == u->atom_Bool && a->size >= sizeof(int32_t)) {
    *out = ((const LV2_Atom_Bool*)a)->body ? 1.0 : 0.0;
  } else {
    return false;
  }
  return true;
}

/** A copy of a String, Path or URI atom's text, or of a URID's URI. */
static char*
atom_text(HpHost* const host, const LV2_Atom* const a)
{
  const HpURIs* const u = &host->uris;
  if (a->type == u->atom_String || a->type == u->atom_Path ||
      a->type == host->hu.atom_URI) {
    const char* const str = (const char*)(a + 1);
    return host_copy_string(str, strnlen(str, a->size));
  }
  if (a->type == u->atom_URID && a->size >= sizeof(LV2_URID)) {
    const char* const uri =
      hp_host_unmap(host, ((const LV2_Atom_URID*)a)->body);
    return uri ? host_copy_string(uri, strlen(uri)) : NULL;
  }
  return NULL;
}

static void
read_object(HpHost* const                host,
            const LV2_Atom_Object* const obj,
            HpHostEvent*                 e)
{
  const HpURIs* const u  = &host->uris;
  const LV2_URID      ot = obj->body.otype;
  e->otype               = ot;
  e->kind                = ot == u->patch_Ack            ? HP_EV_ACK
                           : ot == u->patch_Error        ? HP_EV_ERROR
                           : ot == u->hp_Primed          ? HP_EV_PRIMED
                           : ot == u->hp_Swapped         ? HP_EV_SWAPPED
                           : ot == u->state_StateChanged ? HP_EV_STATE_CHANGED
                           : ot == u->patch_Set          ? HP_EV_PATCH_SET
                                                         : HP_EV_OTHER;

  // Properties, with bounds checked: a broken plugin must not crash us
  const uint8_t* const body = (const uint8_t*)&obj->body;
  uint32_t             off  = (uint32_t)sizeof(LV2_Atom_Object_Body);
  while (off + sizeof(LV2_Atom_Property_Body) <= obj->atom.size) {
    const LV2_Atom_Property_Body* const p =
      (const LV2_Atom_Property_Body*)(body + off);
    if (off + sizeof(LV2_Atom_Property_Body) + p->value.size > obj->atom.size) {
      break;
    }

    const LV2_Atom* const v      = &p->value;
    double                num    = 0.0;
    const bool            is_num = atom_number(host, v, &num);
    if (p->key == u->patch_sequenceNumber && is_num) {
      e->seq = (int32_t)num;
    } else if (p->key == u->hp_message && !e->message) {
      e->message = atom_text(host, v);
    } else if (p->key == u->hp_generation && is_num) {
      e->generation = (int64_t)num;
    } else if (p->key == u->hp_frame && is_num) {
      e->frame = (int64_t)num;
    } else if (p->key == u->hp_primeTime && is_num) {
      e->prime_ms = num;
    } else if (p->key == u->hp_warmupRms && is_num) {
      e->warmup_rms = num;
    } else if (p->key == u->hp_moduleCount && is_num) {
      e->module_count = (int64_t)num;
    } else if (p->key == u->patch_property && !e->property) {
      e->property = atom_text(host, v);
    } else if (p->key == u->patch_value) {
      if (is_num) {
        e->value_number = num;
      } else if (!e->value_string) {
        e->value_string = atom_text(host, v);
      }
    }
    off += pad8((uint32_t)sizeof(LV2_Atom_Property_Body) + v->size);
  }
}

static int
push_event(HpHost* const host, const HpHostEvent* const e)
{
  if (host->n_events == host->cap_events) {
    const size_t       cap = host->cap_events ? host->cap_events * 2u : 256u;
    HpHostEvent* const events =
      (HpHostEvent*)realloc(host->events, cap * sizeof(HpHostEvent));
    if (!events) {
      return -1;
    }
    host->events     = events;
    host->cap_events = cap;
  }
  host->events[host->n_events++] = *e;
  return 0;
}

size_t
hp_host_parse_notify(HpHost*                  host,
                     const LV2_Atom_Sequence* seq,
                     uint32_t                 capacity)
{
  const size_t n_before = host->n_events;
  if (seq->atom.type != host->uris.atom_Sequence ||
      capacity < sizeof(LV2_Atom_Sequence)) {
    return 0u; // still the Chunk: the plugin wrote nothing
  }

  // Never trust the size more than the buffer
  uint32_t size = seq->atom.size;
  if (size > capacity - sizeof(LV2_Atom)) {
    size = capacity - (uint32_t)sizeof(LV2_Atom);
  }

  const uint8_t* const body = (const uint8_t*)&seq->body;
  uint32_t             off  = (uint32_t)sizeof(LV2_Atom_Sequence_Body);
  while (off + sizeof(LV2_Atom_Event) <= size) {
    const LV2_Atom_Event* const ev = (const LV2_Atom_Event*)(body + off);
    if (off + sizeof(LV2_Atom_Event) + ev->body.size > size) {
      break;
    }

    HpHostEvent e  = {0};
    e.kind         = HP_EV_OTHER;
    e.seq          = -1;
    e.generation   = -1;
    e.frame        = -1;
    e.module_count = -1;
    e.prime_ms     = (double)NAN;
    e.warmup_rms   = (double)NAN;
    e.value_number = (double)NAN;
    e.block_start  = host->pos;
    e.time         = ev->time.frames < 0 ? 0u : (uint32_t)ev->time.frames;
    e.frame_abs    = host->pos + e.time;
    e.type         = ev->body.type;

    e.atom = (LV2_Atom*)malloc(sizeof(LV2_Atom) + ev->body.size);
    if (e.atom) {
      memcpy(e.atom, &ev->body, sizeof(LV2_Atom) + ev->body.size);
    }

    const HpURIs* const u = &host->uris;
    if (ev->body.type == u->midi_MidiEvent) {
      e.kind      = HP_EV_MIDI;
      e.midi_size = ev->body.size;
      memcpy(e.midi,
             ev + 1,
             ev->body.size < sizeof(e.midi) ? ev->body.size : sizeof(e.midi));
    } else if ((ev->body.type == u->atom_Object ||
                ev->body.type == u->atom_Blank ||
                ev->body.type == host->hu.atom_Resource) &&
               ev->body.size >= sizeof(LV2_Atom_Object_Body)) {
      read_object(host, (const LV2_Atom_Object*)&ev->body, &e);
      if (e.kind == HP_EV_SWAPPED && e.frame >= 0) {
        e.frame_abs = host->pos + (uint64_t)e.frame;
      }
    }

    if (push_event(host, &e)) {
      host_free_event(&e);
    }
    off += pad8((uint32_t)sizeof(LV2_Atom_Event) + ev->body.size);
  }
  return host->n_events - n_before;
}

size_t
hp_host_n_events(const HpHost* host)
{
  return host->n_events;
}

const HpHostEvent*
hp_host_event(const HpHost* host, size_t index)
{
  return index < host->n_events ? &host->events[index] : NULL;
}

const HpHostEvent*
host_find_event_from(const HpHost* const host,
                     const size_t        start,
                     const HpEventKind   kind,
                     const int           seq)
{
  for (size_t i = start; i < host->n_events; ++i) {
    const HpHostEvent* const e = &host->events[i];
    if (e->kind == kind && (seq == HP_SEQ_ANY || e->seq == seq)) {
      return e;
    }
  }
  return NULL;
}

const HpHostEvent*
hp_host_find_event(const HpHost* host, HpEventKind kind, int seq)
{
  return host_find_event_from(host, 0u, kind, seq);
}

const HpHostEvent*
hp_host_find_reply(const HpHost* host, int seq)
{
  for (size_t i = 0u; i < host->n_events; ++i) {
    const HpHostEvent* const e = &host->events[i];
    if ((e->kind == HP_EV_ACK || e->kind == HP_EV_ERROR) && e->seq == seq) {
      return e;
    }
  }
  return NULL;
}

size_t
hp_host_count_events(const HpHost* host, HpEventKind kind)
{
  size_t n = 0u;
  for (size_t i = 0u; i < host->n_events; ++i) {
    n += host->events[i].kind == kind;
  }
  return n;
}

void
hp_host_clear_events(HpHost* host)
{
  for (size_t i = 0u; i < host->n_events; ++i) {
    host_free_event(&host->events[i]);
  }
  host->n_events = 0u;
}

const char*
hp_host_event_kind_name(HpEventKind kind)
{
  static const char* const names[] = {"Ack",
                                      "Error",
                                      "Primed",
                                      "Swapped",
                                      "StateChanged",
                                      "Set",
                                      "MIDI",
                                      "other"};
  return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}
