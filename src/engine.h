/*
  hotpatch engine: patches, graphs and the hot-swap mechanism.
  No LV2 types: plugin/ translates atoms to HpOp and HpEvent to atoms.

  Threads, as the plugin uses them:
  - audio: run() -> hp_engine_begin(), then in time order
    hp_engine_render(), hp_engine_midi(), hp_engine_message(), then
    hp_engine_end(); hp_engine_next_event() at any time.  Never allocates,
    locks, waits or prints.
  - worker: work() -> hp_engine_work().  Builds, primes, warms up, frees.
  - any non-audio thread: hp_engine_new/free, loading and saving (save may
    run concurrently with the audio thread).
*/

#ifndef HP_ENGINE_H
#define HP_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest module id, port spec ("filt1:cutoff") or name, with its NUL. */
#define HP_NAME_MAX 96u
/** The longest crossfade, in ms: a commit's hp:crossfade and the control's
    default alike. */
#define HP_MAX_CROSSFADE_MS 10000.0f
/** Longest error message, with its NUL. */
#define HP_MESSAGE_MAX 320u
/** Module ids: letters, digits, '_' and '-', starting with a letter or '_'. */
#define HP_ID_MAX 64u
/** The most voices a patch plays (hp:Voices). */
#define HP_MAX_VOICES 32u

typedef enum {
  HP_SUCCESS = 0,
  HP_ERR_UNKNOWN_TYPE,
  HP_ERR_UNKNOWN_MODULE,
  HP_ERR_DUPLICATE_ID,
  HP_ERR_BAD_ID,
  HP_ERR_UNKNOWN_PORT,
  HP_ERR_UNKNOWN_PARAM,
  HP_ERR_BAD_VALUE,
  HP_ERR_CYCLE,
  HP_ERR_NOT_CONNECTED,
  HP_ERR_ALREADY_CONNECTED,
  HP_ERR_NOTHING_STAGED,
  HP_ERR_WARMUP,
  HP_ERR_SUPERSEDED,
  HP_ERR_NO_MEMORY,
  HP_ERR_QUEUE_FULL,
  HP_ERR_TOO_LARGE,
  HP_ERR_SYNTAX,
  HP_ERR_BAD_MESSAGE,
  HP_ERR_IO,
} HpStatus;

/** A constant phrase for a status code. */
const char* hp_strerror(HpStatus st);

/** What went wrong, in a sentence a person can act on. */
typedef struct {
  HpStatus status;
  char     message[HP_MESSAGE_MAX];
} HpError;

/** Record `st` with a printf-style message in `err` (if not NULL); returns st.
 */
HpStatus hp_error(HpError* err, HpStatus st, const char* fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;

/* Operations: the patch protocol (README, "The patch protocol") as plain C.
   src/ops.c holds the one table that describes each: its text form, atom
   class and every field's key, type, range and default; the text parser
   and printer, the atom decoder and encoder and the Turtle reader and
   writer all read it. */

typedef enum {
  HP_OP_CREATE,     /**< create: id, type */
  HP_OP_DELETE,     /**< remove: id */
  HP_OP_CONNECT,    /**< connect: source, dest (port specs) */
  HP_OP_DISCONNECT, /**< connect: as connect */
  HP_OP_SET,        /**< set: module, param, value or choice */
  HP_OP_GATE,       /**< set: module, value (param is "gate") */
  HP_OP_PRIME_SET,  /**< set: one ("mod", module, param, value) prime tuple */
  HP_OP_PRIME_GATE, /**< set: one ("gate", module, none, value) prime tuple */
  HP_OP_COMMIT,     /**< commit: warmup, crossfade_ms, require_signal */
  HP_OP_ABORT,
  HP_OP_CLEAR,
  HP_OP_MACRO, /**< macro: macro (1..8), target "mod:param", lo, hi, curve */
  HP_OP_LOG,   /**< log: a message from the audio thread to log */
  HP_OP_GET,   /**< answer with the playing patch (HP_EVENT_PATCH) */
  HP_OP_SCENE, /**< scene: index (0..7) to switch to */
  HP_OP_LOAD_FILE,   /**< file: absolute path of a patch document */
  HP_OP_LIVE_RELOAD, /**< reload: reload the patch file when it changes */
  HP_OP_TICK,        /**< time passes: look at the patch file (live reload) */
  HP_OP_VOICES,      /**< voices: how many voices the patch plays */
  HP_OP_REVERT,      /**< commit: back to the patch of `steps` commits ago */
  HP_OP_HISTORY,     /**< answer with the kept patches (HP_EVENT_PATCH) */
  HP_N_OP_TYPES
} HpOpType;

/** No sequence number on the message. */
#define HP_NO_SEQ (-1)

/** HP_OP_CREATE, and HP_OP_DELETE (type unused). */
typedef struct {
  char id[HP_NAME_MAX];
  char type[HP_NAME_MAX];
} HpCreateOp;

/** HP_OP_CONNECT, HP_OP_DISCONNECT: "osc1" or "osc1:out" -> "env1:in". */
typedef struct {
  char source[HP_NAME_MAX];
  char dest[HP_NAME_MAX];
} HpConnectOp;

/** HP_OP_SET, HP_OP_GATE, HP_OP_PRIME_SET, HP_OP_PRIME_GATE. */
typedef struct {
  char  module[HP_NAME_MAX];
  char  param[HP_NAME_MAX];  /**< "gate" for gates */
  char  choice[HP_NAME_MAX]; /**< an enum choice by name, or "" */
  float value;               /**< when choice is "" */
  /* Set by hp_engine_submit(): the names' keys (src/ops.h), by which the
     graphs find the parameter without comparing strings. */
  uint64_t module_key;
  uint64_t param_key;
  uint64_t choice_key; /**< 0: a number */
} HpSetOp;

/** hp:quant's "bar": the swap waits for the next bar line. */
#define HP_QUANT_BAR (-1.0f)
/** The most commits hp:Revert goes back (the patches the worker keeps). */
#define HP_HISTORY 16u

/** HP_OP_COMMIT, HP_OP_REVERT. */
typedef struct {
  int32_t warmup;       /**< blocks; < 0 = default (8) */
  float   crossfade_ms; /**< < 0 = the crossfade control's value */
  bool    require_signal;
  bool    tail; /**< the old patch rings its voices out: no crossfade */
  /** hp:quant: swap on the host's next boundary of this many beats
      (HP_QUANT_BAR: bar line; 0: at once), or of quant_choice ("beat",
      "bar") when that is not "" (hp_op_quant() reads both). */
  float   quant;
  char    quant_choice[HP_NAME_MAX];
  int32_t steps; /**< REVERT: how many commits back, 1.. */
} HpCommitOp;

/** HP_OP_SCENE. */
typedef struct {
  int32_t index; /**< 0..7 */
  float   quant; /**< as hp_op_quant() gives it */
} HpSceneOp;

/** HP_OP_MACRO. */
typedef struct {
  uint32_t macro;               /**< 1..8 */
  char     target[HP_NAME_MAX]; /**< "mod:param" */
  float    lo, hi;
  char     curve[HP_NAME_MAX]; /**< "lin" (or "") or "exp" */
} HpMacroOp;

/** HP_OP_LOG, HP_OP_LOAD_FILE. */
typedef struct {
  char text[HP_MESSAGE_MAX]; /**< the log line; the absolute path */
} HpTextOp;

typedef struct {
  HpOpType type;
  int32_t  seq;    /**< patch:sequenceNumber or HP_NO_SEQ */
  uint32_t serial; /**< set by hp_engine_submit(): queue order */
  union {
    HpCreateOp  create;  /**< CREATE, DELETE */
    HpConnectOp connect; /**< CONNECT, DISCONNECT */
    HpSetOp     set;     /**< SET, GATE, PRIME_SET, PRIME_GATE */
    HpCommitOp  commit;  /**< COMMIT, REVERT */
    HpMacroOp   macro;   /**< MACRO */
    HpTextOp    log;     /**< LOG */
    HpTextOp    file;    /**< LOAD_FILE: path */
    HpSceneOp   scene;   /**< SCENE */
    bool        reload;  /**< LIVE_RELOAD: on */
    int32_t     voices;  /**< VOICES: 1..HP_MAX_VOICES */
  };
} HpOp;

/** Initialise `op` with its fields' defaults (no seq, default warm-up and
    crossfade; a gate's param is "gate"). */
void hp_op_init(HpOp* op, HpOpType type);

/** A commit's hp:quant in beats: 0 (none), a number of beats, or
    HP_QUANT_BAR.  The choice is known (hp_op_check() refuses others). */
float hp_op_quant(const HpCommitOp* commit);

/**
   Parse one line of the text protocol ("/patch/create osc1 simple_sine").
   Blank lines and '#' comments give HP_ERR_NOTHING_STAGED with an empty
   message; errors name the column.
*/
HpStatus hp_op_parse_text(const char* line, HpOp* op, HpError* err);

/** Notifications the engine produces (README, "The patch protocol"). */
typedef enum {
  HP_EVENT_ACK,
  HP_EVENT_ERROR,
  HP_EVENT_PRIMED,
  HP_EVENT_SWAPPED,
  HP_EVENT_PATCH, /**< the reply to HP_OP_GET: the patch in `text` */
} HpEventType;

typedef struct {
  HpEventType type;
  int32_t     seq;          /**< of the message answered, or HP_NO_SEQ */
  HpStatus    status;       /**< HP_EVENT_ERROR */
  uint32_t    generation;   /**< PRIMED, SWAPPED */
  uint32_t    module_count; /**< PRIMED */
  float       prime_ms;     /**< PRIMED: commit received -> ready published */
  float       warmup_rms;   /**< PRIMED: RMS over the warm-up, linear */
  uint32_t    frame;        /**< SWAPPED: frame in the run() block */
  bool        live_reload;  /**< PATCH: live reload is on */
  bool        history;      /**< PATCH: `text` is the kept patches */
  char        message[HP_MESSAGE_MAX]; /**< ERROR: why; PATCH: the patch file */
  const char* text; /**< PATCH: text-protocol lines, valid until the
                         next hp_engine_next_event() */
  uint32_t text_len;
} HpEvent;

/* The engine */

typedef struct HpEngineImpl HpEngine;

/** Log a line (worker thread, or the thread loading a patch). */
typedef void (*HpLogFunc)(void* handle, bool error, const char* message);

/** Ask the host to call hp_engine_work() on its worker (LV2's
    schedule_work with any token); true when it will.  Audio thread.  A
    host with a synchronous worker may call hp_engine_work() before this
    returns: the engine then swaps the new standby in at once. */
typedef bool (*HpScheduleFunc)(void* handle);

/** Create an engine playing `default_patch` (text protocol lines), or
    silence when NULL.  `log` and `schedule` may be NULL (without schedule
    the caller runs hp_engine_work() itself).  `has_input`: the effect's
    engine (urn:hotpatch:fx), whose `input` module reads what
    hp_engine_input() gives; the instrument's refuses `input`, with a
    reason.  Non-audio thread. */
HpEngine* hp_engine_new(float          rate,
                        HpLogFunc      log,
                        HpScheduleFunc schedule,
                        void*          handle,
                        const char*    default_patch,
                        bool           has_input);

/** Free everything.  No other thread may use the engine. */
void hp_engine_free(HpEngine* engine);

/* Audio thread.  A block is hp_engine_begin(), then render, MIDI and
   messages in time order, then hp_engine_end(). */

/** Start a block of `nframes`: a standby that is ready swaps in at its
    frame 0; live reload looks at the patch file every half second. */
void hp_engine_begin(HpEngine* engine, uint32_t nframes);

/** Render `nframes` more of the block into out_l, out_r. */
void hp_engine_render(HpEngine* engine,
                      float*    out_l,
                      float*    out_r,
                      uint32_t  nframes);

/** The effect's audio inputs for the frames rendered next: each
    hp_engine_render() reads its `nframes` from them and moves on.  Not
    called (NULL), the `input` module hears silence. */
void hp_engine_input(HpEngine* engine, const float* in_l, const float* in_r);

/**
   The host's musical time (time:Position) at the frame rendered next.
   Each value that is not usable (not finite, a tempo or a bar length not
   above 0, a beat beyond 2^40) leaves what was known of it: hostile
   positions change nothing.  `beat` counts from the song's start,
   `bar_beat` from the bar line (NAN: beat's remainder in a bar).
*/
void hp_engine_time(HpEngine* engine,
                    double    beat,
                    double    bar_beat,
                    float     bpm,
                    float     beats_per_bar,
                    float     speed);

/** Feed a MIDI message to the midi modules of the playing graph(s). */
void hp_engine_midi(HpEngine* engine, const uint8_t* msg, uint32_t size);

/**
   One message of the protocol, where rendering stands: its operations
   queued for the worker whole or not at all (SET and GATE also play at
   once).  A commit asks for work at once, so a synchronous worker swaps
   here.  A full queue refuses the message with an error reply.
*/
HpStatus hp_engine_message(HpEngine*   engine,
                           const HpOp* ops,
                           uint32_t    n_ops,
                           int32_t     seq);

/** Switch to scene `scene` (0..7) of the bank, through the worker like a
    commit with hp:quant `quant` (hp_op_quant()); false when the queue is
    full (try again next block). */
bool hp_engine_select_scene(HpEngine* engine, uint32_t scene, float quant);

/** Answer message `seq` with `err` (one that could not be decoded); the
    worker logs it. */
void hp_engine_reject(HpEngine* engine, int32_t seq, const HpError* err);

/** End the block: ask for the work still owed to the worker. */
void hp_engine_end(HpEngine* engine);

/** Take the next notification, oldest first; false when none.  A PATCH
    event's text stays valid until the next call. */
bool hp_engine_next_event(HpEngine* engine, HpEvent* event);

/** Move macro `macro` (0..7) to `position` (0..1); applied on change. */
void hp_engine_macro(HpEngine* engine, uint32_t macro, float position);

/** Output gain in dB (smoothed) and the default crossfade time in ms. */
void hp_engine_set_gain_db(HpEngine* engine, float db);
void hp_engine_set_crossfade_ms(HpEngine* engine, float ms);

/**
   Queue one operation for the worker, as hp_engine_message() does, without
   asking for work: for a caller that runs hp_engine_work() itself.
   Returns HP_ERR_QUEUE_FULL when the queue is full: then nothing happened.
*/
HpStatus hp_engine_submit(HpEngine* engine, const HpOp* op);

/** Status for output ports and the inline display: swaps done, last prime
    time, modules and voices playing, a swap under way.  Audio thread. */
typedef struct {
  uint32_t swaps;
  float    last_prime_ms;
  uint32_t module_count;
  uint32_t generation;
  uint32_t voices;          /**< the playing patch's (hp:Voices) */
  uint32_t voices_sounding; /**< of those, a gate on or an envelope going */
  bool     swapping;        /**< a crossfade or a tail still rings */
  bool     swap_waiting;    /**< a quantized swap waits for its beat or bar */
} HpEngineStatus;

void hp_engine_status(const HpEngine* engine, HpEngineStatus* status);

/* Worker thread (or any non-audio thread: calls are serialised) */

/**
   Replace the staged patch by applying text-protocol lines to it, then
   commit (with the options of a /patch/commit line, if any).  On any error
   nothing changes and `err` names the line.  Use it for the default patch,
   restored state and patch files.
*/
HpStatus hp_engine_load_text(HpEngine* engine, const char* text, HpError* err);

/**
   Replace the bank with a patch document (Turtle, see src/patchdoc.h) and
   commit its active scene.  On any error nothing changes.  `base_uri`
   (may be NULL) resolves relative URIs in it.
*/
HpStatus hp_engine_load_document(HpEngine*   engine,
                                 const char* text,
                                 const char* base_uri,
                                 HpError*    err);

/** The bank's active scene (0..7): the one playing, or committed to play
    (after hp_engine_load_document(), the document's). */
uint32_t hp_engine_scene(HpEngine* engine);

/** The bank, with the playing patch as its active scene, as a patch
    document: a new string (free() it), or NULL when out of memory.
    Safe while the audio thread runs (it takes only the worker's lock). */
char* hp_engine_save_document(HpEngine* engine);

/** The patch file (absolute path, "" if none) and whether live reload is
    on, for saving state.  `path` holds HP_MESSAGE_MAX bytes. */
void hp_engine_file_settings(HpEngine* engine, char* path, bool* live_reload);

/** Restore the patch file and live reload setting without loading the
    file (state holds the bank itself). */
void hp_engine_set_file_settings(HpEngine*   engine,
                                 const char* path,
                                 bool        live_reload);

/** Do all queued work: apply ops to the staged patch, build, prime, warm up
    and publish standbys, free retired graphs. */
void hp_engine_work(HpEngine* engine);

#ifdef __cplusplus
}
#endif

#endif /* HP_ENGINE_H */
