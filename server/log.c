/* log.c — one sink (stderr or a file), one line per message with time and level; the
 * message is written through qr_fputs_clean, so it stays one line. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "common.h"

static qr_log_level current = QR_LOG_WARN;
static FILE *sink; /* NULL: stderr */

void qr_log_set_level(qr_log_level level) { current = level; }
qr_log_level qr_log_get_level(void) { return current; }

int qr_log_open(const char *path) {
  qr_log_close();
  if (!path) return QR_OK;
  sink = fopen(path, "a");
  return sink ? QR_OK : QR_E_IO;
}

void qr_log_close(void) {
  if (sink) fclose(sink);
  sink = NULL;
}

void qr_log(qr_log_level level, const char *fmt, ...) {
  static const char *names[] = {"error", "warn", "info", "debug"};
  if (level > current) return;
  FILE *out = sink ? sink : stderr;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  fprintf(out, "%02d:%02d:%02d.%03ld quorum %s: ", tm.tm_hour, tm.tm_min, tm.tm_sec,
          ts.tv_nsec / 1000000, names[level]);
  /* Messages quote file names and remote text: one line each, cleaned (no allocation here). */
  char line[8192];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  qr_fputs_clean(out, line);
  fputs(n >= (int)sizeof line ? " [cut]\n" : "\n", out);
  fflush(out);
}
