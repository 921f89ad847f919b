/* ledger.c — `quorum ledger` and `quorum cache`: the reading side of the cost features.
 *
 *   quorum ledger [--json] [--since DATE] [--by model|day|role]
 *     prints the calls recorded in the ledger (ledger.h), or their sums per model, day or role,
 *     as text (a line each and a total) or, with --json, as a JSON array. Calls are streamed
 *     from the file one at a time, so a history of any length prints.
 *   quorum cache stats [--json] | quorum cache clear [--config FILE]
 *     shows or empties the pass cache (cache.h); its size cap comes from the config.
 *
 * Exit codes: 0 done, 2 usage error, 4 the ledger or cache could not be read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/cache.h"
#include "cli.h"
#include "commands.h"
#include "store/ledger.h"

/* The sums per group are formatted in memory: a line per model, day or role. */
#define LEDGER_TEXT_CAP (128u << 20)

static const char ledger_usage[] =
    "usage: quorum ledger [--json] [--since DATE] [--by model|day|role]\n"
    "Prints the model calls recorded in $XDG_STATE_HOME/quorum/ledger.jsonl (default\n"
    "~/.local/state/quorum/ledger.jsonl): one line per call and a total, or sums per group.\n"
    "  --json         the records (or sums) as a JSON array\n"
    "  --since DATE   only calls at or after DATE (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC)\n"
    "  --by KEY       sums per model, day (UTC) or role instead of single calls\n"
    "Exit codes: 0 done, 2 usage error, 4 the ledger could not be read.\n";

static const char cache_usage[] =
    "usage: quorum cache stats [--json] [--config FILE]\n"
    "       quorum cache clear [--config FILE]\n"
    "Shows or empties the pass cache ($XDG_CACHE_HOME/quorum/cache.db, default\n"
    "~/.cache/quorum/cache.db). Its size cap is cache.max_mb of the configuration.\n"
    "Exit codes: 0 done, 2 usage error, 4 the cache could not be opened.\n";

/* Prints the records as they are read: a JSON array, or a line each and the total line. */
typedef struct printer {
  bool as_json;
  qr_ledger_totals totals;
  qr_buf line;
} printer;

static int print_record(json_t *rec, void *data) {
  printer *p = data;
  bool first = p->totals.calls == 0;
  qr_ledger_totals_add(&p->totals, rec, NULL);
  qr_buf_reset(&p->line);
  if (p->as_json) {
    if (fputs(first ? "[\n" : ",\n", stdout) == EOF || json_dumpf(rec, stdout, JSON_COMPACT))
      return QR_E_IO;
    return QR_OK;
  }
  int rc = qr_ledger_format_record(rec, &p->line);
  if (!rc && fwrite(p->line.data, 1, p->line.len, stdout) != p->line.len) rc = QR_E_IO;
  return rc;
}

static int stream_records(const char *since, bool as_json) {
  printer p = {.as_json = as_json};
  qr_buf_init(&p.line, LEDGER_TEXT_CAP);
  qr_err e = {0};
  int rc = as_json ? QR_OK : qr_ledger_format_record(NULL, &p.line);
  if (!rc && !as_json) fwrite(p.line.data, 1, p.line.len, stdout);
  if (!rc) rc = qr_ledger_each(NULL, since, print_record, &p, &e);
  if (rc == QR_E_INVAL) {
    qr_buf_free(&p.line);
    return cli_usage_error("ledger: %s", e.msg);
  }
  qr_buf_reset(&p.line);
  if (!rc && !as_json) rc = qr_ledger_format_totals(&p.totals, &p.line);
  if (!rc) fputs(as_json ? (p.totals.calls ? "\n]\n" : "[]\n") : p.line.data, stdout);
  if (rc) fprintf(stderr, "quorum: %s\n", e.msg[0] ? e.msg : qr_strerror(rc));
  qr_buf_free(&p.line);
  return rc || fflush(stdout) ? EXIT_IO : 0;
}

static int print_ledger(const json_t *q, const char *by, bool as_json) {
  if (as_json) {
    if (json_dumpf(q, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF) return EXIT_IO;
    return 0;
  }
  qr_buf text;
  qr_buf_init(&text, LEDGER_TEXT_CAP);
  int rc = qr_ledger_format_text(q, by, &text);
  if (rc) fprintf(stderr, "quorum: cannot format the ledger: %s (narrow it with --since)\n",
                  qr_strerror(rc));
  else if (text.len) fwrite(text.data, 1, text.len, stdout);
  qr_buf_free(&text);
  return rc ? EXIT_IO : 0;
}

int cli_ledger(int argc, char **argv) {
  static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                       {"since", required_argument, 0, 's'},
                                       {"by", required_argument, 0, 'b'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *since = NULL, *by = NULL;
  bool as_json = false;
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (ch) {
    case 'j': as_json = true; break;
    case 's': since = optarg; break;
    case 'b': by = optarg; break;
    case 'h': fputs(ledger_usage, stdout); return 0;
    default: return cli_usage_error("ledger: unknown option");
    }
  }
  if (optind < argc) return cli_usage_error("ledger: unexpected argument '%s'", argv[optind]);
  if (by && strcmp(by, "model") && strcmp(by, "day") && strcmp(by, "role"))
    return cli_usage_error("ledger: --by takes model, day or role, not '%s'", by);
  if (!by) return stream_records(since, as_json);
  json_t *q = NULL;
  qr_err e = {0};
  int rc = qr_ledger_query(NULL, since, by, &q, NULL, &e);
  if (rc == QR_E_INVAL) return cli_usage_error("ledger: %s", e.msg);
  if (rc) {
    fprintf(stderr, "quorum: %s\n", e.msg);
    return EXIT_IO;
  }
  rc = print_ledger(q, by, as_json);
  json_decref(q);
  return rc;
}

/* The cache's size cap from the config; the default cap when the config cannot be read (a
 * broken config must not keep anyone from clearing the cache). */
static size_t cache_cap(const char *config_path) {
  qr_config *cfg = NULL;
  qr_err e = {0};
  if (qr_config_load(config_path, &cfg, &e)) {
    fprintf(stderr, "quorum: %s (using the default cache size)\n", e.msg);
    return 0;
  }
  size_t cap = (size_t)cfg->cache.max_mb << 20;
  qr_config_free(cfg);
  return cap;
}

static void print_stats(const json_t *s, bool as_json) {
  if (as_json) {
    json_dumpf(s, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    return;
  }
  printf("cache: %s\nentries: %lld\nbytes: %lld of %lld\nhits: %lld\nfile: %lld bytes\n",
         json_string_value(json_object_get(s, "path")),
         (long long)json_integer_value(json_object_get(s, "entries")),
         (long long)json_integer_value(json_object_get(s, "bytes")),
         (long long)json_integer_value(json_object_get(s, "max_bytes")),
         (long long)json_integer_value(json_object_get(s, "hits")),
         (long long)json_integer_value(json_object_get(s, "file_bytes")));
}

int cli_cache(int argc, char **argv) {
  static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                       {"config", required_argument, 0, 'c'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *config_path = NULL;
  bool as_json = false;
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (ch) {
    case 'j': as_json = true; break;
    case 'c': config_path = optarg; break;
    case 'h': fputs(cache_usage, stdout); return 0;
    default: return cli_usage_error("cache: unknown option");
    }
  }
  if (optind != argc - 1) return cli_usage_error("cache: expected one of stats, clear");
  const char *verb = argv[optind];
  bool stats = !strcmp(verb, "stats");
  if (!stats && strcmp(verb, "clear")) return cli_usage_error("cache: unknown action '%s'", verb);
  if (!stats && as_json) return cli_usage_error("cache: --json goes with stats");
  qr_cache *c = NULL;
  json_t *s = NULL;
  qr_err e = {0};
  int rc = qr_cache_open(NULL, cache_cap(config_path), &c, &e);
  if (!rc) rc = stats ? qr_cache_stats(c, &s, &e) : qr_cache_clear(c, &e);
  if (rc) fprintf(stderr, "quorum: cache: %s\n", e.msg);
  else if (stats) print_stats(s, as_json);
  else puts("cache cleared");
  json_decref(s);
  qr_cache_close(c);
  return rc ? EXIT_IO : 0;
}
