/*
  hp-preset: turn a preset script (text-protocol lines) into an LV2 preset
  whose state is the patch document, so presets are written by people in
  the protocol's text form and checked by the same code the plugin runs.

    hp-preset NAME SCRIPT > NAME.ttl

  Script lines: `/label Preset name`, `/plugin synth` or `/plugin fx` (the
  plugin the preset is for, lv2:appliesTo: the instrument unless it says;
  the build's manifest entry copies it), `/scene Scene name` (starts a
  scene; the lines before the first one form scene 1), `/active N` (the
  scene that plays first, from 1; the preset also sets the Scene control
  to it, so control and sound agree), and patch edits (/patch/create,
  /patch/set, /patch/connect, /patch/macro, /patch/gate).  A preset for
  the instrument that creates an `input` is refused here, as the
  instrument would refuse it.
*/

#include "engine.h"
#include "module.h"
#include "patchdoc.h"

#include "../plugin/uris.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A Turtle string; `lines` keeps newlines and tabs as they are (a long
   string), so the patch document reads as itself in the preset file. */
static void
put_literal(const char* const s, const bool lines)
{
  fputs(lines ? "\"\"\"" : "\"", stdout);
  for (const char* c = s; *c; ++c) {
    switch (*c) {
    case '"':
      fputs("\\\"", stdout);
      break;
    case '\\':
      fputs("\\\\", stdout);
      break;
    case '\n':
      fputs(lines ? "\n" : "\\n", stdout);
      break;
    case '\t':
      fputs(lines ? "\t" : "\\t", stdout);
      break;
    default:
      putchar(*c);
    }
  }
  fputs(lines ? "\"\"\"" : "\"", stdout);
}

static int
fail(const char* const path, const unsigned line, const char* const why)
{
  fprintf(stderr, "%s:%u: %s\n", path, line, why);
  return 1;
}

/* The instrument has no audio inputs: a module that reads them (`input`)
   belongs in an effect preset. */
static int
check_inputs(const char* const path, const HpBank* const bank)
{
  for (uint32_t s = 0; s < bank->n_scenes; ++s) {
    const HpPatch* const patch = bank->scenes[s];
    for (uint32_t m = 0; m < patch->n_modules; ++m) {
      if (patch->modules[m].desc->host_input) {
        fprintf(stderr,
                "%s: module '%s' (%s) reads the effect's audio inputs: add "
                "`/plugin fx` to make this a preset of " HP_FX_URI "\n",
                path,
                patch->modules[m].id,
                patch->modules[m].desc->type);
        return 1;
      }
    }
  }
  return 0;
}

int
main(int argc, char** argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: %s NAME SCRIPT > NAME.ttl\n", argv[0]);
    return 2;
  }
  const char* const path = argv[2];
  FILE*             file = fopen(path, "r");
  if (!file) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return 1;
  }
  HpBank*     bank = hp_bank_new();
  char        label[128];
  char        line[512];
  unsigned    line_no = 0;
  bool        scenes  = false;
  int         status  = 0;
  const char* plugin  = HP_PLUGIN_URI;
  snprintf(label, sizeof(label), "%s", argv[1]);
  while (!status && fgets(line, sizeof(line), file)) {
    ++line_no;
    line[strcspn(line, "\r\n")] = '\0';
    const char* text            = line + strspn(line, " \t");
    if (!strncmp(text, "/label ", 7)) {
      snprintf(label, sizeof(label), "%s", text + 7);
    } else if (!strncmp(text, "/plugin ", 8)) {
      if (!strcmp(text + 8, "synth")) {
        plugin = HP_PLUGIN_URI;
      } else if (!strcmp(text + 8, "fx")) {
        plugin = HP_FX_URI;
      } else {
        status = fail(path, line_no, "/plugin takes synth or fx");
      }
    } else if (!strncmp(text, "/scene ", 7)) {
      if (scenes && bank->n_scenes == HP_MAX_SCENES) {
        status = fail(path, line_no, "more than 8 scenes");
        break;
      }
      if (scenes) {
        bank->scenes[bank->n_scenes] = hp_patch_new();
        ++bank->n_scenes;
      }
      scenes = true;
      hp_bank_set_label(bank, bank->n_scenes - 1u, text + 7);
    } else if (!strncmp(text, "/active ", 8)) {
      const int active = atoi(text + 8);
      bank->active     = active >= 1 ? (uint32_t)active - 1u : 0u;
    } else {
      HpOp     op;
      HpError  err;
      HpStatus st = hp_op_parse_text(text, &op, &err);
      if (st == HP_ERR_NOTHING_STAGED) {
        continue;
      }
      if (!st) {
        st = hp_patch_apply(bank->scenes[bank->n_scenes - 1u], &op, &err);
      }
      if (st) {
        status = fail(path, line_no, err.message);
      }
    }
  }
  fclose(file);
  if (!status && bank->active >= bank->n_scenes) {
    status = fail(path, line_no, "/active names no scene");
  }
  if (!status && !strcmp(plugin, HP_PLUGIN_URI)) {
    status = check_inputs(path, bank);
  }
  char* doc = status ? NULL : hp_doc_write(bank);
  if (!status && !doc) {
    status = fail(path, line_no, "out of memory");
  }
  if (!status) {
    printf("@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
           "@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n"
           "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
           "@prefix state: <http://lv2plug.in/ns/ext/state#> .\n\n"
           "# Generated by hp-preset from presets/%s.hps: edit that.\n\n"
           "<urn:hotpatch:preset:%s>\n"
           "\ta pset:Preset ;\n"
           "\tlv2:appliesTo <%s> ;\n"
           "\tlv2:port [\n"
           "\t\tlv2:symbol \"scene\" ;\n"
           "\t\tpset:value %u.0\n"
           "\t] ;\n"
           "\trdfs:label ",
           argv[1],
           argv[1],
           plugin,
           bank->active);
    put_literal(label, false);
    printf(" ;\n\tstate:state [\n\t\t<urn:hotpatch:ns#patchBank> ");
    put_literal(doc, true);
    printf("\n\t] .\n");
  }
  free(doc);
  hp_bank_free(bank);
  return status;
}
