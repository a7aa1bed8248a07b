/* Patch documents: Turtle round trips and the errors a person sees. */

#include "check.h"
#include "patchdoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
ok(HpPatch* const patch, const char* const line)
{
  HpOp    op;
  HpError err = {HP_SUCCESS, ""};
  CHECK_MSG(!hp_op_parse_text(line, &op, &err) &&
              !hp_patch_apply(patch, &op, &err),
            "%s: %s",
            line,
            err.message);
}

/* `text` fails to read with `status` and a message containing `want`. */
static void
fails(const char* const text, const HpStatus status, const char* const want)
{
  HpBank*        bank = hp_bank_new();
  HpError        err  = {HP_SUCCESS, ""};
  const HpStatus st   = hp_doc_read(text, NULL, bank, &err);
  CHECK_MSG(st == status,
            "status %d (%s), expected %d",
            (int)st,
            err.message,
            (int)status);
  CHECK_MSG(strstr(err.message, want),
            "said \"%s\", expected \"%s\"",
            err.message,
            want);
  /* A failed read leaves the bank as it was: one empty scene. */
  CHECK(bank->n_scenes == 1 && bank->scenes[0]->n_modules == 0);
  hp_bank_free(bank);
}

static const char* const header =
  "@prefix hp: <urn:hotpatch:ns#> .\n"
  "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n";

static void
test_round_trip(void)
{
  HpBank* bank = hp_bank_new();
  ok(bank->scenes[0], "create osc1 saw");
  ok(bank->scenes[0], "set osc1 freq 110.25");
  ok(bank->scenes[0], "create filt1 biquad");
  ok(bank->scenes[0], "set filt1 mode notch");
  ok(bank->scenes[0], "set filt1 q 0.1");
  ok(bank->scenes[0], "connect osc1 filt1");
  ok(bank->scenes[0], "connect filt1 out:right");
  ok(bank->scenes[0], "macro 2 filt1:cutoff 50 5000 exp");
  bank->scenes[1] = hp_patch_new();
  ok(bank->scenes[1], "create env-2 adsr");
  ok(bank->scenes[1], "gate env-2 1");
  bank->n_scenes = 2;
  bank->active   = 1;
  snprintf(bank->labels[1], HP_LABEL_MAX, "Pad \"wide\"\tversion");

  char* text = hp_doc_write(bank);
  CHECK(text);
  HpBank* copy = hp_bank_new();
  HpError err  = {HP_SUCCESS, ""};
  CHECK_MSG(!hp_doc_read(text, NULL, copy, &err), "%s\n%s", err.message, text);
  CHECK(copy->n_scenes == 2 && copy->active == 1);
  CHECK(hp_patch_equal(copy->scenes[0], bank->scenes[0]));
  CHECK(hp_patch_equal(copy->scenes[1], bank->scenes[1]));
  CHECK(!strcmp(copy->labels[1], "Pad \"wide\"\tversion"));
  char* again = hp_doc_write(copy);
  CHECK_MSG(!strcmp(text, again), "re-save differs:\n%s\n---\n%s", text, again);
  printf(
    "# document round trip: 2 scenes, %zu bytes, identical after re-read\n",
    strlen(text));
  free(text);
  free(again);
  hp_bank_free(bank);
  hp_bank_free(copy);
}

static void
test_errors(void)
{
  char doc[2048];
  fails("", HP_ERR_SYNTAX, "the document is empty");
  fails(" \n\t", HP_ERR_SYNTAX, "the document is empty");
  fails("@prefix hp: <urn:hotpatch:ns#> .\n<x> a hp:Thing .",
        HP_ERR_SYNTAX,
        "no hp:PatchBank in the document");
  fails("\x01\x02\xff\xfe binary", HP_ERR_SYNTAX, "not valid Turtle: line 1");
  fails("<a> <b> <c>", HP_ERR_SYNTAX, "not valid Turtle: line 1, column 12");
  snprintf(
    doc,
    sizeof(doc),
    "%s<> a hp:PatchBank ;\n hp:formatVersion 1 ;\n hp:scenes ( [ hp:ops (\n"
    "  [ a hp:Create ; hp:module \"osc1\" ; hp:type \"sine\" ]\n"
    "  [ a hp:Create ; hp:module \"osc2\" ; hp:type",
    header);
  fails(doc, HP_ERR_SYNTAX, "not valid Turtle: line 7");
  snprintf(doc,
           sizeof(doc),
           "%s<> a hp:PatchBank ; hp:formatVersion 2 ; hp:scenes ( ) .",
           header);
  fails(doc,
        HP_ERR_BAD_VALUE,
        "format version 2; this hotpatch reads version 1 to 1");
  snprintf(doc, sizeof(doc), "%s<> a hp:PatchBank ; hp:scenes ( ) .", header);
  fails(doc, HP_ERR_SYNTAX, "has no hp:formatVersion");
  snprintf(doc,
           sizeof(doc),
           "%s<> a hp:PatchBank ; hp:formatVersion 1 ; hp:scenes ( [ hp:ops (\n"
           " [ a hp:Create ; hp:module \"osc1\" ; hp:type \"sinee\" ] ) ] ) .",
           header);
  fails(doc, HP_ERR_UNKNOWN_TYPE, "scene 1, op 1: unknown module type 'sinee'");
  snprintf(doc,
           sizeof(doc),
           "%s<> a hp:PatchBank ; hp:formatVersion 1 ; hp:scenes ( [ hp:ops (\n"
           " [ a hp:Create ; hp:module \"osc1\" ; hp:type \"sine\" ]\n"
           " [ a hp:Set ; hp:module \"osc1\" ; hp:param \"freq\" ; hp:value "
           "\"loud\" ] ) ] ) .",
           header);
  fails(
    doc, HP_ERR_BAD_VALUE, "scene 1, op 2: 'loud' is not a value of osc1:freq");
  snprintf(doc,
           sizeof(doc),
           "%s<> a hp:PatchBank ; hp:formatVersion 1 ; hp:scenes ( [ hp:ops (\n"
           " [ a hp:Delete ; hp:module \"osc1\" ] ) ] ) .",
           header);
  fails(
    doc, HP_ERR_SYNTAX, "scene 1, op 1: type 'urn:hotpatch:ns#Delete' is not");
  snprintf(doc,
           sizeof(doc),
           "%s<> a hp:PatchBank ; hp:formatVersion 1 ; hp:activeScene 3 ; "
           "hp:scenes ( [ hp:ops ( ) ] ) .",
           header);
  fails(doc, HP_ERR_BAD_VALUE, "hp:activeScene 3 names no scene");
  snprintf(doc,
           sizeof(doc),
           "%s<> a hp:PatchBank ; hp:formatVersion 1 ; hp:activeScene 1e20 ; "
           "hp:scenes ( [ hp:ops ( ) ] ) .",
           header);
  fails(doc, HP_ERR_BAD_VALUE, "hp:activeScene 1e+20 names no scene");
  snprintf(
    doc,
    sizeof(doc),
    "%s<> a hp:PatchBank ; hp:formatVersion 1 ; hp:scenes [ hp:ops ( ) ] .",
    header);
  fails(doc, HP_ERR_SYNTAX, "hp:scenes is not a list");
  /* Cycles are checked once a scene; the error still names the connect
     that closes one, before a later error. */
  snprintf(doc,
           sizeof(doc),
           "%s<> a hp:PatchBank ; hp:formatVersion 1 ; hp:scenes ( [ hp:ops (\n"
           " [ a hp:Create ; hp:module \"a\" ; hp:type \"sine\" ]\n"
           " [ a hp:Create ; hp:module \"b\" ; hp:type \"adsr\" ]\n"
           " [ a hp:Create ; hp:module \"c\" ; hp:type \"biquad\" ]\n"
           " [ a hp:Connect ; hp:source \"c\" ; hp:dest \"a:freq\" ]\n"
           " [ a hp:Connect ; hp:source \"a\" ; hp:dest \"b\" ]\n"
           " [ a hp:Connect ; hp:source \"b:out\" ; hp:dest \"c:in\" ]\n"
           " [ a hp:Connect ; hp:source \"c\" ; hp:dest \"b:gate\" ]\n"
           " [ a hp:Create ; hp:module \"d\" ; hp:type \"sinee\" ] ) ] ) .",
           header);
  fails(doc,
        HP_ERR_CYCLE,
        "scene 1, op 6: connecting 'b:out' to 'c:in' would create a cycle: "
        "'b' already depends on 'c'");
  printf("# documents: 15 broken ones refused, each with its reason\n");
}

int
main(void)
{
  test_round_trip();
  test_errors();
  return 0;
}
