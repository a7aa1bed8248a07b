/*
  Patch documents: a bank of scenes (patches) as Turtle in the hp:
  vocabulary, the same operations the atom protocol sends:

    <> a hp:PatchBank ;
       hp:formatVersion 1 ;
       hp:activeScene 0 ;
       hp:scenes ( [ a hp:Scene ;
                     rdfs:label "Scene 1" ;
                     hp:ops ( [ a hp:Create ; hp:module "osc1" ; hp:type "sine"
  ] [ a hp:Set ; hp:module "osc1" ; hp:param "freq" ; hp:value 440.0 ] [ a
  hp:Connect ; hp:source "osc1:out" ; hp:dest "out" ] ) ] ) .

  State, presets and hp:patchFile all hold this text.  Lists keep the order
  RDF sets would lose.  Read and written in the worker (or restore), never
  in the audio thread.
*/

#ifndef HP_PATCHDOC_H
#define HP_PATCHDOC_H

#include "engine.h"
#include "patch.h"

#include <stddef.h>
#include <stdint.h>

/** The document version this code writes; it reads this and older ones. */
#define HP_DOC_VERSION 1
#define HP_MAX_SCENES 8u
#define HP_LABEL_MAX 64u

typedef struct {
  HpPatch* scenes[HP_MAX_SCENES];
  char     labels[HP_MAX_SCENES][HP_LABEL_MAX];
  uint32_t n_scenes;
  uint32_t active;
} HpBank;

/** A bank with one empty scene. */
HpBank* hp_bank_new(void);
void    hp_bank_free(HpBank* bank);

/** Make `dst` a deep copy of `src`. */
HpStatus hp_bank_copy(HpBank* dst, const HpBank* src);

/** Set scene `scene`'s label, cut to HP_LABEL_MAX - 1 bytes at a UTF-8
    character boundary. */
void hp_bank_set_label(HpBank* bank, uint32_t scene, const char* label);

/** The document for `bank`, as a new string (free() it), or NULL. */
char* hp_doc_write(const HpBank* bank);

/**
   Read a document into `bank` (replacing it only on success).  Syntax
   errors name the line and column; others name the scene and operation.
   `base_uri` resolves relative URIs (a file's URI, or NULL).
*/
HpStatus hp_doc_read(const char* text,
                     const char* base_uri,
                     HpBank*     bank,
                     HpError*    err);

#endif /* HP_PATCHDOC_H */
