/*
  The lock-free handoff between the worker (src/worker.c) and run()
  (src/audio_thread.c),
  as a Promela model for spin.  tests/test_model.sh checks it.

  Two processes:

  audio   run(): submits commits, aborts and live sets into the op queue
          (hp_engine_submit), polls for a standby (take_standby: check
          that the retired ring has room for every graph that may retire
          before the next swap, load `ready`, exchange it, swap in; then
          either crossfade, the old graph joining the fading ones (the
          oldest retired first when MAXF fade already), or switch at once,
          retiring the old graph and every fading one, or, for a tail
          commit, make the old graph a tail; every swap starts every tail
          fading: tail_end) and ends crossfades (crossfade(): a fade that
          ends retires its graph and every older one), and rings the tails
          (ring_tails(): the ringing tail rings out and starts fading; a
          tail that has faded out retires: retire_tail).  A quantized
          standby (hp:quant) stays in `ready` until its boundary: run()
          polls nondeterministically here, so any number of polls not
          made covers it; `ready_info`, which tells run() the boundary
          without taking the graph, holds no pointer and is not modelled.
  worker  hp_engine_work() and the commits made under `lock` (restore,
          scene, live reload: all go through commit()): frees retired
          graphs (free_retired) and applies queued commits (commit():
          settle_base, build, then only if that succeeded
          reclaim_standby, a second build if run() took the earlier
          standby meanwhile, supersede, publish), aborts (abort_staged)
          and live sets (record_live: the standby, if any, is taken back,
          set and published again).

  Tails.  A tail commit's old graph does not fade: it becomes a tail
          (graph = old, owner = the new active graph, parked = NULL) and
          plays beside the active graph from copies in its owner's spare
          states.  With MAXT tails, a new one retires the oldest at once
          (retire_tail(e, 0)).  retire() parks an owner instead of
          retiring it (the owner is switched out, or its fade ends): the
          tail's owner becomes NULL, parked the owner, and the tail starts
          fading; retire_tail pushes the parked owner right after the
          tail's own graph.  The room check counts fades + tails + parked
          owners + 1.

  Granularity.  One Promela step is one operation on shared memory (an
  atomic load, store or exchange of `ready`, one ring push or pop, one
  free) together with operations on thread-local data around it (the
  locals of one thread commute with everything the other thread does, so
  grouping them does not hide an interleaving).  Where the C code makes
  two shared operations in a row, they are two steps: poll's room check,
  load and exchange, reclaim_standby's exchange then its use of
  `published`, commit's build then its release store, record_live's
  exchange then its store, free_retired's pop then free.

  Graphs are ids 1..NG (0 is NULL); an id freed is reused (lowest free
  first), as malloc reuses addresses, so a generation number tells
  incarnations apart.  Each graph carries ghost data: its state (who owns
  it), its generation (the C tag->generation), the generation of the
  graph it was built against (g->base), and the patch version it was
  compiled from.  Ghost data changes in the same step as the C operation
  it shadows and never influences the modelled code.

  Abstracted away: the DSP and the patch contents (a patch is a version
  number), warm-up (a build succeeds or fails, nondeterministically),
  the crossfade length (each swap crossfades, switches at once or, for a
  tail commit, leaves a tail, nondeterministically; a crossfade's end is
  one step), how long a tail rings (ringing out is one step, which covers
  both the silence and TAIL_MAX_SECONDS) and fades (its end is one step;
  tails fade at one rate and only the newest may still ring, so the
  oldest always ends first and the model ends them in that order), commits with
  nothing staged or bad arguments (they return before touching the
  handoff), the events ring, what a live set changes (only its handling
  of `ready` is modelled), prime ops, replay_live (run() reads only the
  op queue, which it alone writes), hp_engine_new and
  hp_engine_free (no other thread runs then), how often the host runs
  the worker (here: whenever it has something to do), the op ring's
  capacity (1024 in C; here it never fills, and a full ring only makes
  submit refuse an op), and the C11 memory orders (the model is sequentially consistent: `ready`
  is a single location whose exchanges are read-modify-writes, so they
  are totally ordered; the release/acquire pairs that make a graph's
  contents visible are not modelled).  The retired ring is given a small
  capacity RCAP (16 in C) so that a full ring holds swaps back, the
  fading graphs MAXF (4 in C) so that a swap cuts the oldest fade, and the
  tails MAXT (3 in C).  The
  retirements of one poll or of one chunk's crossfade are one step: the
  audio thread never touches a graph after retiring it, so a pop between
  them only frees earlier.

  Properties (the assertion that fails names the property: pN_... is a
  hidden constant 1 that shows in spin's message):
  p1  no graph is freed while run() holds it (active, fading, just taken,
      about to retire), while it sits in `ready` or in the retired ring,
      or twice; run() only touches live graphs; the worker builds against
      a live `base`.  Graphs retire oldest first (a fading graph plays its
      kept modules from copies in the next newer graph).  Tails: no graph
      is freed while it rings or fades as a tail, while a tail holds it
      parked, or while it is a tail's owner; more generally (ghost
      host[]: hp_graph_take_over() makes the old graph of a crossfade or
      of a tail commit play its kept modules from the new graph's spare
      states) no graph is freed while a graph that still fades or rings
      plays from its spare states.  A retiring tail's graph owns no tail
      (the one it owned, older, retired before it).
  p2  every published graph is taken by run() once or reclaimed by the
      worker for good once, never both (the worker may take it back to
      put a live set in and publish it again meanwhile); a publish never
      overwrites an unclaimed standby; at quiescence nothing published is
      left unclaimed.
  p3  run() never takes the same graph twice nor an older one (the
      generations it takes strictly increase).
  p4  the last good commit wins: once a commit publishes, no older graph
      may swap in; once an abort is done, no graph published before it
      may swap in; a commit whose build fails changes nothing (an earlier
      standby still swaps in).  At quiescence the active graph is the
      last one published, or, if an abort came after it, the newest graph
      run() had swapped in by the time the abort was done; the committed
      patch (what save() writes) is the patch of the active graph; every
      other graph has been freed (no leak).
  p5  memory bounded: at most BOUND graphs are allocated at any time
      (RCAP + 3; tails do not raise it, see BOUND below).
  p6  state carry: the graph run() swaps in was built against the graph
      it replaces (hp_graph_take_over's `from == graph->base`), same
      incarnation.
  p0  no deadlock: a state where nothing can move (spin's `timeout`) is
      quiescence: every op applied, every retired graph freed, nothing in
      `ready`, no crossfade, no tail left, nothing parked; p2 and p4 are
      checked there.
  p8  a retired graph always fits in the retired ring (else it would
      leak): poll's room check (fades + tails + parked owners + 1) holds
      for every retirement up to the next swap: fades ending, tails
      retiring with their parked owners, a new tail retiring the oldest.
  p7  (LTL, under weak fairness) every run reaches quiescence: no standby
      waits in `ready` forever, no retired graph waits forever.

  Switches (spin -a -DNAME=value):
  NOPS    commits, aborts and live sets run() submits, in every order
          (default 3)
  RCAP    retired ring capacity (default 1)
  MAXF    graphs fading out at once (default 2)
  MAXT    tails at once (default 2; 0: no tail commits; at most 3, as in
          C).  2 reaches every path of the tail code: a new tail retiring
          the oldest, a tail's owner itself a tail, parked when it
          retires.  3 (the C value) only makes the chains of tails one
          longer: checked by hand with NOPS=5 RCAP=5 (3.37 M states,
          no error, against 3.35 M with 2), not in the test, to keep it
          short.
  FAILS   1: a build or warm-up may fail (default 1)
  BOUND   graphs allowed at once (default RCAP + 3, see below)
  BROKEN  deliberately wrong code; the model must then fail:
          1: poll takes the standby with a load then a store, not an
             exchange;
          2: reclaim_standby takes it back with a load then a store (the
             worker frees a graph run() took);
          3: settle_base does not move `base` to the graph run() took
             (the next build is made against a stale, freed graph);
          4: commit takes the earlier standby back before it builds (as
             before the build-first order): a failing commit cancels a good one;
          5: retire() retires a tail's owner at once instead of parking
             it (the tail plays on from a freed graph's spare states);
          6: a tail commit leaves the crossfades playing (the last fading
             graph plays from the new tail's spare states, and the tail
             retires after its 10 ms fade: the bug this model found);
          default 0: the code as it is.
  Safety: gcc -DSAFETY -DNOCLAIM pan.c; ./pan.  Liveness (p7): gcc pan.c;
  ./pan -a -f.
*/

#ifndef NOPS
#define NOPS 3
#endif
#ifndef RCAP
#define RCAP 1
#endif
#ifndef FAILS
#define FAILS 1
#endif
#ifndef MAXF
#define MAXF 2
#endif
#ifndef MAXT
#define MAXT 2
#endif
#ifndef BROKEN
#define BROKEN 0
#endif
/* Graphs allocated at once: the active one; at most RCAP of the retired
   ring, the fading graphs, and the one run() has taken out of `ready` or
   is about to retire (poll swaps only when the ring has room for every
   fading graph and the one leaving, so these never hold more than RCAP
   together); and two more on the worker's side:
   - its published standby (in `ready`, or just taken back by a commit or
     a live set),
   - the one it builds (a commit builds before it takes the earlier
     standby back, and frees a build before it builds it again), or the
     one it popped and has not freed yet (the worker does one thing at a
     time: it frees retired graphs between ops, never inside a commit).
   RCAP + 3 is reached and never exceeded (tests/test_model.sh checks
   that RCAP + 2 is exceeded); with the C ring of 16, 19 graphs.
   Tails do not raise it: the room check makes ring + fades + tails +
   parked owners + the one taken <= RCAP at the swap, and between swaps
   that sum never grows (a fade or a tail ending moves its graph into the
   ring or, for an owner, into `parked`; a tail retiring moves its parked
   owner into the ring; a tail swap that retires the oldest tail moves
   it and its owner into the ring, and the old graph, counted as the one
   leaving, becomes the new tail). */
#ifndef BOUND
#define BOUND (RCAP + 3)
#endif
#define NG (BOUND + 1)
/* Tail slots: MAXT used, the rest stay empty (NPARK reads four). */
#define TSLOTS 4
#define NPARK ((tpark[0] != NONE -> 1 : 0) + (tpark[1] != NONE -> 1 : 0) + \
               (tpark[2] != NONE -> 1 : 0) + (tpark[3] != NONE -> 1 : 0))
/* take_standby's room check: the fades, the tails, their parked owners
   and the graph leaving now fit in the ring. */
#define ROOM (RCAP - len(retired) >= nfad + ntl + NPARK + 1)
#define NONE 0

/* Ghost states of a graph id. */
#define FREE      0
#define BUILDING  1  /* worker: hp_graph_new .. publish */
#define PUBLISHED 2  /* in `ready` */
#define TAKEN     3  /* run() exchanged it out of `ready` */
#define ACTIVE    4
#define FADING    5
#define LEAVING   6  /* run(): the old graph of a swap, about to retire */
#define RETIRED   7  /* in the retired ring */
#define POPPED    8  /* worker: popped from the ring, about to free */
#define RECLAIMED 9  /* worker: exchanged back out of `ready` */
#define TAIL      10 /* run(): ringing or fading out as a tail */
#define PARKED    11 /* run(): a tail's owner, out of play, kept for it */

mtype = { COMMIT, ABORT, SET };

hidden byte p0_no_deadlock = 1;
hidden byte p1_no_free_in_use = 1;
hidden byte p2_ready_once = 1;
hidden byte p3_take_newer = 1;
hidden byte p4_last_commit_wins = 1;
hidden byte p5_memory_bounded = 1;
hidden byte p6_carry_from_base = 1;
hidden byte p8_retire_fits = 1;

/* Ghost data per graph id. */
byte st[NG + 1];
byte gen[NG + 1];
byte basegen[NG + 1];
byte patchv[NG + 1];
byte host[NG + 1];   /* the graph whose spare states it plays its kept
                        modules from once it fades or rings as a tail
                        (hp_graph_take_over: the graph that replaced it) */
byte nalloc;

/* Shared. */
byte ready;                           /* _Atomic(HpGraph*) ready */
chan ops = [NOPS] of { mtype };       /* HpRing* ops */
chan retired = [RCAP] of { byte };    /* HpRing* retired */

/* run()'s own (globals so that the worker's assertions can name them). */
byte e_active;                        /* active (a Promela keyword) */
byte fad[MAXF];                       /* fades[].graph, oldest first */
byte nfad;                            /* n_fades */
byte a_i;                             /* crossfade()'s loop */
bit  a_go;                            /* poll has not returned */
byte a_seen, a_g, a_old;              /* poll's locals */
byte tg[TSLOTS];                    /* tails[].graph, oldest first */
byte town[TSLOTS];                  /* tails[].owner (NONE once parked) */
byte tpark[TSLOTS];                 /* tails[].parked */
bit  tfad[TSLOTS];                  /* tails[].fade_len != 0: fading */
byte ntl;                             /* n_tails */
byte a_k, a_t, a_p;                   /* retire()'s loop, retire_tail's t */
byte nsub;                            /* ops submitted */
byte last_gen;                        /* ghost: generation last taken */

/* The worker's own. */
byte published, base;                 /* published, base */
byte staged, committed, base_patch;   /* patch versions */
byte w_prev, w_g, w_f, w_on;          /* locals (w_on: built_on) */
byte w_i;                             /* graph_free's loop (ghost) */
byte generation;                      /* e->generation */
byte base_gen;                        /* ghost: incarnation of base */
byte pv;                              /* ghost: patch versions made */
byte expect;                          /* ghost: generation that must play */
byte min_take;                        /* ghost: oldest generation run() may take */
bit  quiet;                           /* ghost: quiescence reached */

/* hp_graph_free(g) in the worker. */
inline graph_free(g)
{
  atomic {
    assert(p1_no_free_in_use &&
           (st[g] == BUILDING || st[g] == RECLAIMED || st[g] == POPPED));
    assert(p1_no_free_in_use && g != ready && g != e_active && g != a_g &&
           g != a_old);
    w_i = 0;
    do
    :: w_i < MAXF -> assert(p1_no_free_in_use && fad[w_i] != g); w_i++
    :: w_i >= MAXF -> w_i = 0; break
    od;
    do
    :: w_i < MAXT ->
       assert(p1_no_free_in_use && tg[w_i] != g && town[w_i] != g &&
              tpark[w_i] != g);
       w_i++
    :: w_i >= MAXT -> w_i = 1; break
    od;
    /* nothing run() still renders plays from g's spare states */
    do
    :: w_i <= NG ->
       assert(p1_no_free_in_use &&
              !(host[w_i] == g && (st[w_i] == FADING || st[w_i] == TAIL)));
       w_i++
    :: w_i > NG -> w_i = 0; break
    od;
    assert(p1_no_free_in_use && !(retired??[eval(g)]));
    st[g] = FREE; gen[g] = 0; basegen[g] = 0; patchv[g] = 0; host[g] = 0;
    nalloc--
  }
}

/* hp_graph_new in the worker: the lowest free id. */
inline graph_alloc(g)
{
  g = 1;
  do
  :: g <= NG && st[g] != FREE -> g++
  :: else -> break
  od;
  nalloc++;
  assert(p5_memory_bounded && nalloc <= BOUND && g <= NG);
  st[g] = BUILDING
}

/* retire(): the caller has dropped its reference in the same step (the
   push is the last thing it does with g). */
inline push_retired(g)
{
  assert(p8_retire_fits && nfull(retired));
  st[g] = RETIRED;
  retired!g
}

/* retire(): a tail's owner is parked in the tail (which starts fading),
   anything else goes into the ring. */
inline retire(g)
{
  a_k = 0;
  do
  :: a_k < ntl && town[a_k] != g -> a_k++
  :: else -> break
  od;
  if
#if BROKEN != 5
  :: a_k < ntl ->
     town[a_k] = NONE; tpark[a_k] = g; tfad[a_k] = 1; st[g] = PARKED
#else
  /* BROKEN: the owner retires at once, its tail plays on from it. */
  :: a_k < ntl -> push_retired(g)
#endif
  :: else -> push_retired(g)
  fi;
  a_k = 0
}

/* retire_tail(e, 0): the oldest tail retires, its parked owner after it
   (tails fade at one rate and start fading oldest first: in the C the
   oldest always ends first, and a swap with MAXT tails retires it). */
inline retire_tail0()
{
  assert(p1_no_free_in_use && ntl > 0 && st[tg[0]] == TAIL && tfad[0]);
  a_t = tg[0]; a_p = tpark[0];
  a_k = 0;
  do
  :: a_k + 1 < ntl ->
     tg[a_k] = tg[a_k + 1]; town[a_k] = town[a_k + 1];
     tpark[a_k] = tpark[a_k + 1]; tfad[a_k] = tfad[a_k + 1]; a_k++
  :: a_k + 1 >= ntl -> break
  od;
  ntl--;
  tg[ntl] = NONE; town[ntl] = NONE; tpark[ntl] = NONE; tfad[ntl] = 0;
  a_k = 0;
  /* retire(t.graph): it owns no tail (the one it owned, older, has
     retired before it), so it goes into the ring */
  do
  :: a_k < ntl -> assert(p1_no_free_in_use && town[a_k] != a_t); a_k++
  :: a_k >= ntl -> a_k = 0; break
  od;
  push_retired(a_t);
  if
  :: a_p != NONE ->
     assert(p1_no_free_in_use && st[a_p] == PARKED);
     push_retired(a_p)
  :: else -> skip
  fi;
  a_t = NONE; a_p = NONE; a_k = 0
}

/* tail_end on every tail: a swap fades them all out. */
inline tails_end()
{
  a_k = 0;
  do
  :: a_k < ntl -> tfad[a_k] = 1; a_k++
  :: a_k >= ntl -> a_k = 0; break
  od
}


/* The oldest fading graph retires (a fade ends, or a swap cuts it, or a
   switch at once drops them all): always the oldest first. */
inline retire_oldest()
{
  assert(p1_no_free_in_use && nfad > 0 && st[fad[0]] == FADING);
  retire(fad[0]);
  a_i = 0;
  do
  :: a_i + 1 < nfad -> fad[a_i] = fad[a_i + 1]; a_i++
  :: a_i + 1 >= nfad -> break
  od;
  nfad--;
  fad[nfad] = NONE;
  a_i = 0
}

/* take_standby (audio_thread.c). */
inline poll()
{
  /* The room check: every graph that may retire before the next swap
     (the fading ones and the one leaving now) fits in the ring. */
  a_go = ROOM;
  if
  :: a_go ->
     /* the load */
     a_seen = ready;
     if
     :: a_seen != NONE ->
#if BROKEN == 1
        /* BROKEN: load then store, not an exchange. */
        atomic {
          a_g = ready;
          if
          :: a_g != NONE ->
             assert(p2_ready_once && st[a_g] == PUBLISHED);
             assert(p3_take_newer && gen[a_g] > last_gen);
             assert(p4_last_commit_wins && gen[a_g] >= min_take);
             st[a_g] = TAKEN; last_gen = gen[a_g]
          :: else -> skip
          fi
        }
        ready = NONE;
#else
        /* the exchange */
        atomic {
          a_g = ready; ready = NONE;
          if
          :: a_g != NONE ->
             assert(p2_ready_once && st[a_g] == PUBLISHED);
             assert(p3_take_newer && gen[a_g] > last_gen);
             assert(p4_last_commit_wins && gen[a_g] >= min_take);
             st[a_g] = TAKEN; last_gen = gen[a_g]
          :: else -> skip
          fi
        }
#endif
        if
        :: a_g != NONE ->
           /* carry, swap in; crossfade (len >= 1) or not. */
           atomic {
             assert(p1_no_free_in_use && st[a_g] == TAKEN && st[e_active] == ACTIVE);
             assert(p6_carry_from_base && basegen[a_g] == gen[e_active]);
             a_old = e_active; e_active = a_g; a_g = NONE;
             st[e_active] = ACTIVE;
             tails_end();          /* a newer swap fades every tail out */
             if
             :: /* crossfade: the oldest fade is cut when all are in use */
                if
                :: nfad == MAXF -> retire_oldest()
                :: else -> skip
                fi;
                fad[nfad] = a_old; st[a_old] = FADING; host[a_old] = e_active;
                nfad++; a_old = NONE
             :: /* a tail commit: the fades end, as at a switch (the last
                   plays from the old graph's spare states); the old graph
                   rings out beside the new one, from copies in its spare
                   states; with MAXT tails the oldest retires at once. */
                MAXT > 0 ->
#if BROKEN != 6
                do
                :: nfad > 0 -> retire_oldest()
                :: nfad == 0 -> break
                od;
#endif
                if
                :: ntl == MAXT -> retire_tail0()
                :: else -> skip
                fi;
                tg[ntl] = a_old; town[ntl] = e_active; tpark[ntl] = NONE;
                tfad[ntl] = 0; ntl++;
                st[a_old] = TAIL; host[a_old] = e_active; a_old = NONE
             :: /* switch at the sample: the new graph alone */
                do
                :: nfad > 0 -> retire_oldest()
                :: nfad == 0 -> break
                od;
                st[a_old] = LEAVING
             fi
           }
           if
           :: a_old != NONE -> atomic { retire(a_old); a_old = NONE }
           :: else -> skip
           fi
        :: else -> skip   /* the worker took it back */
        fi
     :: else -> skip
     fi
  :: else -> skip
  fi;
  a_go = 0; a_seen = NONE
}

proctype audio()
{
end_audio:
  do
  /* hp_engine_submit of a commit, an abort or a live set */
  :: nsub < NOPS ->
     atomic {
       if
       :: ops!COMMIT
       :: ops!ABORT
       :: ops!SET
       fi;
       nsub++
     }
  /* A poll that can do something (the others change nothing). */
  :: ready != NONE && ROOM -> poll()
  /* crossfade(): a fade reaches its length; it silences everything older,
     which retires with it, oldest first. */
  :: nfad > 0 ->
     atomic {
       assert(p1_no_free_in_use && st[e_active] == ACTIVE);
       do
       :: retire_oldest();
          if
          :: nfad > 0 -> skip     /* the next one ends in this chunk too */
          :: true -> break
          fi
       od
     }
  /* ring_tails(): the newest tail (the only one that may still ring)
     rings out, or has rung TAIL_MAX_SECONDS: it starts fading */
  :: ntl > 0 && !tfad[ntl - 1] ->
     atomic {
       assert(p1_no_free_in_use && st[tg[ntl - 1]] == TAIL &&
              st[town[ntl - 1]] == ACTIVE);
       tfad[ntl - 1] = 1
     }
  /* ring_tails(): the oldest tail has faded out: retire_tail */
  :: ntl > 0 && tfad[0] -> atomic { retire_tail0() }
  od
}

/* settle_base: learn whether run() took the published standby. */
inline settle_base()
{
  atomic {
    if
    :: published != NONE && ready == NONE ->
#if BROKEN != 3
       base = published; base_gen = gen[published];
#endif
       base_patch = committed; published = NONE
    :: else -> skip
    fi
  }
}

/* reclaim_standby: the exchange, then settle_base. */
inline reclaim_standby()
{
#if BROKEN == 2
  /* BROKEN: load then store, not an exchange. */
  w_prev = ready;
  atomic {
    ready = NONE;
    if
    :: w_prev != NONE ->
       st[w_prev] = RECLAIMED
    :: else -> skip
    fi
  }
#else
  atomic {
    w_prev = ready; ready = NONE;
    if
    :: w_prev != NONE ->
       assert(p2_ready_once && st[w_prev] == PUBLISHED);
       st[w_prev] = RECLAIMED
    :: else -> skip
    fi
  }
#endif
  atomic {
    if
    :: w_prev != NONE -> committed = base_patch; published = NONE
    :: else -> skip
    fi
  }
  settle_base()
}

/* supersede */
inline supersede()
{
  if
  :: w_prev != NONE -> graph_free(w_prev); w_prev = NONE
  :: else -> skip
  fi
}

/* spec: an abort, once done, cancels every standby published before it:
   none of them may swap in any more, and what plays at quiescence is what
   run() had swapped in by then. */
inline cancel()
{
  atomic { expect = last_gen; min_take = generation + 1 }
}

/* hp_graph_new against `base`, then prime and warm-up, which may fail. */
inline build()
{
  atomic {
    assert(p1_no_free_in_use && st[base] != FREE && gen[base] == base_gen);
    graph_alloc(w_g);
    basegen[w_g] = base_gen; patchv[w_g] = staged
  }
  if
  :: FAILS -> graph_free(w_g); w_g = NONE
  :: true -> skip
  fi
}

/* commit (build_standby, then the handover), after the structural edits
   it commits. */
inline commit()
{
  pv++; staged = pv;
#if BROKEN == 4
  /* BROKEN: take the earlier standby back first, whatever comes. */
  reclaim_standby();
  supersede();
#else
  settle_base();
#endif
  w_on = base_gen;
  build();
  if
  :: w_g != NONE ->
     reclaim_standby();
     if
     :: base_gen != w_on ->
        /* run() took the earlier standby meanwhile: build again on it. */
        graph_free(w_g); w_g = NONE;
        build()
     :: else -> skip
     fi;
     supersede()
  :: else -> skip                       /* nothing changes */
  fi;
  w_on = 0;
  if
  :: w_g != NONE ->
     atomic {
       generation++; gen[w_g] = generation;
       committed = staged; published = w_g
     }
     atomic {                           /* the release store */
       assert(p2_ready_once && ready == NONE);
       ready = w_g; st[w_g] = PUBLISHED; w_g = NONE;
       /* spec: this one must play, none older may */
       expect = generation; min_take = generation
     }
  :: else -> skip
  fi
}

/* record_live: a live set goes into the standby, taken back for it. */
inline record_live()
{
  settle_base();
  if
  :: published != NONE ->
     atomic {
       w_prev = ready; ready = NONE;
       if
       :: w_prev != NONE ->
          assert(p2_ready_once && st[w_prev] == PUBLISHED);
          st[w_prev] = RECLAIMED
       :: else -> skip
       fi
     }
     if
     :: w_prev != NONE ->
        atomic {
          assert(p2_ready_once && ready == NONE && published == w_prev);
          ready = w_prev; st[w_prev] = PUBLISHED; w_prev = NONE
        }
     :: else -> skip
     fi
  :: else -> skip
  fi
}

/* abort_staged */
inline abort_staged()
{
  reclaim_standby();
  supersede();
  staged = committed;
  cancel()
}

proctype worker()
{
  mtype op;
end_worker:
  do
  /* hp_worker_free_retired: pop, then free (hp_engine_work frees before and after
     its ops, never inside one; here, between any two). */
  :: atomic {
       retired?w_f ->
       assert(p1_no_free_in_use && st[w_f] == RETIRED);
       st[w_f] = POPPED
     };
     graph_free(w_f); w_f = NONE
  /* apply_op */
  :: ops?op ->
     if
     :: op == COMMIT -> commit()
     :: op == ABORT -> abort_staged()
     :: op == SET -> record_live()
     fi
  od
}

/* Nothing can move: every op applied, every graph handed over. */
proctype quiescence()
{
  byte g;
  timeout ->
  atomic {
    assert(p0_no_deadlock && nsub == NOPS && len(ops) == 0 &&
           len(retired) == 0 && nfad == 0 && ntl == 0 && NPARK == 0 &&
           ready == NONE && w_prev == NONE && w_g == NONE && w_f == NONE);
    g = 1;
    do
    :: g <= NG ->
       assert(p2_ready_once && st[g] != PUBLISHED);
       g++
    :: else -> break
    od;
    assert(p4_last_commit_wins && gen[e_active] == expect);
    assert(p4_last_commit_wins && committed == patchv[e_active]);
    assert(p4_last_commit_wins && nalloc == 1 && st[e_active] == ACTIVE);
    quiet = 1
  }
}

/* p7 */
ltl p7_quiescence { <> quiet }

init
{
  atomic {
    /* hp_engine_new: the first graph plays and is the base. */
    e_active = 1; st[1] = ACTIVE; gen[1] = 1; nalloc = 1;
    generation = 1; last_gen = 1; expect = 1;
    base = 1; base_gen = 1;
    run audio(); run worker(); run quiescence()
  }
}
