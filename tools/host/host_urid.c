/*
  hotpatch's lilv host: the URID map and the log, both callable from any
  thread (see host_internal.h).
*/

#include "host_internal.h"

#include <lv2/log/log.h>
#include <lv2/urid/urid.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* URID map: thread-safe (the worker thread maps too), sorted for lookup */

static uint32_t
urimap_search(const UriMap* const m, const char* const uri, bool* const found)
{
  uint32_t lo = 0u;
  uint32_t hi = m->n;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2u;
    const int      cmp = strcmp(m->uris[m->sorted[mid] - 1u], uri);
    if (!cmp) {
      *found = true;
      return mid;
    }
    if (cmp < 0) {
      lo = mid + 1u;
    } else {
      hi = mid;
    }
  }
  *found = false;
  return lo;
}

LV2_URID
host_urimap_map(LV2_URID_Map_Handle handle, const char* uri)
{
  UriMap* const m  = (UriMap*)handle;
  LV2_URID      id = 0u;
  if (!uri) {
    return 0u;
  }

  pthread_mutex_lock(&m->lock);
  bool           found = false;
  const uint32_t pos   = urimap_search(m, uri, &found);
  if (found) {
    id = m->sorted[pos];
  } else {
    if (m->n == m->cap) {
      const uint32_t cap    = m->cap ? m->cap * 2u : 256u;
      char** const   uris   = (char**)realloc(m->uris, cap * sizeof(char*));
      uint32_t*      sorted = NULL;
      if (uris) {
        m->uris = uris;
        sorted  = (uint32_t*)realloc(m->sorted, cap * sizeof(uint32_t));
      }
      if (sorted) {
        m->sorted = sorted;
        m->cap    = cap;
      }
    }
    char* const copy =
      m->n < m->cap ? host_copy_string(uri, strlen(uri)) : NULL;
    if (copy) {
      m->uris[m->n] = copy;
      memmove(
        m->sorted + pos + 1u, m->sorted + pos, (m->n - pos) * sizeof(uint32_t));
      id             = ++m->n;
      m->sorted[pos] = id;
    }
  }
  pthread_mutex_unlock(&m->lock);
  return id;
}

const char*
host_urimap_unmap(LV2_URID_Unmap_Handle handle, LV2_URID urid)
{
  UriMap* const m   = (UriMap*)handle;
  const char*   uri = NULL;
  pthread_mutex_lock(&m->lock);
  if (urid >= 1u && urid <= m->n) {
    uri = m->uris[urid - 1u];
  }
  pthread_mutex_unlock(&m->lock);
  return uri;
}

void
host_urimap_free(UriMap* const m)
{
  for (uint32_t i = 0u; i < m->n; ++i) {
    free(m->uris[i]);
  }
  free(m->uris);
  free(m->sorted);
  pthread_mutex_destroy(&m->lock);
}

/* Log: every message is kept with its type; any thread */

static const char*
log_type_name(const HpHost* host, const LV2_URID type)
{
  return type == host->hu.log_Error     ? "error"
         : type == host->hu.log_Warning ? "warning"
         : type == host->hu.log_Note    ? "note"
         : type == host->hu.log_Trace   ? "trace"
                                        : "log";
}

__attribute__((format(printf, 3, 0))) int
host_log_vprintf(LV2_Log_Handle handle,
                 LV2_URID       type,
                 const char*    fmt,
                 va_list        ap)
{
  HpHost* const host = (HpHost*)handle;
  va_list       ap2;
  va_copy(ap2, ap);
  const int len = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (len < 0) {
    return len;
  }

  char* const text = (char*)malloc((size_t)len + 1u);
  if (!text) {
    return -1;
  }
  vsnprintf(text, (size_t)len + 1u, fmt, ap);

  if (host->verbose) {
    fprintf(stderr, "[%s] %s", log_type_name(host, type), text);
  }

  pthread_mutex_lock(&host->log_lock);
  if (host->n_log == host->cap_log) {
    const size_t    cap = host->cap_log ? host->cap_log * 2u : 64u;
    LogEntry* const entries =
      (LogEntry*)realloc(host->log_entries, cap * sizeof(LogEntry));
    if (entries) {
      host->log_entries = entries;
      host->cap_log     = cap;
    }
  }
  if (host->n_log < host->cap_log) {
    host->log_entries[host->n_log].type = type;
    host->log_entries[host->n_log].text = text;
    ++host->n_log;
  } else {
    free(text);
  }
  pthread_mutex_unlock(&host->log_lock);
  return len;
}

__attribute__((format(printf, 3, 4))) int
host_log_printf(LV2_Log_Handle handle, LV2_URID type, const char* fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  const int ret = host_log_vprintf(handle, type, fmt, args);
  va_end(args);
  return ret;
}

bool
hp_host_log_contains(HpHost* host, const char* substring)
{
  bool found = false;
  pthread_mutex_lock(&host->log_lock);
  for (size_t i = 0u; i < host->n_log && !found; ++i) {
    found = strstr(host->log_entries[i].text, substring) != NULL;
  }
  pthread_mutex_unlock(&host->log_lock);
  return found;
}

size_t
hp_host_log_count(HpHost* host)
{
  pthread_mutex_lock(&host->log_lock);
  const size_t n = host->n_log;
  pthread_mutex_unlock(&host->log_lock);
  return n;
}

const char*
hp_host_log_get(HpHost* host, size_t index, char* buf, size_t size)
{
  const char* type = NULL;
  pthread_mutex_lock(&host->log_lock);
  if (index < host->n_log) {
    if (buf && size) {
      snprintf(buf, size, "%s", host->log_entries[index].text);
    }
    type = hp_host_unmap(host, host->log_entries[index].type);
  }
  pthread_mutex_unlock(&host->log_lock);
  return type;
}

void
hp_host_log_clear(HpHost* host)
{
  pthread_mutex_lock(&host->log_lock);
  for (size_t i = 0u; i < host->n_log; ++i) {
    free(host->log_entries[i].text);
  }
  host->n_log = 0u;
  pthread_mutex_unlock(&host->log_lock);
}

/** The last error or warning the plugin logged, for failure messages. */
void
host_last_logged_problem(HpHost* host, char* buf, size_t size)
{
  buf[0] = '\0';
  pthread_mutex_lock(&host->log_lock);
  for (size_t i = host->n_log; i-- > 0u;) {
    const LogEntry* const e = &host->log_entries[i];
    if (e->type == host->hu.log_Error || e->type == host->hu.log_Warning) {
      snprintf(buf, size, "%s", e->text);
      break;
    }
  }
  pthread_mutex_unlock(&host->log_lock);
  const size_t len = strlen(buf);
  if (len && buf[len - 1u] == '\n') {
    buf[len - 1u] = '\0';
  }
}
