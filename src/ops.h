/*
  The one table of protocol operations (README, "The patch protocol").

  Each operation type has one descriptor: its text command, its atom (and
  Turtle) class, whether it is staged or live, and one descriptor per field
  giving the field's text position or keyword, its key URI, its type, the
  domain a decoder accepts, the range the engine checks and its default.
  Every face of the protocol is generic code over this table:

    text      hp_op_parse_text(), hp_op_write_text()       src/ops.c
    atoms     hp_atom_decode(), hp_atom_encode_op()        plugin/atoms.c
    Turtle    hp_doc_read(), hp_doc_write()                src/patchdoc.c
    checks    hp_op_check() (the worker, once per op)      src/ops.c
    docs      hp-describe --protocol (README's table)      tools/describe.c

  No LV2 types here: keys and classes are URI strings, which plugin/ maps
  once at instantiate (hp_map_uris()).

  A new field of an op: its member in the op's struct (engine.h) and its
  row here in ops.c; then its behaviour (patch.c or engine.c).  A new key
  also needs its rdfs:label and rdfs:comment in ttl/hp.ttl (test_docs.sh
  says so).
*/

#ifndef HP_OPS_H
#define HP_OPS_H

#include "engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP_OPS_NS "urn:hotpatch:ns#"
#define HP_OPS_PATCH_NS "http://lv2plug.in/ns/ext/patch#"

/** The most fields one op has. */
#define HP_OP_MAX_FIELDS 8u

/** The URI of "hp:module" or "patch:value" into buf; false if the prefix
    is not hp: or patch: or buf is too small. */
bool hp_op_uri(const char* curie, char* buf, size_t size);

typedef enum {
  HP_FIELD_ID,     /**< a module id (atom:String) */
  HP_FIELD_PORT,   /**< "mod" or "mod:port" (atom:String) */
  HP_FIELD_NAME,   /**< a name: module type, parameter, curve (atom:String) */
  HP_FIELD_VALUE,  /**< a number (atom:Float), or a choice by name
                        (atom:String) stored at `alt`: one of `choices`
                        when the field has them, else an enum choice of
                        the module's parameter */
  HP_FIELD_FLOAT,  /**< atom:Float; any numeric atom is accepted */
  HP_FIELD_INT,    /**< atom:Int; a whole number */
  HP_FIELD_BOOL,   /**< atom:Bool */
  HP_FIELD_PATH,   /**< atom:Path, absolute */
  HP_FIELD_PRIMES, /**< hp:prime: a tuple of (op, module, param, value) */
} HpFieldType;

typedef enum {
  HP_TEXT_NONE,     /**< not in the text form */
  HP_TEXT_ARG,      /**< a positional word */
  HP_TEXT_OPTIONAL, /**< a last positional word that may be left out */
  HP_TEXT_OPTION,   /**< name=VALUE after the positional words */
  HP_TEXT_FLAG,     /**< name (or name=NUMBER, 0 for false) */
} HpTextForm;

typedef struct {
  const char* name;  /**< the text form's keyword; docs */
  const char* usage; /**< the text form's usage word: "ID", "warmup=BLOCKS" */
  const char* what;  /**< a text error's name for it: "gate" */
  const char* key;   /**< atom key and Turtle predicate: "hp:module" */
  HpFieldType type;
  HpTextForm  text;
  size_t      offset;         /**< into HpOp */
  size_t      size;           /**< string fields: the buffer's size */
  size_t      alt;            /**< HP_FIELD_VALUE: offset of the choice name */
  const char* const* choices; /**< HP_FIELD_VALUE: the names, NULL-ended */
  float              def;     /**< what hp_op_init() puts (numbers, bools) */
  /** The domain every decoder accepts (else "must be <expects>"): a whole
      number for HP_FIELD_INT, and within [dom_min, dom_max]. */
  float       dom_min, dom_max;
  const char* expects;
  /** The range hp_op_check() holds it to, when `checked` (a value off the
      default): "<key> <value> is out of range <min>..<max> <unit>". */
  bool        checked;
  float       min, max;
  const char* unit;
} HpFieldDesc;

typedef enum {
  HP_EFFECT_STAGED,   /**< edits the staged patch */
  HP_EFFECT_LIVE,     /**< plays at once and is recorded */
  HP_EFFECT_PRIME,    /**< applied to the standby before warm-up */
  HP_EFFECT_COMMIT,   /**< build, prime, warm up, swap */
  HP_EFFECT_CONTROL,  /**< abort, get, files: handled by the worker */
  HP_EFFECT_INTERNAL, /**< from the plugin itself, no message */
} HpOpEffect;

typedef struct {
  HpOpType           type;
  const char*        name;      /**< text command ("create"), or NULL */
  const char*        class_uri; /**< atom and Turtle class, or NULL */
  const char*        class_curie;
  const char*        property; /**< patch:Set: the property set, or NULL */
  const char*        property_curie;
  HpOpEffect         effect;
  bool               in_document; /**< an op of a Turtle scene */
  const HpFieldDesc* fields;
  uint32_t           n_fields;
  const char*        example;  /**< README: the text form, or NULL */
  const char*        atom_doc; /**< README: the atom column, NULL: class */
  const char*        doc;      /**< README: the effect */
} HpOpDesc;

/** The descriptor of `type`; every HpOpType below HP_N_OP_TYPES has one. */
const HpOpDesc* hp_op_desc(HpOpType type);

/** Pointers to a field of `op` (no check that the type matches). */
static inline char*
hp_op_string(HpOp* const op, const HpFieldDesc* const f)
{
  return (char*)op + f->offset;
}

static inline const char*
hp_op_cstring(const HpOp* const op, const HpFieldDesc* const f)
{
  return (const char*)op + f->offset;
}

/** A numeric field (FLOAT, INT, BOOL, VALUE) as a float. */
float hp_op_number(const HpOp* op, const HpFieldDesc* field);

/** Store a number into a numeric field, converted to its type.  The
    caller has checked hp_op_in_domain(). */
void hp_op_set_number(HpOp* op, const HpFieldDesc* field, float value);

/** True when `value` is in the field's domain (whole for INT fields).
    Audio thread safe. */
bool hp_op_in_domain(const HpFieldDesc* field, float value);

/** The op type whose text command is `name` (`len` bytes), or -1. */
int hp_op_find_command(const char* name, size_t len);

/**
   Like hp_op_parse_text(), but numbers outside a field's domain are kept
   (where the type can hold them): the test host sends what a script
   says, so that the plugin's refusal can be tested.
*/
HpStatus hp_op_parse_text_unchecked(const char* line, HpOp* op, HpError* err);

/** The op as one text-protocol line with its newline, like snprintf:
    returns the length it needs, writes at most `size` bytes. */
size_t hp_op_write_text(const HpOp* op, char* buf, size_t size);

/**
   Check the fields that have a range (hp:warmup, hp:crossfade) or a list
   of choices (hp:quant): the one place the engine's limits are held.
   Worker.
*/
HpStatus hp_op_check(const HpOp* op, HpError* err);

/** "create, delete, ..." or "hp:Create, hp:Delete, ... or patch:Set" into
    buf: the text commands, the atom classes (deduplicated, the last one
    after "or"), or the document classes. */
typedef enum { HP_LIST_COMMANDS, HP_LIST_CLASSES, HP_LIST_DOCUMENT } HpOpList;
void hp_op_list(HpOpList which, char* buf, size_t size);

/*
  Live ops reach the playing graph without a string comparison: run()
  hashes the names of an hp:Set or hp:Gate (FNV-1a, 64 bits: arithmetic
  only) and the graph, which hashed its own names when the worker built
  it, finds the node and parameter by that number (graph.c).
*/

#define HP_KEY_SEED 14695981039346656037ull

/** Continue hash `h` over `s` and a terminator. */
static inline uint64_t
hp_key_hash(uint64_t h, const char* const s)
{
  for (const unsigned char* c = (const unsigned char*)s; *c; ++c) {
    h = (h ^ *c) * 1099511628211ull;
  }
  return (h ^ 0xFFu) * 1099511628211ull;
}

/** The key of a name: a module id, a parameter or an enum choice. */
static inline uint64_t
hp_name_key(const char* const name)
{
  return hp_key_hash(HP_KEY_SEED, name);
}

/** The README's protocol table (markdown), from the descriptors. */
size_t hp_ops_write_markdown(char* buf, size_t size);

#endif /* HP_OPS_H */
