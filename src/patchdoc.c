/* Patch documents: Turtle in, Turtle out (worker side). */

#include "patchdoc.h"

#include "ops.h"

#include <serd/serd.h>
#include <sord/sord.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_HP "urn:hotpatch:ns#"
#define NS_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_RDFS "http://www.w3.org/2000/01/rdf-schema#"

/* Banks */

HpBank*
hp_bank_new(void)
{
  HpBank* bank = (HpBank*)calloc(1, sizeof(HpBank));
  if (bank && !(bank->scenes[0] = hp_patch_new())) {
    free(bank);
    return NULL;
  }
  if (bank) {
    bank->n_scenes = 1;
    snprintf(bank->labels[0], HP_LABEL_MAX, "Scene 1");
  }
  return bank;
}

void
hp_bank_free(HpBank* const bank)
{
  if (bank) {
    for (uint32_t i = 0; i < HP_MAX_SCENES; ++i) {
      hp_patch_free(bank->scenes[i]);
    }
    free(bank);
  }
}

HpStatus
hp_bank_copy(HpBank* const dst, const HpBank* const src)
{
  for (uint32_t i = 0; i < src->n_scenes; ++i) {
    if (!dst->scenes[i] && !(dst->scenes[i] = hp_patch_new())) {
      return HP_ERR_NO_MEMORY;
    }
    HpStatus st = hp_patch_copy(dst->scenes[i], src->scenes[i]);
    if (st) {
      return st;
    }
  }
  memcpy(dst->labels, src->labels, sizeof(dst->labels));
  dst->n_scenes = src->n_scenes;
  dst->active   = src->active;
  return HP_SUCCESS;
}

/* Length of the valid UTF-8 character at `s` (1 to 4), or 0 if invalid. */
static size_t
utf8_char(const unsigned char* const s)
{
  const unsigned char c = s[0];
  size_t              n = c < 0x80u   ? 1u
                          : c < 0xC2u ? 0u
                          : c < 0xE0u ? 2u
                          : c < 0xF0u ? 3u
                          : c < 0xF5u ? 4u
                                      : 0u;
  for (size_t i = 1; i < n; ++i) {
    if ((s[i] & 0xC0u) != 0x80u) {
      return 0u;
    }
  }
  /* No overlong forms, surrogates or code points past U+10FFFF. */
  if ((c == 0xE0u && s[1] < 0xA0u) || (c == 0xEDu && s[1] > 0x9Fu) ||
      (c == 0xF0u && s[1] < 0x90u) || (c == 0xF4u && s[1] > 0x8Fu)) {
    return 0u;
  }
  return n;
}

void
hp_bank_set_label(HpBank* const     bank,
                  const uint32_t    scene,
                  const char* const label)
{
  /* Whole characters only (never cut one in two), and invalid bytes as
     '?': a label must write out as valid Turtle again. */
  char*                dst = bank->labels[scene];
  const unsigned char* src = (const unsigned char*)label;
  size_t               len = 0;
  while (*src) {
    const size_t n    = utf8_char(src);
    const size_t take = n ? n : 1u;
    if (len + take >= HP_LABEL_MAX) {
      break;
    }
    if (n) {
      memcpy(dst + len, src, n);
    } else {
      dst[len] = '?';
    }
    len += take;
    src += n ? n : 1u;
  }
  dst[len] = '\0';
}

/* Writing */

typedef struct {
  char*  buf;
  size_t len;
  size_t cap;
  bool   failed;
} Out;

static void put(Out* const out, const char* const fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;

static void
put(Out* const out, const char* const fmt, ...)
{
  for (int attempt = 0; attempt < 2 && !out->failed; ++attempt) {
    va_list args;
    va_start(args, fmt);
    const int n =
      vsnprintf(out->buf + out->len, out->cap - out->len, fmt, args);
    va_end(args);
    if (n < 0) {
      out->failed = true;
    } else if ((size_t)n < out->cap - out->len) {
      out->len += (size_t)n;
      return;
    } else {
      const size_t cap = (out->cap + (size_t)n + 1u) * 2u;
      char* const  buf = (char*)realloc(out->buf, cap);
      if (!buf) {
        out->failed = true;
      } else {
        out->buf = buf;
        out->cap = cap;
      }
    }
  }
}

/* A Turtle string literal. */
static void
put_string(Out* const out, const char* const s)
{
  put(out, "\"");
  for (const char* c = s; *c; ++c) {
    switch (*c) {
    case '"':
      put(out, "\\\"");
      break;
    case '\\':
      put(out, "\\\\");
      break;
    case '\n':
      put(out, "\\n");
      break;
    case '\r':
      put(out, "\\r");
      break;
    case '\t':
      put(out, "\\t");
      break;
    default:
      if ((unsigned char)*c < 0x20) {
        put(out, "\\u%04X", (unsigned)*c);
      } else {
        put(out, "%c", *c);
      }
    }
  }
  put(out, "\"");
}

/* A number Turtle reads back exactly, as short as it can be. */
static void
put_number(Out* const out, const float value)
{
  char buf[32];
  hp_float_text(value, buf);
  /* Turtle has no bare "inf"; values are finite (validated) anyway. */
  put(out, "%s%s", buf, strpbrk(buf, ".eE") ? "" : ".0");
}

/* One op of a scene, generically: "[ a hp:Class ; hp:key value ... ]". */
static void
write_op(const HpOp* const op, void* const data)
{
  Out* const            out = (Out*)data;
  const HpOpDesc* const d   = hp_op_desc(op->type);
  put(out, "\t\t\t\t[ a %s", d->class_curie);
  for (uint32_t i = 0; i < d->n_fields; ++i) {
    const HpFieldDesc* const f = &d->fields[i];
    const float              v = hp_op_number(op, f);
    if (f->text == HP_TEXT_OPTIONAL && !hp_op_cstring(op, f)[0]) {
      continue;
    }
    put(out, " ; %s ", f->key);
    switch (f->type) {
    case HP_FIELD_VALUE:
      if (((const char*)op + f->alt)[0]) {
        put_string(out, (const char*)op + f->alt);
      } else {
        put_number(out, v);
      }
      break;
    case HP_FIELD_FLOAT:
      put_number(out, v);
      break;
    case HP_FIELD_INT:
      put(out, "%d", (int)v);
      break;
    case HP_FIELD_BOOL:
      put(out, "%s", v != 0.0f ? "true" : "false");
      break;
    default:
      put_string(out, hp_op_cstring(op, f));
      break;
    }
  }
  put(out, " ]\n");
}

static void
write_scene(Out* const out, const HpPatch* const patch)
{
  hp_patch_each_op(patch, write_op, out);
}

char*
hp_doc_write(const HpBank* const bank)
{
  Out out    = {(char*)malloc(4096), 0, 4096, false};
  out.failed = !out.buf;
  put(&out,
      "@prefix hp: <" NS_HP "> .\n"
      "@prefix rdfs: <" NS_RDFS "> .\n\n"
      "<>\n\ta hp:PatchBank ;\n\thp:formatVersion %d ;\n"
      "\thp:activeScene %u ;\n\thp:scenes (\n",
      HP_DOC_VERSION,
      bank->active);
  for (uint32_t s = 0; s < bank->n_scenes; ++s) {
    put(&out, "\t\t[\n\t\t\ta hp:Scene ;\n\t\t\trdfs:label ");
    put_string(&out, bank->labels[s]);
    put(&out, " ;\n\t\t\thp:ops (\n");
    write_scene(&out, bank->scenes[s]);
    put(&out, "\t\t\t)\n\t\t]\n");
  }
  put(&out, "\t) .\n");
  if (out.failed) {
    free(out.buf);
    return NULL;
  }
  return out.buf;
}

/* Reading */

/* The hp: terms a document is read with besides the ops' keys, made once
   a read (not once a lookup: a 4,096-module document looks up some
   20,000). */
typedef enum {
  T_ACTIVE_SCENE,
  T_FORMAT_VERSION,
  T_OPS,
  T_PATCH_BANK,
  T_SCENES,
  N_TERMS
} Term;

static const char* const term_names[N_TERMS] = {
  "activeScene",
  "formatVersion",
  "ops",
  "PatchBank",
  "scenes",
};

typedef struct {
  SordWorld* world;
  SordModel* model;
  SordNode*  rdf_type;
  SordNode*  rdf_first;
  SordNode*  rdf_rest;
  SordNode*  rdf_nil;
  SordNode*  rdfs_label;
  SordNode*  hp[N_TERMS];
  SordNode*  key[HP_N_OP_TYPES][HP_OP_MAX_FIELDS]; /* of document ops */
  char       syntax[HP_MESSAGE_MAX];
} Reader;

static SerdStatus
on_syntax_error(void* const handle, const SerdError* const error)
{
  Reader* r = (Reader*)handle;
  char    why[256];
  va_list args;
  va_copy(args, *error->args);
  vsnprintf(why, sizeof(why), error->fmt, args);
  va_end(args);
  why[strcspn(why, "\n")] = '\0';
  if (!r->syntax[0]) {
    snprintf(r->syntax,
             sizeof(r->syntax),
             "line %u, column %u: %s",
             error->line,
             error->col,
             why);
  }
  return SERD_SUCCESS;
}

/* The object of (subject, hp:term), or NULL; free with sord_node_free. */
static SordNode*
get(Reader* const r, const SordNode* const subject, const Term term)
{
  return sord_get(r->model, subject, r->hp[term], NULL, NULL);
}

/* The object of (subject, predicate), or NULL; free with sord_node_free. */
static SordNode*
get_key(Reader* const         r,
        const SordNode* const subject,
        const SordNode* const key)
{
  return sord_get(r->model, subject, key, NULL, NULL);
}

/* A property as text into dst (HP_NAME_MAX); false if absent or too long. */
static bool
get_text(Reader* const         r,
         const SordNode* const subject,
         const SordNode* const key,
         char* const           dst,
         const size_t          size)
{
  SordNode* node = get_key(r, subject, key);
  if (!node) {
    return false;
  }
  const char* text = (const char*)sord_node_get_string(node);
  const bool  ok   = strlen(text) < size;
  if (ok) {
    strcpy(dst, text);
  }
  sord_node_free(r->world, node);
  return ok;
}

/* A numeric literal; false if absent or not a number. */
static bool
get_node_number(Reader* const r, SordNode* const node, float* const value)
{
  if (!node) {
    return false;
  }
  const char* text = (const char*)sord_node_get_string(node);
  char*       end  = NULL;
  *value           = strtof(text, &end);
  const bool ok =
    sord_node_get_type(node) == SORD_LITERAL && end != text && *end == '\0';
  sord_node_free(r->world, node);
  return ok;
}

static bool
get_number(Reader* const         r,
           const SordNode* const subject,
           const Term            term,
           float* const          value)
{
  return get_node_number(r, get(r, subject, term), value);
}

static bool
get_key_number(Reader* const         r,
               const SordNode* const subject,
               const SordNode* const key,
               float* const          value)
{
  return get_node_number(r, get_key(r, subject, key), value);
}

/* Call `func` on each element of an RDF list, in order. */
typedef HpStatus (*ItemFunc)(Reader*         r,
                             const SordNode* item,
                             uint32_t        index,
                             void*           data,
                             HpError*        err);

static HpStatus
each_item(Reader* const         r,
          const SordNode* const list,
          const char* const     what,
          const ItemFunc        func,
          void* const           data,
          HpError* const        err)
{
  SordNode* node = sord_node_copy(list);
  HpStatus  st   = HP_SUCCESS;
  uint32_t  i    = 0;
  while (!st && node && !sord_node_equals(node, r->rdf_nil)) {
    if (i > HP_MAX_MODULES * 8u) {
      st = hp_error(err, HP_ERR_TOO_LARGE, "%s: the list is too long", what);
      break;
    }
    SordNode* first = sord_get(r->model, node, r->rdf_first, NULL, NULL);
    SordNode* rest  = sord_get(r->model, node, r->rdf_rest, NULL, NULL);
    if (!first || !rest) {
      st = hp_error(err, HP_ERR_SYNTAX, "%s is not a list ( ... )", what);
    } else {
      st = func(r, first, i++, data, err);
    }
    sord_node_free(r->world, first);
    sord_node_free(r->world, node);
    node = rest;
  }
  sord_node_free(r->world, node);
  return st;
}

typedef struct {
  HpPatch* patch;
  uint32_t scene;
} SceneCtx;

/* One field of an op from the document; false if it is absent (and
   needed), too long, or of the wrong kind. */
static bool
read_field(Reader* const            r,
           const SordNode* const    item,
           const HpFieldDesc* const f,
           const SordNode* const    key,
           HpOp* const              op)
{
  float value = 0.0f;
  switch (f->type) {
  case HP_FIELD_ID:
  case HP_FIELD_PORT:
  case HP_FIELD_NAME:
    return get_text(r, item, key, hp_op_string(op, f), f->size) ||
           f->text == HP_TEXT_OPTIONAL;
  case HP_FIELD_VALUE:
    if (get_key_number(r, item, key, &value)) {
      hp_op_set_number(op, f, value);
      return true;
    }
    return get_text(r, item, key, (char*)op + f->alt, HP_NAME_MAX);
  case HP_FIELD_FLOAT:
  case HP_FIELD_INT:
    if (!get_key_number(r, item, key, &value) || !hp_op_in_domain(f, value)) {
      return false;
    }
    hp_op_set_number(op, f, value);
    return true;
  default:
    return true; /* not in documents */
  }
}

static HpStatus
read_op(Reader* const         r,
        const SordNode* const item,
        const uint32_t        index,
        void* const           data,
        HpError* const        err)
{
  SceneCtx*       ctx  = (SceneCtx*)data;
  SordNode*       type = sord_get(r->model, item, r->rdf_type, NULL, NULL);
  const char*     uri  = type ? (const char*)sord_node_get_string(type) : "";
  const HpOpDesc* d    = NULL;
  for (uint32_t t = 0; t < HP_N_OP_TYPES && !d; ++t) {
    const HpOpDesc* const c = hp_op_desc((HpOpType)t);
    d = c->in_document && !strcmp(uri, c->class_uri) ? c : NULL;
  }
  /* Errors say where: "scene %u, op %u" (formatted only for them). */
  const unsigned scene = ctx->scene + 1u;
  const unsigned op_no = index + 1u;
  if (!d) {
    char classes[200];
    hp_op_list(HP_LIST_DOCUMENT, classes, sizeof(classes));
    HpStatus st = hp_error(err,
                           HP_ERR_SYNTAX,
                           "scene %u, op %u: type '%.100s' is not %s",
                           scene,
                           op_no,
                           type ? uri : "(none)",
                           classes);
    sord_node_free(r->world, type);
    return st;
  }
  sord_node_free(r->world, type);
  HpOp op;
  hp_op_init(&op, d->type);
  bool ok = true;
  for (uint32_t i = 0; i < d->n_fields && ok; ++i) {
    ok = read_field(r, item, &d->fields[i], r->key[d->type][i], &op);
  }
  if (!ok) {
    return hp_error(err,
                    HP_ERR_BAD_MESSAGE,
                    "scene %u, op %u: %s lacks a property it needs, or "
                    "one is too long or of the wrong kind",
                    scene,
                    op_no,
                    d->class_curie);
  }
  HpError  why;
  HpStatus st = hp_patch_apply(ctx->patch, &op, &why);
  if (st) {
    return hp_error(
      err, st, "scene %u, op %u: %.280s", scene, op_no, why.message);
  }
  return HP_SUCCESS;
}

static HpStatus
read_scene(Reader* const         r,
           const SordNode* const item,
           const uint32_t        index,
           void* const           data,
           HpError* const        err)
{
  HpBank* bank = (HpBank*)data;
  if (index >= HP_MAX_SCENES) {
    return hp_error(
      err, HP_ERR_TOO_LARGE, "more than %u scenes", HP_MAX_SCENES);
  }
  if (!bank->scenes[index] && !(bank->scenes[index] = hp_patch_new())) {
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  hp_patch_clear(bank->scenes[index]);
  bank->n_scenes  = index + 1u;
  SordNode* label = sord_get(r->model, item, r->rdfs_label, NULL, NULL);
  if (label) {
    hp_bank_set_label(bank, index, (const char*)sord_node_get_string(label));
  } else {
    snprintf(bank->labels[index], HP_LABEL_MAX, "Scene %u", index + 1u);
  }
  sord_node_free(r->world, label);
  SordNode* ops = get(r, item, T_OPS);
  if (!ops) {
    return hp_error(
      err, HP_ERR_SYNTAX, "scene %u has no hp:ops list", index + 1u);
  }
  HpPatch* const patch = bank->scenes[index];
  SceneCtx       ctx   = {patch, index};
  char           what[32];
  snprintf(what, sizeof(what), "scene %u's hp:ops", index + 1u);
  /* Connects skip their cycle check and one pass checks the scene, so a
     scene loads in linear time whatever the order of its ops.  Should it
     find a cycle, the scene is read again checking every connect: the
     error then names the first one that closes it, as checks all along
     would have. */
  patch->defer_cycle_check = true;
  HpStatus st              = each_item(r, ops, what, read_op, &ctx, err);
  patch->defer_cycle_check = false;
  if (hp_patch_has_cycle(patch)) {
    hp_patch_clear(patch);
    st = each_item(r, ops, what, read_op, &ctx, err);
  }
  sord_node_free(r->world, ops);
  return st;
}

static HpStatus
read_bank(Reader* const r, HpBank* const bank, HpError* const err)
{
  SordIter* it =
    sord_search(r->model, NULL, r->rdf_type, r->hp[T_PATCH_BANK], NULL);
  if (sord_iter_end(it)) {
    sord_iter_free(it);
    return hp_error(err,
                    HP_ERR_SYNTAX,
                    "no hp:PatchBank in the document: is it a hotpatch patch?");
  }
  const SordNode* subject = sord_iter_get_node(it, SORD_SUBJECT);
  float           version = 0.0f;
  float           active  = 0.0f;
  HpStatus        st      = HP_SUCCESS;
  if (!get_number(r, subject, T_FORMAT_VERSION, &version)) {
    st =
      hp_error(err, HP_ERR_SYNTAX, "the hp:PatchBank has no hp:formatVersion");
  } else if (version > (float)HP_DOC_VERSION || version < 1.0f) {
    st = hp_error(err,
                  HP_ERR_BAD_VALUE,
                  "the document is format version %g; this hotpatch reads "
                  "version 1 to %d: update hotpatch to load it",
                  (double)version,
                  HP_DOC_VERSION);
  } else {
    SordNode* scenes = get(r, subject, T_SCENES);
    if (!scenes) {
      st =
        hp_error(err, HP_ERR_SYNTAX, "the hp:PatchBank has no hp:scenes list");
    } else {
      st = each_item(r, scenes, "hp:scenes", read_scene, bank, err);
      if (!st && !bank->n_scenes) {
        st = hp_error(err, HP_ERR_SYNTAX, "hp:scenes is empty");
      }
      sord_node_free(r->world, scenes);
    }
    if (!st && get_number(r, subject, T_ACTIVE_SCENE, &active)) {
      if (!(active >= 0.0f && active < (float)bank->n_scenes)) {
        st = hp_error(err,
                      HP_ERR_BAD_VALUE,
                      "hp:activeScene %g names no scene (0..%u)",
                      (double)active,
                      bank->n_scenes - 1u);
      } else {
        bank->active = (uint32_t)active; /* in range: the cast is defined */
      }
    }
  }
  sord_iter_free(it);
  return st;
}

HpStatus
hp_doc_read(const char* const text,
            const char* const base_uri,
            HpBank* const     bank,
            HpError* const    err)
{
  if (!text[strspn(text, " \t\r\n")]) {
    return hp_error(err, HP_ERR_SYNTAX, "the document is empty");
  }
  Reader r;
  memset(&r, 0, sizeof(r));
  r.world = sord_world_new();
  /* Every lookup gives a subject and a predicate; the one search that
     does not (the hp:PatchBank) scans once rather than every statement
     going into a second index. */
  r.model      = sord_new(r.world, SORD_SPO, false);
  r.rdf_type   = sord_new_uri(r.world, (const uint8_t*)NS_RDF "type");
  r.rdf_first  = sord_new_uri(r.world, (const uint8_t*)NS_RDF "first");
  r.rdf_rest   = sord_new_uri(r.world, (const uint8_t*)NS_RDF "rest");
  r.rdf_nil    = sord_new_uri(r.world, (const uint8_t*)NS_RDF "nil");
  r.rdfs_label = sord_new_uri(r.world, (const uint8_t*)NS_RDFS "label");
  for (int t = 0; t < N_TERMS; ++t) {
    char uri[64];
    snprintf(uri, sizeof(uri), NS_HP "%s", term_names[t]);
    r.hp[t] = sord_new_uri(r.world, (const uint8_t*)uri);
  }
  for (uint32_t t = 0; t < HP_N_OP_TYPES; ++t) {
    const HpOpDesc* const d = hp_op_desc((HpOpType)t);
    for (uint32_t i = 0; d->in_document && i < d->n_fields; ++i) {
      char uri[128];
      if (hp_op_uri(d->fields[i].key, uri, sizeof(uri))) {
        r.key[t][i] = sord_new_uri(r.world, (const uint8_t*)uri);
      }
    }
  }

  const SerdNode base = serd_node_from_string(
    SERD_URI, (const uint8_t*)(base_uri ? base_uri : "urn:hotpatch:document"));
  SerdEnv*    env    = serd_env_new(&base);
  SerdReader* reader = sord_new_reader(r.model, env, SERD_TURTLE, NULL);
  serd_reader_set_error_sink(reader, on_syntax_error, &r);
  const SerdStatus sst = serd_reader_read_string(reader, (const uint8_t*)text);
  serd_reader_free(reader);
  serd_env_free(env);

  HpBank*  draft = hp_bank_new();
  HpStatus st    = HP_SUCCESS;
  if (!draft) {
    st = hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  } else if (sst || r.syntax[0]) {
    st = hp_error(err,
                  HP_ERR_SYNTAX,
                  "not valid Turtle: %s",
                  r.syntax[0] ? r.syntax : (const char*)serd_strerror(sst));
  } else {
    draft->n_scenes = 0;
    if (!(st = read_bank(&r, draft, err))) {
      st = hp_bank_copy(bank, draft);
    }
  }
  hp_bank_free(draft);
  sord_node_free(r.world, r.rdf_type);
  sord_node_free(r.world, r.rdf_first);
  sord_node_free(r.world, r.rdf_rest);
  sord_node_free(r.world, r.rdf_nil);
  sord_node_free(r.world, r.rdfs_label);
  for (int t = 0; t < N_TERMS; ++t) {
    sord_node_free(r.world, r.hp[t]);
  }
  for (uint32_t t = 0; t < HP_N_OP_TYPES; ++t) {
    for (uint32_t i = 0; i < HP_OP_MAX_FIELDS; ++i) {
      sord_node_free(r.world, r.key[t][i]);
    }
  }
  sord_free(r.model);
  sord_world_free(r.world);
  return st;
}
