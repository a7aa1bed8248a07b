/*
  Stress and faults through the lilv test host (threaded worker, as jalv):
  a soak of mixed operations -- commits (some polyphonic, 1 to 32 voices
  played by MIDI; some tail commits; modules of every type the instrument
  takes, from the registry, with parameters drawn from their ranges, wired
  into the chain, now and then in a loop through a delay's wet output or
  to the two sides; a delay and a reverb kept from commit to commit, the
  delay's size kept or changed), aborts, hp:Set, hp:Gate, patch file
  loads, scene changes, state saves, patch:Get, malformed messages, floods
  that fill the plugin's operation queue, notes, pitch bends and floods of
  1,000 notes in one block -- at random block sizes,
  with the worker slowed at random (up to 100 ms a job) and the host's
  worker ring small (512 bytes: 64 tokens) so it is full at times.

  Checked as it goes, with the recording discarded now and then so memory
  stays flat: no silent 256-frame window once a sounding patch plays (every
  patch the soak commits keeps an oscillator straight to the output, its
  gain never set below 0.1, and commits ask for hp:requireSignal; only a
  commit some of whose staging messages a full queue refused may lack it,
  and audio is not judged while one plays), no NaN or Inf, every numbered
  message answered exactly once (patch:Ack or patch:Error; patch:Set for
  patch:Get), no valid commit failing for a reason other than being
  superseded or aborted (or, with drawn values, too loud at warm-up).  At
  the end: the state equals the last commit (patch:Get text, module count,
  pitch, saved state), after warm-up RSS grew less than 5 MB and the heap
  in use less than 2 MB, run() made no call to malloc & co, locks, sleeps
  or stdio (rtcheck.h), and every module type the instrument takes was
  created, and played in a patch that swapped in.  (The same contracts
  probed one fault at a time: test_stress_probes.c.)

    ./build/tests/test_stress_soak [OPS]      (or HP_STRESS_OPS=N; default 5000)
    HP_STRESS_SEED=N  HP_STRESS_DELAY_US=N (worker delay, default 100000)
    HP_STRESS_SPEED=N (audio runs at most N times real time; default 10)
    HP_STRESS_KINDS=set,gate,... (only these operations; names as printed)
*/

#include "host.h"
#include "rtcheck.h"
#include "signal.h"
#include "soak.h"

#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WINDOW 256u       /* a silent window: 256 frames ... */
#define SILENT_PEAK 1e-4f /* ... none louder than this */
#define FLOOD 1100        /* messages in a flood (queue: 1024 ops) */
/* Growth allowed after warm-up.  The heap in use tells a leak; the RSS
   also counts the pages of delay lines first written late in the run and
   what the allocator keeps of the lines it freed (reverts and quantized
   commits rebuild them): measured up to +6.1 MiB with the heap flat
   (+0.1 MiB). */
#define RSS_LIMIT_KB (10 * 1024)
#define HEAP_LIMIT_KB (2 * 1024)

/* Bug-revealing checks (EXPECT) report and carry on, so one run shows
   every failure and its figures; main() fails at the end if any failed. */

/* Read the notify events that arrived since the last look. */
static void
read_events(Soak* const s)
{
  HpHost* const h = s->host;
  const size_t  n = hp_host_n_events(h);
  const double  t = now_s();
  for (; s->ev_seen < n; ++s->ev_seen) {
    const HpHostEvent* ev = hp_host_event(h, s->ev_seen);
    if (ev->kind == HP_EV_SWAPPED && !s->sounding && ev->seq == s->first_seq &&
        s->first_seq >= 0) {
      s->sounding   = true;
      s->guarded    = true;
      s->check_from = ev->frame_abs;
    }
    if (ev->kind == HP_EV_SWAPPED && ev->seq < 0) {
      guard(s, ev->frame_abs, !s->bank_tainted); /* a scene change */
    } else if (ev->kind == HP_EV_SWAPPED && ev->seq < s->next_seq) {
      const Slot* const slot    = &s->slots[(uint32_t)ev->seq % SLOTS];
      const bool        tainted = (slot->flags & F_TAINTED) != 0;
      s->tainted_swaps += tainted;
      s->bank_tainted = tainted || (s->bank_tainted && !(slot->flags & F_FILE));
      guard(s, ev->frame_abs, !tainted);
    }
    const bool answer = ev->kind == HP_EV_ACK || ev->kind == HP_EV_ERROR ||
                        (ev->kind == HP_EV_PATCH_SET && ev->property &&
                         !strcmp(ev->property, HP__patch));
    if (!answer || ev->seq < 0) {
      continue;
    }
    if (ev->seq >= s->next_seq || s->next_seq - ev->seq > (int32_t)SLOTS) {
      ++s->duplicates; /* a number never sent, or one long written off */
      continue;
    }
    Slot* const slot = &s->slots[(uint32_t)ev->seq % SLOTS];
    if (!slot->kind || slot->replies) {
      ++s->duplicates;
      continue;
    }
    ++slot->replies;
    s->max_latency   = fmax(s->max_latency, t - slot->sent);
    const char* msg  = ev->message ? ev->message : "";
    const bool  full = ev->kind == HP_EV_ERROR && strstr(msg, "queue is full");
    if (ev->kind == HP_EV_ACK) {
      ++s->acks;
    } else if (ev->kind == HP_EV_ERROR) {
      ++s->errors;
      s->queue_full += full;
    }
    switch (slot->kind) {
    case M_STAGE:
      if (ev->kind == HP_EV_ERROR) {
        Slot* const c = &s->slots[(uint32_t)slot->txn % SLOTS];
        c->flags |= F_TAINTED;
      }
      break;
    case M_COMMIT:
      if (ev->kind == HP_EV_ACK) {
        ++s->swapped;
        if (!(slot->flags & F_TAINTED)) {
          for (uint32_t k = 0; k < MAX_TYPES; ++k) {
            s->played[k] += (slot->types >> k) & 1u;
          }
        }
        if (slot->flags & F_MUST_FAIL) {
          ++s->failed_unexpected;
          snprintf(s->unexpected,
                   sizeof(s->unexpected),
                   "commit %d swapped in, but it was made to fail",
                   ev->seq);
        }
      } else if (full) {
        ++s->dropped;
      } else if (strstr(msg, "superseded")) {
        ++s->superseded;
      } else if (strstr(msg, "was aborted")) {
        ++s->aborted;
      } else if (slot->flags & (F_MUST_FAIL | F_TAINTED)) {
        ++s->failed_expected;
      } else if ((slot->flags & F_LOUD_OK) && strstr(msg, "warm-up peak")) {
        ++s->too_loud;
      } else {
        ++s->failed_unexpected;
        snprintf(
          s->unexpected, sizeof(s->unexpected), "commit %d: %s", ev->seq, msg);
      }
      break;
    case M_GET:
      s->gets_answered += ev->kind == HP_EV_PATCH_SET;
      break;
    default:
      if ((slot->flags & F_MUST_ERR) && ev->kind == HP_EV_ACK) {
        ++s->must_err_acked;
      }
      break;
    }
  }
}

/* Scan new audio: NaN/Inf, and runs of quiet frames (a run of 256 or more
   is a silent window; every window position counts). */
static void
scan_audio(Soak* const s)
{
  HpHost* const  h     = s->host;
  const size_t   n     = hp_host_recorded(h);
  const uint64_t start = hp_host_recorded_start(h);
  const float*   l     = hp_host_out_l(h);
  const float*   r     = hp_host_out_r(h);
  for (size_t i = s->rec_seen; i < n; ++i) {
    if (!isfinite(l[i]) || !isfinite(r[i])) {
      ++s->nonfinite;
    }
    uint32_t g = 0;
    while (g < s->n_guard && s->guard_frame[g] <= start + i) {
      s->guarded = s->guard_state[g++];
    }
    if (g) {
      memmove(s->guard_frame,
              s->guard_frame + g,
              (s->n_guard - g) * sizeof(uint64_t));
      memmove(
        s->guard_state, s->guard_state + g, (s->n_guard - g) * sizeof(bool));
      s->n_guard -= g;
    }
    if (!s->sounding || start + i < s->check_from) {
      continue;
    }
    if (!s->guarded) {
      ++s->unguarded_frames;
      s->quiet_run = 0;
      continue;
    }
    ++s->frames_checked;
    if (fabsf(l[i]) <= SILENT_PEAK && fabsf(r[i]) <= SILENT_PEAK) {
      if (++s->quiet_run >= WINDOW) {
        if (s->quiet_run == WINDOW) {
          ++s->silent_runs;
          if (!s->first_silent) {
            s->first_silent = start + i + 1 - WINDOW;
          }
        }
        ++s->silent_windows;
        if (s->quiet_run > s->longest_quiet) {
          s->longest_quiet = s->quiet_run;
        }
      }
    } else {
      s->quiet_run = 0;
    }
  }
  s->rec_seen = n;
}

/* Notifications the plugin says it dropped (its log). */
static void
count_log(Soak* const s)
{
  const size_t n = hp_host_log_count(s->host);
  for (size_t i = 0; i < n; ++i) {
    char line[128];
    hp_host_log_get(s->host, i, line, sizeof(line));
    s->notes_dropped += strstr(line, "notification queue full") != NULL;
  }
}

/* One block: run it, read what came back, keep memory bounded. */
static void
block(Soak* const s, const uint32_t n)
{
  CHECK_MSG(!hp_host_run(s->host, n), "%s", hp_host_last_error());
  read_events(s);
  scan_audio(s);
  if (hp_host_recorded(s->host) > (1u << 18u)) {
    hp_host_discard_output(s->host);
    s->rec_seen = 0;
    ++s->discards;
  }
  /* Events are read: drop them (the host would keep every one), unless the
     final checks look them up. */
  if (!s->keep_events || hp_host_n_events(s->host) > 4096) {
    hp_host_clear_events(s->host);
    s->ev_seen = 0;
  }
  if (hp_host_log_count(s->host) > 256) {
    count_log(s);
    hp_host_log_clear(s->host);
  }
}

/* Read and drop what the host holds (events, log), and have malloc give
   back the pages it keeps free (delay lines of up to 4 MB come and go;
   what it caches of them is not a leak), so memory figures compare like
   with like. */
static void
settle(Soak* const s)
{
  read_events(s);
  hp_host_clear_events(s->host);
  s->ev_seen = 0;
  count_log(s);
  hp_host_log_clear(s->host);
  malloc_trim(0);
}

/* Numbered messages still unanswered. */
static uint64_t
outstanding(const Soak* const s)
{
  uint64_t n = 0;
  int32_t  from =
    s->next_seq > (int32_t)SLOTS ? s->next_seq - (int32_t)SLOTS : 0;
  for (int32_t q = from; q < s->next_seq; ++q) {
    const Slot* slot = &s->slots[(uint32_t)q % SLOTS];
    n += slot->kind && !slot->replies;
  }
  return n;
}

/* Let real time pass (a 256-frame block every 5 ms) until every answer is
   in, or the worker has been idle for 100 ms and nothing more can come. */
static void
drain(Soak* const s, const double seconds)
{
  const double until = now_s() + seconds;
  int          idle  = 0;
  while (now_s() < until && outstanding(s) && idle < 20) {
    block(s, 256);
    sleep_s(0.005);
    idle = hp_host_wait_worker(s->host, 0) ? 0 : idle + 1;
  }
  for (int i = 0; i < 8; ++i) {
    block(s, 256); /* what the last job published */
  }
}

static uint32_t
pick_block(HpHost* const h)
{
  /* 1..4096, with the edges drawn 1 time in 8 (as the host's own policy). */
  if (hp_host_random(h, 0, 7) == 0) {
    static const uint32_t edges[] = {1, 2, 4095, 4096};
    return edges[hp_host_random(h, 0, 3)];
  }
  return hp_host_random(h, 1, 4096);
}

/* HP_STRESS_KINDS=set,gate,... limits the soak to those kinds (to chase a
   failure); the weights keep their ratios. */
static unsigned weights[N_KINDS];
static unsigned weight_total;

static void
setup_weights(void)
{
  const char* only = getenv("HP_STRESS_KINDS");
  weight_total     = 0;
  for (int k = 0; k < N_KINDS; ++k) {
    bool on = !only || !*only;
    for (const char* p = only; p && *p && !on;) {
      const size_t len = strcspn(p, ",");
      on |= len == strlen(kind_names[k]) && !strncmp(p, kind_names[k], len);
      p += len + (p[len] == ',');
    }
    weights[k] = on ? kind_weights[k] : 0;
    weight_total += weights[k];
  }
  CHECK_MSG(weight_total > 0, "HP_STRESS_KINDS=%s names no kind", only);
}

static Kind
pick_kind(HpHost* const h)
{
  uint32_t x = hp_host_random(h, 0, weight_total - 1);
  for (int k = 0; k < N_KINDS; ++k) {
    if (x < weights[k]) {
      return (Kind)k;
    }
    x -= weights[k];
  }
  return K_SET;
}

static void
soak(const unsigned long n_ops)
{
  const unsigned long seed     = env_number("HP_STRESS_SEED", 20240601);
  const unsigned long delay_us = env_number("HP_STRESS_DELAY_US", 100000);
  const double        speed    = (double)env_number("HP_STRESS_SPEED", 10);

  HpHostConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.worker_mode         = HP_WORKER_THREADED;
  cfg.sample_rate         = RATE;
  cfg.max_block           = 4096;
  cfg.seed                = seed;
  cfg.worker_ring_size    = 512;
  cfg.worker_delay_max_us = (uint32_t)delay_us;
  cfg.poison_outputs      = true; /* a frame run() leaves unwritten is NaN */

  setup_weights();
  static Soak s;
  memset(&s, 0, sizeof(s));
  s.slots = (Slot*)calloc(SLOTS, sizeof(Slot));
  CHECK(s.slots);
  memset(s.slots, 0, SLOTS * sizeof(Slot)); /* resident before measuring */
  s.first_seq = -1;
  setup_files(&s);
  s.host          = fx_host_cfg(cfg);
  HpHost* const h = s.host;
  CHECK_MSG(!hp_rt_available() || !hp_rt_check_linkage(),
            "rtcheck linkage: %s",
            hp_rt_check_linkage());
  hp_rt_reset();
  snprintf(s.anchor, sizeof(s.anchor), "a0");
  snprintf(s.env, sizeof(s.env), "e0");
  snprintf(s.filt, sizeof(s.filt), "f0");
  snprintf(s.extra, sizeof(s.extra), "x0");

  const double t0 = now_s();

  /* The first sounding patch. */
  s.first_seq = s.next_seq;
  commit_full(&s, hp_host_frames(h), false);
  for (int i = 0; i < 4000 && !s.sounding; ++i) {
    block(&s, 256);
    if (!s.sounding) {
      hp_host_wait_worker(h, 200);
    }
  }
  CHECK_MSG(s.sounding,
            "the first patch never swapped in: %s (%llu refused as too loud)",
            s.unexpected[0] ? s.unexpected : "no failure seen",
            (unsigned long long)s.too_loud);

  const unsigned long warm          = n_ops / 10;
  long                rss_before    = -1;
  long                rss_mid       = -1;
  long                heap_before   = -1;
  long                anon_before   = -1;
  size_t              blocks_before = 0;
  long                anon_mid      = -1;
  long                heap_mid      = -1;
  unsigned      freewheel = 150; /* blocks left unpaced; one burst first */
  uint64_t      freewheel_blocks = 0;
  double        paced_wall       = now_s();
  unsigned long done             = 0;
  while (done < n_ops) {
    /* Warm-up: a tenth of the run, and the host's buffers at full size. */
    if (done >= warm && s.discards >= 2 && rss_before < 0) {
      settle(&s);
      hp_host_blocks(h, &blocks_before);
      rss_before  = rss_kb(&anon_before);
      heap_before = heap_kb();
    }
    if (done >= n_ops / 2 && rss_before >= 0 && rss_mid < 0) {
      settle(&s);
      rss_mid  = rss_kb(&anon_mid);
      heap_mid = heap_kb();
    }
    const uint32_t n  = pick_block(h);
    const uint64_t at = hp_host_frames(h);
    /* 0 to 3 operations in this block, each at one frame of it. */
    const uint32_t count = hp_host_random(h, 0, 3);
    for (uint32_t c = 0; c < count && done < n_ops; ++c, ++done) {
      const uint64_t frame = at + hp_host_random(h, 0, n - 1);
      /* A flood half-way through the warm-up: the host's buffers reach
         their full size before memory is measured. */
      const Kind kind = done == warm / 2 ? K_FLOOD : pick_kind(h);
      ++s.ops[kind];
      switch (kind) {
      case K_COMMIT:
        commit_full(&s, frame, false);
        break;
      case K_COMMIT_EDIT:
        commit_edit(&s, frame);
        break;
      case K_COMMIT_BAD:
        commit_full(&s, frame, true);
        break;
      case K_ABORT:
        text(&s, frame, take_seq(&s, M_OTHER, -1, 0), "/patch/abort");
        break;
      case K_SET:
        live_set(&s, frame);
        break;
      case K_GATE: {
        char line[64];
        snprintf(line,
                 sizeof(line),
                 "/patch/gate %s %u",
                 s.env,
                 hp_host_random(h, 0, 1));
        text(&s,
             frame,
             hp_host_random(h, 0, 3) ? take_seq(&s, M_OTHER, -1, 0) : -1,
             line);
        break;
      }
      case K_FILE:
        load_file(&s, frame);
        break;
      case K_SCENE:
        /* Scenes 1..4 of the bank, or an empty one (refused in the log),
           at once or on the host's beat or bar. */
        CHECK(!hp_host_set_control(
          h, "scene_quant", (float)hp_host_random(h, 0, 2)));
        CHECK(!hp_host_set_control(
          h,
          "scene",
          (float)(hp_host_random(h, 0, 9) ? hp_host_random(h, 0, 3) : 6)));
        break;
      case K_SAVE:
        CHECK_MSG(!hp_host_save_state(h, s.state_dir),
                  "save: %s",
                  hp_host_last_error());
        ++s.saves;
        break;
      case K_GET:
        CHECK(!hp_host_send_patch_get(h, frame, take_seq(&s, M_GET, -1, 0)));
        ++s.messages;
        break;
      case K_MALFORMED:
        malformed(&s, frame);
        break;
      case K_FLOOD:
        /* Automation gone wild: more numbered hp:Sets in one block than
           the operation queue holds. */
        for (int i = 0; i < FLOOD; ++i) {
          char line[96];
          snprintf(line,
                   sizeof(line),
                   "/patch/set %s freq %d",
                   s.anchor,
                   200 + i % 500);
          text(&s, frame, take_seq(&s, M_OTHER, -1, 0), line);
        }
        break;
      case K_NOTES:
        notes(&s, frame);
        break;
      case K_BEND:
        bend(&s, frame);
        break;
      case K_NOTE_FLOOD:
        note_flood(&s, at, n);
        break;
      case K_TIME:
        time_position(&s, frame);
        break;
      case K_REVERT:
        revert(&s, frame);
        break;
      case N_KINDS:
        break;
      }
    }
    block(&s, n);

    /* Pace: at most `speed` times real time, except in freewheel bursts
       (an export), when the worker's ring fills. */
    if (freewheel) {
      --freewheel;
      ++freewheel_blocks;
      paced_wall = now_s();
    } else {
      paced_wall += (double)n / (RATE * speed);
      const double ahead = paced_wall - now_s();
      if (ahead > 0.0) {
        sleep_s(ahead);
      } else if (ahead < -0.05) {
        paced_wall = now_s(); /* no catching up in a burst */
      }
      if (hp_host_random(h, 0, 199) == 0) {
        freewheel = hp_host_random(h, 20, 150);
      }
    }
  }
  const double t_ops = now_s() - t0;

  /* Let every answer come in, the scene control's last move included. */
  drain(&s, 30.0);
  const uint64_t unanswered = outstanding(&s);

  /* The last commit: a known patch; the final state must be exactly it. */
  s.keep_events           = true;
  const int32_t final_seq = take_seq(&s, M_COMMIT, -1, 0);
  ++s.commits_sent;
  static const char* const final_lines[] = {"/patch/clear",
                                            "/patch/create fin sine",
                                            "/patch/set fin freq 523.25",
                                            "/patch/set fin gain 0.3",
                                            "/patch/create fin_lfo lfo",
                                            "/patch/set fin_lfo rate 2"};
  for (size_t i = 0; i < sizeof(final_lines) / sizeof(final_lines[0]); ++i) {
    text(&s, hp_host_frames(h), -1, final_lines[i]);
  }
  text(&s, hp_host_frames(h), final_seq, "/patch/commit require_signal=1");
  /* (Events are copied out at once: block() may clear them.) */
  bool final_acked      = false;
  bool final_answered   = false;
  char final_error[320] = "";
  for (int i = 0; i < 400 && !final_answered; ++i) {
    block(&s, 256);
    hp_host_wait_worker(h, 200);
    const HpHostEvent* ev = hp_host_find_reply(h, final_seq);
    if (ev) {
      final_answered = true;
      final_acked    = ev->kind == HP_EV_ACK;
      snprintf(
        final_error, sizeof(final_error), "%s", ev->message ? ev->message : "");
    }
  }
  CHECK_MSG(final_answered, "the final commit was never answered");
  CHECK_MSG(final_acked, "the final commit failed: %s", final_error);
  drain(&s, 5.0);
  /* After its 20 ms crossfade, only the final patch plays. */
  hp_host_discard_output(h);
  s.rec_seen = 0;
  for (int i = 0; i < 96; ++i) {
    block(&s, 500);
  }
  const size_t rec  = hp_host_recorded(h);
  const double freq = hp_sig_freq(hp_host_out_l(h) + rec - 24000, 24000, RATE);
  const double rms  = hp_sig_rms(hp_host_out_l(h) + rec - 24000, 24000);
  const float  modules = hp_host_control_out(h, "modules");
  const float  swaps   = hp_host_control_out(h, "swaps");

  const int32_t get_seq = take_seq(&s, M_GET, -1, 0);
  CHECK(!hp_host_send_patch_get(h, hp_host_frames(h), get_seq));
  bool got            = false;
  char got_text[4096] = "(no answer)";
  for (int i = 0; i < 400 && !got; ++i) {
    block(&s, 256);
    hp_host_wait_worker(h, 200);
    for (size_t e = 0; e < hp_host_n_events(h) && !got; ++e) {
      const HpHostEvent* ev = hp_host_event(h, e);
      if (ev->kind == HP_EV_PATCH_SET && ev->seq == get_seq && ev->property &&
          !strcmp(ev->property, HP__patch) && ev->value_string) {
        got = true;
        snprintf(got_text, sizeof(got_text), "%s", ev->value_string);
      }
    }
  }
  static const char want_text[] = "/patch/clear\n"
                                  "/patch/create fin sine\n"
                                  "/patch/set fin freq 523.25\n"
                                  "/patch/set fin gain 0.3\n"
                                  "/patch/create fin_lfo lfo\n"
                                  "/patch/set fin_lfo rate 2\n";
  CHECK_MSG(
    !hp_host_save_state(h, s.state_dir), "save: %s", hp_host_last_error());
  char* state = hp_host_state_to_string(h);
  CHECK(state);
  const bool state_has_final =
    strstr(state, "\\\"fin\\\"") || strstr(state, "\"fin\"");
  const bool state_has_freq = strstr(state, "523.25") != NULL;
  free(state);
  settle(&s);
  long         anon_after = -1;
  const long   rss_after  = rss_kb(&anon_after);
  const long   heap_after = heap_kb();
  const double wall       = now_s() - t0;

  HpRtCounts rt;
  hp_rt_counts(&rt);
  HpWorkerStats ws;
  hp_host_worker_stats(h, &ws);
  size_t n_blocks = 0;
  hp_host_blocks(h, &n_blocks);

  printf("# soak: %lu operations in %.1f s (%.1f s with the final checks), "
         "%.1f s of audio at up to %.0fx real time, %llu freewheel blocks; "
         "seed %lu\n",
         n_ops,
         t_ops,
         wall,
         (double)hp_host_frames(h) / RATE,
         speed,
         (unsigned long long)freewheel_blocks,
         seed);
  printf("# ops by kind:");
  for (int k = 0; k < N_KINDS; ++k) {
    printf(" %s %llu%s",
           kind_names[k],
           (unsigned long long)s.ops[k],
           k + 1 < N_KINDS ? "," : "\n");
  }
  printf("# messages: %llu sent, %llu numbered; answers: %llu Ack, %llu Error "
         "(%llu 'queue is full'), %llu lost, %llu duplicate or unknown; "
         "%llu patch:Get answered; slowest answer %.0f ms; the plugin logged "
         "%llu 'notification queue full; one dropped'\n",
         (unsigned long long)s.messages,
         (unsigned long long)s.numbered,
         (unsigned long long)s.acks,
         (unsigned long long)s.errors,
         (unsigned long long)s.queue_full,
         (unsigned long long)(s.lost + unanswered),
         (unsigned long long)s.duplicates,
         (unsigned long long)s.gets_answered,
         s.max_latency * 1e3,
         (unsigned long long)s.notes_dropped);
  printf("# voices and MIDI: %llu commits with a MIDI-played chain of up to "
         "%u voices, %llu tail commits; %llu MIDI events (%llu in floods of "
         "1,000 notes in one block)\n",
         (unsigned long long)s.poly_commits,
         s.max_voices,
         (unsigned long long)s.tail_commits,
         (unsigned long long)s.midi_events,
         (unsigned long long)s.flood_events);
  printf("# musical time: %llu time:Position objects (%llu hostile), %llu "
         "quantized commits, %llu reverts\n",
         (unsigned long long)s.positions,
         (unsigned long long)s.hostile_positions,
         (unsigned long long)s.quant_commits,
         (unsigned long long)s.ops[K_REVERT]);
  printf("# commits (file loads included): %llu sent, %llu swapped (the swaps "
         "port, scene changes included: %g), %llu "
         "superseded, %llu aborted, %llu dropped (queue full), %llu failed as "
         "meant (made to fail, or a staging message refused), %llu refused "
         "as too loud at warm-up (a drawn gain or modulation), %llu failed "
         "otherwise\n",
         (unsigned long long)s.commits_sent,
         (unsigned long long)s.swapped,
         (double)swaps,
         (unsigned long long)s.superseded,
         (unsigned long long)s.aborted,
         (unsigned long long)s.dropped,
         (unsigned long long)s.failed_expected,
         (unsigned long long)s.too_loud,
         (unsigned long long)s.failed_unexpected);
  printf("# module types created (in commits that swapped in whole):");
  uint32_t n_playable = 0;
  uint32_t n_created  = 0;
  uint32_t n_played   = 0;
  for (uint32_t t = 0; hp_module_types[t]; ++t) {
    if (!playable(hp_module_types[t])) {
      printf(" %s -", hp_module_types[t]->type);
      continue;
    }
    printf(" %s %llu (%llu)",
           hp_module_types[t]->type,
           (unsigned long long)s.created[t],
           (unsigned long long)s.played[t]);
    ++n_playable;
    n_created += s.created[t] > 0;
    n_played += s.played[t] > 0;
  }
  printf("; %llu loops through a delay's wet output, %llu stereo pairs to "
         "the sides, the kept delay kd: %llu commits at its size (memory "
         "kept), %llu resized; the reverb kr in %llu commits\n",
         (unsigned long long)s.loops,
         (unsigned long long)s.sides,
         (unsigned long long)s.kd_kept,
         (unsigned long long)s.kd_resized,
         (unsigned long long)s.kr_commits);
  printf("# worker: delay up to %lu ms a job, %llu jobs, ring 512 bytes: %llu "
         "of %llu tokens refused (ring full); %llu state saves\n",
         delay_us / 1000,
         (unsigned long long)ws.work_calls,
         (unsigned long long)ws.schedule_failures,
         (unsigned long long)ws.schedule_calls,
         (unsigned long long)s.saves);
  printf("# audio: %.1f s checked (%.1f s not: %llu commits with a refused "
         "staging message swapped in), %llu silent 256-frame windows (%llu "
         "runs, longest %llu frames), %llu NaN/Inf samples\n",
         (double)s.frames_checked / RATE,
         (double)s.unguarded_frames / RATE,
         (unsigned long long)s.tainted_swaps,
         (unsigned long long)s.silent_windows,
         (unsigned long long)s.silent_runs,
         (unsigned long long)s.longest_quiet,
         (unsigned long long)s.nonfinite);
  printf("# final state: %s, %.3f Hz at RMS %.3f, %g modules; patch:Get %s\n",
         final_acked ? "committed" : "failed",
         freq,
         rms,
         (double)modules,
         got && !strcmp(got_text, want_text) ? "matches the last commit"
                                             : "differs");
  /* Growth less the host's block log (RSS: the entries written; heap: the
     array allocated). */
  const long log_rss =
    block_log_kb(n_blocks, false) - block_log_kb(blocks_before, false);
  const long log_heap =
    block_log_kb(n_blocks, true) - block_log_kb(blocks_before, true);
  const long rss_growth  = rss_after - rss_before - log_rss;
  const long heap_growth = heap_after - heap_before - log_heap;
  printf("# memory: RSS %ld KiB after warm-up (%lu ops), %ld KiB half-way, "
         "%ld KiB at the end (not file-backed: %ld, %ld, %ld KiB); heap in use "
         "%ld, %ld, %ld KiB; growth less the test host's log of %zu blocks: "
         "RSS %+ld KiB, heap %+ld KiB\n",
         rss_before,
         warm,
         rss_mid,
         rss_after,
         anon_before,
         anon_mid,
         anon_after,
         heap_before,
         heap_mid,
         heap_after,
         n_blocks,
         rss_growth,
         heap_growth);

  EXPECT(s.silent_windows == 0,
         "%llu silent windows, the first at frame %llu",
         (unsigned long long)s.silent_windows,
         (unsigned long long)s.first_silent);
  EXPECT(
    s.nonfinite == 0, "%llu NaN/Inf samples", (unsigned long long)s.nonfinite);
  EXPECT(s.lost + unanswered == 0,
         "%llu numbered messages never answered (the plugin logged %llu "
         "'notification queue full; one dropped')",
         (unsigned long long)(s.lost + unanswered),
         (unsigned long long)s.notes_dropped);
  EXPECT(s.duplicates == 0,
         "%llu duplicate answers",
         (unsigned long long)s.duplicates);
  EXPECT(s.must_err_acked == 0,
         "%llu bad messages acknowledged",
         (unsigned long long)s.must_err_acked);
  EXPECT(s.failed_unexpected == 0,
         "%llu valid commits failed; the last: %s",
         (unsigned long long)s.failed_unexpected,
         s.unexpected);
  /* The soak's own sanity: commits do swap in (most are superseded: the
     worker takes up to 100 ms a job, and in a job the last commit wins). */
  CHECK_MSG(swaps >= 1.0f + (float)ws.work_calls / 20.0f,
            "only %g swaps in %llu worker jobs",
            (double)swaps,
            (unsigned long long)ws.work_calls);
  /* Every type the instrument takes (- above: it refuses it) was created,
     and played in a patch that swapped in, once the run has swapped in
     patches enough to go round them all. */
  if (s.ops[K_COMMIT] >= n_playable) {
    CHECK_MSG(n_created == n_playable,
              "%u of %u module types created",
              n_created,
              n_playable);
  }
  if (s.swapped >= 2u * n_playable) {
    CHECK_MSG(n_played == n_playable,
              "%u of %u module types played in %llu swaps",
              n_played,
              n_playable,
              (unsigned long long)s.swapped);
  }
  if (hp_rt_available()) {
    EXPECT(rt.total == 0,
           "run() made %llu forbidden calls",
           (unsigned long long)rt.total);
    printf("# real time: run() made %llu calls to malloc & co, locks, "
           "sleeps or stdio\n",
           (unsigned long long)rt.total);
    hp_rt_print(stdout, &rt);
  } else {
    printf("# rtcheck unavailable: %s\n", hp_rt_unavailable_reason());
  }
  EXPECT(fabs(freq - 523.25) < 0.1, "final pitch %.3f Hz", freq);
  EXPECT(modules == 2.0f, "module count port %g", (double)modules);
  EXPECT(got && !strcmp(got_text, want_text),
         "patch:Get after the last commit:\n%s\nexpected:\n%s",
         got_text,
         want_text);
  EXPECT(state_has_final && state_has_freq,
         "the saved state lacks the final patch");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  printf("# memory growth not checked: a sanitizer's quarantine and shadow "
         "memory hold what the program frees\n");
#else
  /* Valgrind (./waf test --valgrind) runs the program on its own heap. */
  const char* preload  = getenv("LD_PRELOAD");
  const bool  valgrind = preload && strstr(preload, "vgpreload");
  if (valgrind) {
    printf("# memory growth not checked: under valgrind (it checks leaks)\n");
  } else if (rss_before < 0) {
    printf("# memory growth not checked: too short a run to warm up\n");
  }
  EXPECT(valgrind || rss_before < 0 || rss_growth < RSS_LIMIT_KB,
         "RSS grew from %ld to %ld KiB (%+ld KiB less the host's block log)",
         rss_before,
         rss_after,
         rss_growth);
  EXPECT(valgrind || rss_before < 0 || heap_growth < HEAP_LIMIT_KB,
         "heap in use grew from %ld to %ld KiB (%+ld KiB less the host's "
         "block log)",
         heap_before,
         heap_after,
         heap_growth);
#endif

  hp_host_free(h);
  free(s.slots);
  remove_temp_dir();
}

int
main(const int argc, char** const argv)
{
  unsigned long n_ops = env_number("HP_STRESS_OPS", 5000);
  if (argc > 1) {
    n_ops = strtoul(argv[1], NULL, 10);
  }
  CHECK_MSG(n_ops > 0, "usage: %s [OPERATIONS]", argv[0]);
  soak(n_ops);
  return expect_summary("stress");
}
