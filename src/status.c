/* Status codes and error messages. */

#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char*
hp_strerror(const HpStatus st)
{
  switch (st) {
  case HP_SUCCESS:
    return "success";
  case HP_ERR_UNKNOWN_TYPE:
    return "unknown module type";
  case HP_ERR_UNKNOWN_MODULE:
    return "unknown module";
  case HP_ERR_DUPLICATE_ID:
    return "duplicate module id";
  case HP_ERR_BAD_ID:
    return "invalid module id";
  case HP_ERR_UNKNOWN_PORT:
    return "unknown port";
  case HP_ERR_UNKNOWN_PARAM:
    return "unknown parameter";
  case HP_ERR_BAD_VALUE:
    return "invalid value";
  case HP_ERR_CYCLE:
    return "connection would create a cycle";
  case HP_ERR_NOT_CONNECTED:
    return "not connected";
  case HP_ERR_ALREADY_CONNECTED:
    return "already connected";
  case HP_ERR_NOTHING_STAGED:
    return "nothing staged";
  case HP_ERR_WARMUP:
    return "warm-up check failed";
  case HP_ERR_SUPERSEDED:
    return "superseded by a later commit";
  case HP_ERR_NO_MEMORY:
    return "out of memory";
  case HP_ERR_QUEUE_FULL:
    return "queue full";
  case HP_ERR_TOO_LARGE:
    return "too large";
  case HP_ERR_SYNTAX:
    return "syntax error";
  case HP_ERR_BAD_MESSAGE:
    return "malformed message";
  case HP_ERR_IO:
    return "input/output error";
  }
  return "unknown error";
}

HpStatus
hp_error(HpError* const err, const HpStatus st, const char* const fmt, ...)
{
  if (err) {
    err->status = st;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, args);
    va_end(args);
  }
  return st;
}
