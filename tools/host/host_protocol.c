/*
  hotpatch's lilv host: the patch protocol's messages, built in growable
  forge sinks and queued as events (see host_internal.h).
*/

#include "host_internal.h"

#include "atoms.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/time/time.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Sinks for the forges */

static LV2_Atom_Forge_Ref
sink_write(LV2_Atom_Forge_Sink_Handle handle, const void* buf, uint32_t size)
{
  Sink* const sink = (Sink*)handle;
  if (sink->failed) {
    return 0;
  }
  if (sink->size + size > sink->cap) {
    size_t cap = sink->cap ? sink->cap : 1024u;
    while (cap < sink->size + size) {
      cap *= 2u;
    }
    uint8_t* const grown = (uint8_t*)realloc(sink->buf, cap);
    if (!grown) {
      sink->failed = true;
      return 0;
    }
    sink->buf = grown;
    sink->cap = cap;
  }

  // References are offsets + 1: the buffer moves as it grows, 0 is failure
  const LV2_Atom_Forge_Ref ref = (LV2_Atom_Forge_Ref)sink->size + 1u;
  memcpy(sink->buf + sink->size, buf, size);
  sink->size += size;
  return ref;
}

static LV2_Atom*
sink_deref(LV2_Atom_Forge_Sink_Handle handle, LV2_Atom_Forge_Ref ref)
{
  Sink* const sink = (Sink*)handle;
  return ref ? (LV2_Atom*)(sink->buf + ref - 1u) : NULL;
}

static LV2_Atom_Forge*
sink_reset(LV2_Atom_Forge* const forge, Sink* const sink)
{
  sink->size   = 0u;
  sink->failed = false;
  lv2_atom_forge_set_sink(forge, sink_write, sink_deref, sink);
  return forge;
}

static const LV2_Atom*
sink_atom(const Sink* const sink)
{
  if (sink->failed || sink->size < sizeof(LV2_Atom)) {
    return NULL;
  }
  const LV2_Atom* const atom = (const LV2_Atom*)sink->buf;
  return sizeof(LV2_Atom) + atom->size <= sink->size ? atom : NULL;
}

LV2_Atom_Forge*
hp_host_forge(HpHost* host)
{
  return sink_reset(&host->raw_forge, &host->raw_sink);
}

const LV2_Atom*
hp_host_forge_atom(HpHost* host)
{
  return sink_atom(&host->raw_sink);
}

const LV2_Atom*
hp_host_forge_position(HpHost* host, const HpHostPosition* pos)
{
  LV2_Atom_Forge* const forge = hp_host_forge(host);
  const HpURIs* const   u     = &host->uris;
  LV2_Atom_Forge_Frame  frame;
  lv2_atom_forge_object(forge, &frame, 0u, u->time_Position);
  lv2_atom_forge_key(forge, hp_host_map(host, LV2_TIME__frame));
  lv2_atom_forge_long(forge, pos->frame);
  if (pos->has_speed) {
    lv2_atom_forge_key(forge, u->time_speed);
    lv2_atom_forge_float(forge, pos->speed);
  }
  if (pos->has_bar) {
    lv2_atom_forge_key(forge, u->time_bar);
    lv2_atom_forge_long(forge, pos->bar);
  }
  if (pos->has_bar_beat) {
    lv2_atom_forge_key(forge, u->time_barBeat);
    lv2_atom_forge_float(forge, pos->bar_beat);
  }
  if (pos->has_beat) {
    lv2_atom_forge_key(forge, u->time_beat);
    lv2_atom_forge_double(forge, pos->beat);
  }
  lv2_atom_forge_key(forge, hp_host_map(host, LV2_TIME__beatUnit));
  lv2_atom_forge_int(forge, 4);
  if (pos->has_beats_per_bar) {
    lv2_atom_forge_key(forge, u->time_beatsPerBar);
    lv2_atom_forge_float(forge, pos->beats_per_bar);
  }
  if (pos->has_bpm) {
    lv2_atom_forge_key(forge, u->time_beatsPerMinute);
    lv2_atom_forge_float(forge, pos->bpm);
  }
  lv2_atom_forge_pop(forge, &frame);
  return hp_host_forge_atom(host);
}

int
hp_host_send_transport(HpHost* const  host,
                       const uint64_t frame,
                       const int64_t  position,
                       const double   beat,
                       const float    bpm,
                       const float    beats_per_bar,
                       const float    speed)
{
  const double         bar = floor(beat / (double)beats_per_bar);
  const HpHostPosition p   = {
      .has_bar           = true,
      .has_bar_beat      = true,
      .has_beat          = true,
      .has_beats_per_bar = true,
      .has_bpm           = true,
      .has_speed         = true,
      .frame             = position,
      .bar               = (int64_t)bar,
      .bar_beat          = (float)(beat - bar * (double)beats_per_bar),
      .beat              = beat,
      .beats_per_bar     = beats_per_bar,
      .bpm               = bpm,
      .speed             = speed,
  };
  const LV2_Atom* const atom = hp_host_forge_position(host, &p);
  return atom ? hp_host_send_atom(host, frame, atom) : -1;
}

/* The patch protocol (README, "The patch protocol") */

static void
put_float(LV2_Atom_Forge* const forge, const LV2_URID key, const float value)
{
  lv2_atom_forge_key(forge, key);
  lv2_atom_forge_float(forge, value);
}

static LV2_Atom_Forge*
begin_message(HpHost* const               host,
              LV2_Atom_Forge_Frame* const frame,
              const LV2_URID              otype,
              const int                   seq)
{
  LV2_Atom_Forge* const forge =
    sink_reset(&host->proto_forge, &host->proto_sink);
  lv2_atom_forge_object(forge, frame, 0u, otype); // blank: id 0
  if (seq >= 0) {
    lv2_atom_forge_key(forge, host->uris.patch_sequenceNumber);
    lv2_atom_forge_int(forge, seq);
  }
  return forge;
}

static int
end_message(HpHost* const               host,
            LV2_Atom_Forge* const       forge,
            LV2_Atom_Forge_Frame* const frame,
            const uint64_t              when)
{
  lv2_atom_forge_pop(forge, frame);
  const LV2_Atom* const atom = sink_atom(&host->proto_sink);
  if (!atom) {
    host_set_error("out of memory building a message");
    return -1;
  }
  return hp_host_send_atom(host, when, atom);
}

/* An op through the plugin's own encoder (plugin/atoms.c), as the plugin
   decodes it. */
static int
send_op(HpHost* const     host,
        const uint64_t    frame,
        const HpOp* const op,
        const HpOp* const primes,
        const uint32_t    n_primes)
{
  LV2_Atom_Forge* const forge =
    sink_reset(&host->proto_forge, &host->proto_sink);
  if (!hp_atom_encode_op(forge, &host->uris, op, primes, n_primes)) {
    host_set_error("this operation has no message form");
    return -1;
  }
  const LV2_Atom* const atom = sink_atom(&host->proto_sink);
  if (!atom) {
    host_set_error("out of memory building a message");
    return -1;
  }
  return hp_host_send_atom(host, frame, atom);
}

/* A commit as the caller spells it, prime kinds and all (tests send kinds
   the plugin must refuse): by hand, not through the op encoder. */
int
hp_host_send_commit(HpHost*             host,
                    uint64_t            frame,
                    int                 seq,
                    const HpHostCommit* opts)
{
  const HpURIs* const   u = &host->uris;
  LV2_Atom_Forge_Frame  obj;
  LV2_Atom_Forge* const forge = begin_message(host, &obj, u->hp_Commit, seq);
  if (opts && opts->set_warmup) {
    lv2_atom_forge_key(forge, u->hp_warmup);
    lv2_atom_forge_int(forge, opts->warmup);
  }
  if (opts && opts->set_crossfade) {
    put_float(forge, u->hp_crossfade, opts->crossfade);
  }
  if (opts && opts->set_require_signal) {
    lv2_atom_forge_key(forge, u->hp_requireSignal);
    lv2_atom_forge_bool(forge, opts->require_signal);
  }
  if (opts && opts->prime) {
    LV2_Atom_Forge_Frame list;
    lv2_atom_forge_key(forge, u->hp_prime);
    lv2_atom_forge_tuple(forge, &list);
    for (uint32_t i = 0u; i < opts->n_prime; ++i) {
      const HpPrimeOp* const p = &opts->prime[i];
      LV2_Atom_Forge_Frame   entry;
      lv2_atom_forge_tuple(forge, &entry);
      lv2_atom_forge_string(forge, p->op, (uint32_t)strlen(p->op));
      lv2_atom_forge_string(forge, p->module, (uint32_t)strlen(p->module));
      if (p->param) {
        lv2_atom_forge_string(forge, p->param, (uint32_t)strlen(p->param));
      } else {
        lv2_atom_forge_atom(forge, 0u, 0u); // the empty atom: no parameter
      }
      lv2_atom_forge_float(forge, p->value);
      lv2_atom_forge_pop(forge, &entry);
    }
    lv2_atom_forge_pop(forge, &list);
  }
  return end_message(host, forge, &obj, frame);
}

int
hp_host_send_patch_get(HpHost* host, uint64_t frame, int seq)
{
  HpOp get;
  hp_op_init(&get, HP_OP_GET);
  get.seq = seq >= 0 ? seq : HP_NO_SEQ;
  return send_op(host, frame, &get, NULL, 0u);
}

int
hp_host_send_patch_set(HpHost*         host,
                       uint64_t        frame,
                       int             seq,
                       const char*     property,
                       const LV2_Atom* value)
{
  LV2_Atom_Forge_Frame  obj;
  LV2_Atom_Forge* const forge =
    begin_message(host, &obj, host->uris.patch_Set, seq);
  lv2_atom_forge_key(forge, host->uris.patch_property);
  lv2_atom_forge_urid(forge, hp_host_map(host, property));
  lv2_atom_forge_key(forge, host->uris.patch_value);
  lv2_atom_forge_write(forge, value, (uint32_t)sizeof(LV2_Atom) + value->size);
  return end_message(host, forge, &obj, frame);
}

int
hp_host_send_patch_set_path(HpHost*     host,
                            uint64_t    frame,
                            int         seq,
                            const char* property,
                            const char* path)
{
  LV2_Atom_Forge_Frame  obj;
  LV2_Atom_Forge* const forge =
    begin_message(host, &obj, host->uris.patch_Set, seq);
  lv2_atom_forge_key(forge, host->uris.patch_property);
  lv2_atom_forge_urid(forge, hp_host_map(host, property));
  lv2_atom_forge_key(forge, host->uris.patch_value);
  lv2_atom_forge_path(forge, path, (uint32_t)strlen(path));
  return end_message(host, forge, &obj, frame);
}

int
hp_host_send_text(HpHost* host, uint64_t frame, int seq, const char* line)
{
  /* The engine's own parser (src/text.c), unchecked: values the plugin
     must refuse are sent as written. */
  HpOp           op;
  HpError        err;
  const HpStatus st = hp_op_parse_text_unchecked(line, &op, &err);
  if (st == HP_ERR_NOTHING_STAGED) {
    return 1;
  }
  if (st) {
    host_set_error("%s: \"%s\"", err.message, line);
    return -1;
  }
  op.seq = seq >= 0 ? seq : HP_NO_SEQ;
  if (op.type == HP_OP_PRIME_SET || op.type == HP_OP_PRIME_GATE) {
    if (host->n_primes == HP_HOST_MAX_PRIMES) {
      host_set_error("more than %d /patch/prime lines before a commit",
                     HP_HOST_MAX_PRIMES);
      return -1;
    }
    host->primes[host->n_primes++] = op; /* rides on the next commit */
    return 0;
  }
  const bool commit = op.type == HP_OP_COMMIT;
  const int  r      = send_op(host,
                        frame,
                        &op,
                        commit && host->n_primes ? host->primes : NULL,
                        commit ? host->n_primes : 0u);
  if (commit) {
    host->n_primes = 0u;
  }
  return r;
}
