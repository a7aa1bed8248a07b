/*
  libFuzzer target: the Turtle patch document reader and writer
  (src/patchdoc.c), the format of state, presets and hp:patchFile.

  Input: a patch document.  When hp_doc_read accepts it, the bank is
  written back with hp_doc_write, and that text must read again and write
  again to the very same text: what state save writes, restore must take
  back unchanged (a round trip; abort() on any difference).  Leaks are
  checked except on inputs where sord itself leaks (fuzz_sord.h).
*/

#include "engine.h"
#include "fuzz_common.h"
#include "fuzz_sord.h"
#include "patchdoc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

/* Where two texts first differ, as "line L: ...". */
static void
report_difference(const char* const a, const char* const b)
{
  size_t   i    = 0;
  unsigned line = 1;
  size_t   bol  = 0;
  while (a[i] && a[i] == b[i]) {
    if (a[i] == '\n') {
      ++line;
      bol = i + 1u;
    }
    ++i;
  }
  fprintf(stderr,
          "fuzz: the documents differ at line %u:\n  first:  %.*s\n"
          "  second: %.*s\n",
          line,
          (int)strcspn(a + bol, "\n"),
          a + bol,
          (int)strcspn(b + bol, "\n"),
          b + bol);
}

int
LLVMFuzzerTestOneInput(const uint8_t* const data, const size_t size)
{
  if (size > (1u << 20u)) {
    return -1;
  }
  char* const text = fz_text(data, size);
  if (!text) {
    return 0;
  }

  HpBank* const bank  = hp_bank_new();
  HpBank* const again = hp_bank_new();
  if (!bank || !again) {
    fz_fail("hp_bank_new failed");
  }
  HpError err;
  err.message[0]        = '\0';
  const bool sord_leaks = fz_sord_leaks(text);
  if (sord_leaks) {
    __lsan_disable();
  }
  const HpStatus st = hp_doc_read(text, NULL, bank, &err);
  if (sord_leaks) {
    __lsan_enable();
  }
  free(text);
  if (st) {
    if (!memchr(err.message, '\0', sizeof(err.message)) || !err.message[0]) {
      fz_fail("hp_doc_read failed without a message");
    }
  } else {
    char* const first = hp_doc_write(bank);
    if (!first) {
      fz_fail("hp_doc_write failed on a bank hp_doc_read made");
    }
    if (hp_doc_read(first, NULL, again, &err)) {
      fprintf(stderr,
              "fuzz: %s\n--- the written document:\n%s---\n",
              err.message,
              first);
      fz_fail("round trip: hp_doc_read refuses what hp_doc_write wrote");
    }
    char* const second = hp_doc_write(again);
    if (!second) {
      fz_fail("hp_doc_write failed on a bank hp_doc_read made");
    }
    if (strcmp(first, second)) {
      report_difference(first, second);
      fz_fail("round trip: writing the document read back gives other text");
    }
    free(first);
    free(second);
  }
  hp_bank_free(bank);
  hp_bank_free(again);
  return 0;
}
