/* ledger.h — the call ledger: one JSON line per model call (pass, retry, judge) appended to
 * $XDG_STATE_HOME/quorum/ledger.jsonl (default ~/.local/state/quorum/ledger.jsonl), and the
 * reading side behind `quorum ledger [--json] [--since DATE] [--by model|day|role]` and the
 * daily budget.
 *
 * A record holds what a call cost and who served it — never a prompt, an answer or a key:
 *   {"time":"2024-05-01T12:00:00Z","role":"pass","strategy":"security","model":"fast",
 *    "model_requested":"openai/gpt-4o-mini","model_served":"openai/gpt-4o-mini-2024-07-18",
 *    "input_tokens":1200,"output_tokens":300,"cached_tokens":0,"cost_usd":0.00036,
 *    "latency_ms":2100,"status":"ok","redactions":0,"review":"9f2c…"}
 * Several processes may append at once: each record is one write() on an O_APPEND descriptor
 * and at most QR_LEDGER_MAX_RECORD bytes (long strings are cut), so lines never interleave.
 * Readers skip lines that are not records, and records with a negative or absurd count or cost
 * (a foreign or damaged line never stops a query); an append after a torn last line starts on a
 * line of its own. */
#ifndef QR_LEDGER_H
#define QR_LEDGER_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "common.h"

/* The longest line a record becomes (PIPE_BUF on Linux): string fields are cut to fit. */
#define QR_LEDGER_MAX_RECORD 4096
/* Lines read back are at most this long; longer ones are skipped. */
#define QR_LEDGER_MAX_LINE 65536
/* A records query returns the newest this many (sums and qr_ledger_each have no limit). */
#define QR_LEDGER_MAX_RECORDS 10000
/* Size of a review id from qr_ledger_review_id, NUL included. */
#define QR_LEDGER_ID_SIZE 17

typedef struct qr_ledger qr_ledger;

/* One call. Strings are borrowed for the duration of qr_ledger_append; NULL is written as
 * JSON null. */
typedef struct qr_ledger_record {
  time_t time;                 /* 0: now */
  const char *role;            /* "pass" | "judge" */
  const char *strategy;        /* strategy name ("judge" for the judge) */
  const char *model;           /* the config alias */
  const char *model_requested; /* the provider's model id that was asked for */
  const char *model_served;    /* the "model" of the response, NULL when none arrived */
  long input_tokens, output_tokens, cached_tokens;
  double cost_usd;
  long latency_ms;
  const char *status;          /* "ok" or the provider's reason ("http_429", "timeout", …) */
  long redactions;             /* secrets redacted from what was sent */
  const char *review;          /* shared by the calls of one review (qr_ledger_review_id) */
  int attempts;                /* which HTTP attempt of the call this record is (1 = the first;
                                  a retried attempt has its own record); 0 counts as 1 */
  bool usage_estimated;        /* the provider reported no usage: cost_usd is the estimate
                                  (written as "usage_estimated": true) */
} qr_ledger_record;

/* The default file ($XDG_STATE_HOME or ~/.local/state, then quorum/ledger.jsonl). *out is new
 * (qr_free); QR_E_NOTFOUND when neither XDG_STATE_HOME nor HOME is set. */
int qr_ledger_default_path(char **out, qr_err *e);

/* Opens `path` (NULL: the default) for appending, creating missing folders (0700) and the file
 * (0600). *out is new; close with qr_ledger_close. QR_E_IO names the path and the reason. */
int qr_ledger_open(const char *path, qr_ledger **out, qr_err *e);
/* The file the ledger writes (borrowed, valid until close). */
const char *qr_ledger_path(const qr_ledger *l);
/* Appends one record with a single write(). QR_E_INVAL for a NULL record, QR_E_IO when the
 * write fails or is short (a full disk), QR_E_NOMEM. */
int qr_ledger_append(qr_ledger *l, const qr_ledger_record *r, qr_err *e);
/* Closes the file and frees l; NULL is a no-op. */
void qr_ledger_close(qr_ledger *l);

/* Fills `out` with a new id for the calls of one review: 16 hex digits, random. */
void qr_ledger_review_id(char out[QR_LEDGER_ID_SIZE]);

/* Reads the ledger at `path` (NULL: the default). since (NULL: everything) is a UTC date
 * "YYYY-MM-DD" or a time "YYYY-MM-DDTHH:MM:SSZ": records at or after it are kept.
 * by NULL: *out is a new array of the newest QR_LEDGER_MAX_RECORDS records in file order
 * (*omitted, when not NULL, counts the older ones left out). by "model" | "day" | "role": *out is a new array of sums sorted by
 * the key, each {"<by>": key, "calls", "input_tokens", "output_tokens", "cached_tokens",
 * "cost_usd", "latency_ms"}; "day" is the UTC date. A missing file is an empty ledger.
 * QR_E_INVAL for a malformed since or an unknown by. */
int qr_ledger_query(const char *path, const char *since, const char *by, json_t **out,
                    long *omitted, qr_err *e);

/* Called for each record in file order; rec is borrowed for the call. Non-zero stops the walk
 * and is what qr_ledger_each returns. */
typedef int (*qr_ledger_each_fn)(json_t *rec, void *data);
/* Walks the records at or after `since` (as qr_ledger_query) of the ledger at `path` (NULL:
 * the default) from the oldest, holding one line at a time: a history of any length. */
int qr_ledger_each(const char *path, const char *since, qr_ledger_each_fn fn, void *data,
                   qr_err *e);

/* Sums for the total line of the text form. */
typedef struct qr_ledger_totals {
  long long calls, input_tokens, output_tokens;
  double cost_usd;
} qr_ledger_totals;
/* Adds a record (or, with by, a group's sums) to t. */
void qr_ledger_totals_add(qr_ledger_totals *t, const json_t *rec, const char *by);
/* Appends the text form's header (rec NULL) or one record's line to out. */
int qr_ledger_format_record(const json_t *rec, qr_buf *out);
/* Appends the total line to out. */
int qr_ledger_format_totals(const qr_ledger_totals *t, qr_buf *out);

/* Appends the text form of a query result (`q` and `by` as qr_ledger_query gave and took them;
 * q borrowed) to `out`: one line per record or group under a header, then a total line. */
int qr_ledger_format_text(const json_t *q, const char *by, qr_buf *out);

/* The cost_usd summed over the records at or after `since` in the ledger at `path` (NULL: the
 * default), read backwards from the end so a long history costs only its recent part; a
 * missing file is 0. For the daily budget: since = qr_budget_day_start(now). */
int qr_ledger_spent_since(const char *path, time_t since, double *out, qr_err *e);

#endif
