/* findings.c — a review pass's answer turned into findings we can trust: the JSON is dug out
 * of whatever prose or fences the model wrapped it in, each entry is type-checked and capped,
 * and validation keeps only what can be placed on the new side of the diff, moving a finding to
 * where its quoted evidence really is when the model got the line numbers wrong.
 *
 * Decisions: start_line > end_line is swapped (models do reverse them; the span is still
 * meaningful); a missing end_line means a one-line finding; an entry over a length cap is
 * skipped and counted (never truncated into a different claim); a malformed fix object drops the
 * fix but keeps the finding.
 *
 * Models outside strict structured output (local servers, json_schema off) write the contract
 * loosely; what has one meaning is normalised (severity synonyms, lines as strings, git path
 * prefixes, trailing commas, a bare list), anything else is dropped with its reason noted. */
#include "judge/findings.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

#define MAX_FINDINGS QR_FINDINGS_MAX_PER_ANSWER
#define MAX_MESSAGE 2048          /* bytes */
#define MAX_CATEGORY 128
#define MAX_SEVERITY 64
#define DEFAULT_CATEGORY "general"
#define WHY_MAX 160               /* a drop reason */
#define MAX_FILE 4096
#define MAX_EVIDENCE 4096
#define MAX_REPLACEMENT (64 * 1024)
#define MAX_LINE 10000000         /* keeps line arithmetic far from INT_MAX */
#define RELOCATE_MAX_SPAN 20      /* a relocated finding keeps at most this many lines */
#define RELOCATE_MIN_EVIDENCE 4   /* shorter normalised evidence is too ambiguous to move by */

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* ---- severities and the finding list ---------------------------------------------------- */

static const char *const severity_names[] = {NULL, "hint", "info", "warning", "error"};

qr_severity qr_severity_parse(const char *s) {
  if (!s) return 0;
  for (int i = QR_SEV_HINT; i <= QR_SEV_ERROR; i++)
    if (!strcmp(s, severity_names[i])) return (qr_severity)i;
  return 0;
}

qr_severity qr_severity_parse_model(const char *s) {
  static const struct {
    const char *word;
    qr_severity sev;
  } words[] = {{"error", QR_SEV_ERROR},     {"critical", QR_SEV_ERROR}, {"blocker", QR_SEV_ERROR},
               {"high", QR_SEV_ERROR},      {"warning", QR_SEV_WARNING}, {"major", QR_SEV_WARNING},
               {"medium", QR_SEV_WARNING},  {"moderate", QR_SEV_WARNING}, {"info", QR_SEV_INFO},
               {"minor", QR_SEV_INFO},      {"low", QR_SEV_INFO},       {"hint", QR_SEV_HINT},
               {"nit", QR_SEV_HINT},        {"trivial", QR_SEV_HINT},   {"style", QR_SEV_HINT}};
  if (!s) return 0;
  s += strspn(s, " \t\r\n");
  size_t n = strlen(s);
  while (n && strchr(" \t\r\n", s[n - 1])) n--;
  for (size_t i = 0; i < QR_ARRAY_LEN(words); i++)
    if (strlen(words[i].word) == n && !strncasecmp(s, words[i].word, n)) return words[i].sev;
  return 0;
}

const char *qr_severity_name(qr_severity s) {
  return s >= QR_SEV_HINT && s <= QR_SEV_ERROR ? severity_names[s] : "unknown";
}

void qr_finding_list_init(qr_finding_list *l) { memset(l, 0, sizeof *l); }

void qr_finding_list_free(qr_finding_list *l) {
  for (size_t i = 0; i < l->n; i++) qr_finding_clear(&l->items[i]);
  qr_free(l->items);
  qr_finding_list_init(l);
}

int qr_finding_list_push(qr_finding_list *l, qr_finding *f) {
  if (qr_grow(&l->items, &l->alloc, l->n + 1, sizeof *l->items, 8)) return QR_E_NOMEM;
  l->items[l->n++] = *f;
  memset(f, 0, sizeof *f);
  return QR_OK;
}

static void fix_free(qr_fix *x) {
  if (!x) return;
  qr_free(x->replacement);
  qr_free(x);
}

void qr_finding_clear(qr_finding *f) {
  qr_free(f->file);
  qr_free(f->category);
  qr_free(f->message);
  qr_free(f->evidence);
  qr_free(f->rule);
  fix_free(f->fix);
  for (size_t i = 0; i < f->n_sources; i++) {
    qr_free(f->sources[i].model);
    qr_free(f->sources[i].strategy);
  }
  qr_free(f->sources);
  json_decref(f->merge);
  memset(f, 0, sizeof *f);
}

/* A deep copy of a fix; NULL when out of memory. */
static qr_fix *fix_copy(const qr_fix *x) {
  qr_fix *c = qr_malloc(sizeof *c);
  if (!c) return NULL;
  *c = *x;
  c->replacement = qr_strdup(x->replacement);
  if (c->replacement) return c;
  qr_free(c);
  return NULL;
}

int qr_finding_copy(qr_finding *dst, const qr_finding *src) {
  qr_finding d = *src;
  d.file = qr_strdup(src->file);
  d.category = qr_strdup(src->category);
  d.message = qr_strdup(src->message);
  d.evidence = qr_strdup(src->evidence);
  d.rule = qr_strdup(src->rule);
  d.fix = src->fix ? fix_copy(src->fix) : NULL;
  d.sources = NULL;
  d.n_sources = 0;
  d.merge = src->merge ? json_deep_copy(src->merge) : NULL;
  bool ok = d.file && d.category && d.message && (d.evidence || !src->evidence) &&
            (d.rule || !src->rule) && (d.merge || !src->merge) &&
            (d.fix || !src->fix);
  for (size_t i = 0; ok && i < src->n_sources; i++)
    ok = !qr_finding_add_source(&d, src->sources[i].model, src->sources[i].strategy,
                                src->sources[i].pass);
  if (!ok) {
    qr_finding_clear(&d);
    return QR_E_NOMEM;
  }
  *dst = d;
  return QR_OK;
}

int qr_finding_add_sources(qr_finding *into, const qr_finding *from) {
  for (size_t s = 0; s < from->n_sources; s++) {
    bool have = false;
    for (size_t t = 0; t < into->n_sources && !have; t++)
      have = into->sources[t].pass == from->sources[s].pass;
    if (!have && qr_finding_add_source(into, from->sources[s].model, from->sources[s].strategy,
                                       from->sources[s].pass))
      return QR_E_NOMEM;
  }
  into->votes = (int)into->n_sources;
  into->models = 0;
  for (size_t i = 0; i < into->n_sources; i++) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++) seen = !strcmp(into->sources[i].model, into->sources[j].model);
    into->models += !seen;
  }
  return QR_OK;
}

int qr_finding_add_source(qr_finding *f, const char *model, const char *strategy, int pass) {
  qr_source *p = qr_realloc(f->sources, (f->n_sources + 1) * sizeof *p);
  if (!p) return QR_E_NOMEM;
  f->sources = p;
  qr_source *s = &p[f->n_sources];
  s->model = qr_strdup(model ? model : "");
  s->strategy = qr_strdup(strategy ? strategy : "");
  s->pass = pass;
  if (!s->model || !s->strategy) {
    qr_free(s->model);
    qr_free(s->strategy);
    return QR_E_NOMEM;
  }
  f->n_sources++;
  return QR_OK;
}

/* ---- why findings were dropped ---------------------------------------------------------- */

void qr_drops_free(qr_drops *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n; i++) {
    qr_free(d->items[i].file);
    qr_free(d->items[i].reason);
  }
  memset(d->items, 0, sizeof d->items);
  d->n = 0;
  d->total = 0;
}

/* Counts `count` drops for one reason, logs it and keeps it while there is room. Out of memory
 * only loses the reason, never the count. */
static void drop_note(qr_drops *d, int count, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void drop_note(qr_drops *d, int count, const char *file, int line, const char *fmt, ...) {
  if (!d) return;
  d->total += count;
  char why[WHY_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  char *f = file ? qr_findings_clean_text(file) : NULL;
  QR_INFO("%s × %s: dropped a finding%s%s%s%.0d: %s", d->model ? d->model : "?",
          d->strategy ? d->strategy : "?", f ? " on " : "", f ? f : "", f && line ? ":" : "",
          f ? line : 0, why);
  if (d->n < QR_DROPS_KEPT && (f || !file)) {
    qr_drop *k = &d->items[d->n];
    k->reason = qr_strdup(why);
    k->file = f;
    k->line = line;
    f = NULL;
    if (k->reason) d->n++;
    else qr_free(k->file);
  }
  qr_free(f);
}

/* ---- finding the JSON in the answer ------------------------------------------------------ */

/* Which bare lists of findings a candidate may be (the {"key": […]} object always is). */
typedef enum { LIST_NONE, LIST_ANY, LIST_NONEMPTY } list_mode;

/* Follows JSON string syntax one character at a time: true while `c` belongs to a string
 * already open (its closing quote included). */
static bool in_string(char c, bool *in_str, bool *esc) {
  if (!*in_str) return false;
  if (*esc) *esc = false;
  else if (c == '\\') *esc = true;
  else if (c == '"') *in_str = false;
  return true;
}

/* A copy of [p, p+n) without the commas that only precede a closing ] or } (outside strings);
 * NULL when there are none (or out of memory). */
static char *without_trailing_commas(const char *p, size_t n, size_t *len) {
  char *d = qr_malloc(n + 1);
  if (!d) return NULL;
  size_t w = 0;
  bool in_str = false, esc = false, removed = false;
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    if (!in_string(c, &in_str, &esc)) {
      if (c == '"') in_str = true;
      size_t k = i + 1;
      while (c == ',' && k < n && is_blank(p[k])) k++;
      if (c == ',' && k < n && (p[k] == ']' || p[k] == '}')) {
        removed = true;
        continue;
      }
    }
    d[w++] = c;
  }
  if (!removed) {
    qr_free(d);
    return NULL;
  }
  *len = w;
  return d;
}

/* Parses [p, p+n), retrying without trailing commas. New reference or NULL. */
static json_t *load_lenient(const char *p, size_t n) {
  json_error_t je;
  json_t *j = json_loadb(p, n, 0, &je);
  size_t m;
  char *fixed = j ? NULL : without_trailing_commas(p, n, &m);
  if (fixed) j = json_loadb(fixed, m, 0, &je);
  qr_free(fixed);
  return j;
}

/* A bare list of findings: an array of objects only. */
static bool is_finding_list(json_t *j, list_mode lists) {
  if (lists == LIST_NONE || !json_is_array(j) || (lists == LIST_NONEMPTY && !json_array_size(j)))
    return false;
  size_t i;
  json_t *v;
  json_array_foreach(j, i, v) if (!json_is_object(v)) return false;
  return true;
}

/* The value at [p, p+n) when it parses and holds an array under `key` (or one of its object
 * members does: {"result": {"findings": […]}}) or is a list `lists` allows; NULL otherwise.
 * New reference. */
static json_t *load_candidate(const char *p, size_t n, const char *key, list_mode lists) {
  json_t *j = load_lenient(p, n);
  if (!j) return NULL;
  if (is_finding_list(j, lists)) return j;
  json_t *hit = NULL;
  if (json_is_object(j)) {
    if (json_is_array(json_object_get(j, key))) return j;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
      if (json_is_object(v) && json_is_array(json_object_get(v, key))) {
        hit = json_incref(v);
        break;
      }
    }
  }
  json_decref(j);
  return hit;
}

/* A candidate found by a scan: while collecting (`all` not NULL) it joins `all` and the scan
 * goes on (NULL); otherwise it is the result. */
static json_t *take(json_t *all, json_t *j) {
  if (!all || !j) return j;
  json_array_append_new(all, j);
  return NULL;
}

/* Each ``` fenced block (the info string after the opening fence is skipped). */
static json_t *from_fences(const char *t, size_t len, const char *key, list_mode lists,
                           json_t *all) {
  const char *end = t + len, *p = t;
  while ((p = memmem(p, (size_t)(end - p), "```", 3))) {
    const char *body = memchr(p + 3, '\n', (size_t)(end - (p + 3)));
    if (!body) return NULL;
    body++;
    const char *close = memmem(body, (size_t)(end - body), "```", 3);
    if (!close) return NULL;
    json_t *j = take(all, load_candidate(body, (size_t)(close - body), key, lists));
    if (j) return j;
    p = close + 3;
  }
  return NULL;
}

/* Each top-level balanced `open`…`close` span, scanning strings correctly inside it (prose
 * outside may hold stray quotes). One pass over the text; *truncated is set when a span never
 * closes, *any when one did. */
static json_t *from_spans(const char *t, size_t len, char open, char close, const char *key,
                          list_mode lists, json_t *all, bool *truncated, bool *any) {
  size_t depth = 0, start = 0;
  bool in_str = false, esc = false;
  for (size_t i = 0; i < len; i++) {
    char c = t[i];
    if (in_string(c, &in_str, &esc)) continue;
    if (c == open) {
      if (depth++ == 0) start = i;
    } else if (depth && c == '"') {
      in_str = true;
    } else if (depth && c == close && --depth == 0) {
      *any = true;
      json_t *j = take(all, load_candidate(t + start, i + 1 - start, key, lists));
      if (j) return j;
    }
  }
  *truncated = depth > 0;
  return NULL;
}

/* Moves *t past the reasoning a model wrote before its answer — <think>…</think> or
 * <thinking>…</thinking> blocks at the start (DeepSeek-R1 style models served without a
 * reasoning parser), or everything up to a lone closing tag (the chat template opened the block
 * in the prompt): drafts in there are often retracted, so they are not the answer. Returns -1
 * when a block never closes (the answer is all reasoning), 1 when a lone closing tag ended the
 * reasoning (it might be quoted text instead: the caller may look again), 0 otherwise. */
static int skip_reasoning(const char **t, size_t *len) {
  static const char *const tags[][2] = {{"<think>", "</think>"}, {"<thinking>", "</thinking>"}};
  const char *p = *t, *end = *t + *len;
  for (bool again = true; again;) {
    again = false;
    while (p < end && is_blank(*p)) p++;
    for (size_t i = 0; i < QR_ARRAY_LEN(tags) && !again; i++) {
      size_t ol = strlen(tags[i][0]), cl = strlen(tags[i][1]);
      if ((size_t)(end - p) < ol || memcmp(p, tags[i][0], ol)) continue;
      const char *c = memmem(p + ol, (size_t)(end - p - ol), tags[i][1], cl);
      if (!c) return -1;
      p = c + cl;
      again = true;
    }
  }
  int lone = 0;
  for (size_t i = 0; p == *t && i < QR_ARRAY_LEN(tags); i++) {
    const char *c = memmem(p, (size_t)(end - p), tags[i][1], strlen(tags[i][1]));
    if (c && !memmem(p, (size_t)(c - p), tags[i][0], strlen(tags[i][0]))) {
      p = c + strlen(tags[i][1]);
      lone = 1;
    }
  }
  *len -= (size_t)(p - *t);
  *t = p;
  return lone;
}

/* One answer from the objects collected in `all` (each holds an array under `key`): the only
 * one, or {key: every array's entries in order}. New reference; NULL when out of memory. */
static json_t *merged(json_t *all, const char *key) {
  if (json_array_size(all) == 1) return json_incref(json_array_get(all, 0));
  json_t *arr = json_array(), *o = json_object(), *v;
  size_t i;
  bool ok = arr && o && !json_object_set(o, key, arr);
  json_array_foreach(all, i, v) ok = ok && !json_array_extend(arr, json_object_get(v, key));
  json_decref(arr);
  if (ok) return o;
  json_decref(o);
  return NULL;
}

/* The answer in `text` (reasoning already skipped), as extract. */
static int scan(const char *text, size_t len, const char *key, bool lists, bool all_objects,
                json_t **out, qr_err *e) {
  json_t *all = all_objects ? json_array() : NULL;
  if (all_objects && !all) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  bool truncated = false, any_object = false, list_truncated = false, any_list = false;
  json_t *j = load_candidate(text, len, key, LIST_NONE);
  if (!j) j = from_fences(text, len, key, LIST_NONE, all);
  if (!j && !json_array_size(all))
    j = from_spans(text, len, '{', '}', key, LIST_NONE, all, &truncated, &any_object);
  if (!j && json_array_size(all) && !(j = merged(all, key))) {
    json_decref(all);
    return qr_err_set(e, QR_E_NOMEM, "out of memory");
  }
  json_decref(all);
  if (!j && lists) {
    j = load_candidate(text, len, key, LIST_ANY);
    if (!j) j = from_fences(text, len, key, LIST_ANY, NULL);
    if (!j)
      j = from_spans(text, len, '[', ']', key, LIST_NONEMPTY, NULL, &list_truncated, &any_list);
  }
  if (j) {
    *out = j;
    return QR_OK;
  }
  if (truncated)
    return qr_err_set(e, QR_E_PARSE, "the answer is truncated: a JSON object never closes");
  if (any_object)
    return qr_err_set(e, QR_E_PARSE, "no JSON object with a \"%s\" array in the answer", key);
  return qr_err_set(e, QR_E_PARSE, "no JSON object in the answer");
}

/* As qr_findings_extract_json; with `lists`, a bare list of objects is taken when no object
 * holding `key` is found (an empty list only as the whole answer or a fenced block). With
 * `all_objects`, every answer object (fenced ones, else bare ones) counts: a model that adds
 * "On reflection, also: {…}" meant both. An answer that is one JSON value holds no reasoning
 * (a "</think>" in it is quoted text). */
static int extract(const char *text, size_t len, const char *key, bool lists, bool all_objects,
                   json_t **out, qr_err *e) {
  if (!text) return qr_err_set(e, QR_E_INVAL, "no answer text");
  if (len > QR_FINDINGS_MAX_ANSWER)
    return qr_err_set(e, QR_E_TOOBIG, "answer of %zu bytes exceeds the %u-byte cap", len,
                      QR_FINDINGS_MAX_ANSWER);
  if ((*out = load_candidate(text, len, key, lists ? LIST_ANY : LIST_NONE))) return QR_OK;
  const char *t = text;
  size_t n = len;
  int lone = skip_reasoning(&t, &n);
  if (lone < 0)
    return qr_err_set(e, QR_E_PARSE, "the answer is only reasoning: a <think> block never closes");
  int rc = scan(t, n, key, lists, all_objects, out, e);
  /* a lone closing tag that left no answer after it was quoted text, not the end of reasoning */
  return rc == QR_E_PARSE && lone ? scan(text, len, key, lists, all_objects, out, e) : rc;
}

int qr_findings_extract_json(const char *text, size_t len, const char *key, json_t **out,
                             qr_err *e) {
  return extract(text, len, key, false, false, out, e);
}

/* ---- entries ----------------------------------------------------------------------------- */

/* A copy of `s` for display: tabs and newlines become spaces, other control characters go
 * (C1 ones too: U+0080–U+009F, UTF-8 C2 80–C2 9F, which terminals obey like ESC), leading and
 * trailing blanks are trimmed. NULL when out of memory. */
char *qr_findings_clean_text(const char *s) {
  size_t n = strlen(s);
  char *d = qr_malloc(n + 1), *w = d;
  if (!d) return NULL;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) p++;
    else if (*p == '\t' || *p == '\n' || *p == '\r') *w++ = ' ';
    else if (*p >= 0x20 && *p != 0x7f) *w++ = (char)*p;
  }
  while (w > d && w[-1] == ' ') w--;
  *w = '\0';
  size_t lead = strspn(d, " ");
  memmove(d, d + lead, (size_t)(w - d) - lead + 1);
  return d;
}

/* A string member no longer than `cap` bytes: 1 = ok, 0 = absent or null, -1 = not a string,
 * -2 = too long. */
static int str_field(json_t *o, const char *k, size_t cap, const char **out) {
  json_t *v = json_object_get(o, k);
  if (!v || json_is_null(v)) return 0;
  if (!json_is_string(v)) return -1;
  if (json_string_length(v) > cap) return -2;
  *out = json_string_value(v);
  return 1;
}

/* Writes why an entry does not fit; returns 1 (the entry is skipped). */
static int reject(char why[WHY_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int reject(char why[WHY_MAX], const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, WHY_MAX, fmt, ap);
  va_end(ap);
  return 1;
}

/* Says why str_field's result `r` for member `k` does not fit; returns 1. */
static int bad_field(char why[WHY_MAX], const char *k, int r) {
  return reject(why, r == 0 ? "no %s" : r == -1 ? "%s is not a string" : "%s is too long", k);
}

/* Reads digits at *p into [1, MAX_LINE], advancing *p; false when there are none or too many. */
static bool read_line_number(const char **p, int *out) {
  const char *s = *p;
  long n = 0;
  if (*s < '0' || *s > '9') return false;
  for (; *s >= '0' && *s <= '9'; s++)
    if ((n = n * 10 + (*s - '0')) > MAX_LINE) return false;
  if (n < 1) return false;
  *p = s;
  *out = (int)n;
  return true;
}

/* A line number member as [*lo, *hi]: an integer, a numeric string or a "12-14" range string.
 * 1 = ok, 0 = absent or null, -1 = anything else. */
static int line_field(json_t *o, const char *k, int *lo, int *hi) {
  json_t *v = json_object_get(o, k);
  if (!v || json_is_null(v)) return 0;
  if (json_is_integer(v)) {
    json_int_t n = json_integer_value(v);
    if (n < 1 || n > MAX_LINE) return -1;
    *lo = *hi = (int)n;
    return 1;
  }
  const char *s = json_string_value(v);
  if (!s) return -1;
  while (is_blank(*s)) s++;
  if (!read_line_number(&s, lo)) return -1;
  while (is_blank(*s)) s++;
  *hi = *lo;
  if (*s == '-') {
    for (s++; is_blank(*s); s++) {}
    if (!read_line_number(&s, hi)) return -1;
    while (is_blank(*s)) s++;
  }
  return *s ? -1 : 1;
}

/* Reads a line span, swapping a reversed one; a missing end means the start's (range's) end.
 * NULL, or why the span does not fit. */
static const char *parse_span(json_t *o, int *start, int *end) {
  int lo, hi, end_lo, end_hi;
  int r = line_field(o, "start_line", &lo, &hi);
  if (r == 0) return "no start_line";
  if (r < 0) return "start_line is not a line number";
  r = line_field(o, "end_line", &end_lo, &end_hi);
  if (r < 0) return "end_line is not a line number";
  *start = lo;
  *end = r ? end_hi : hi;
  if (*start > *end) {
    int t = *start;
    *start = *end;
    *end = t;
  }
  return NULL;
}

/* The optional fix; NULL (and *nomem false) when absent or malformed. */
static qr_fix *parse_fix(json_t *o, bool *nomem) {
  json_t *fx = json_object_get(o, "fix");
  const char *rep = NULL;
  int s, e;
  if (!json_is_object(fx) || parse_span(fx, &s, &e) ||
      str_field(fx, "replacement", MAX_REPLACEMENT, &rep) != 1)
    return NULL;
  qr_fix *f = qr_malloc(sizeof *f);
  char *r = qr_strdup(rep);
  if (!f || !r) {
    qr_free(f);
    qr_free(r);
    *nomem = true;
    return NULL;
  }
  f->start_line = s;
  f->end_line = e;
  f->replacement = r;
  return f;
}

/* Fills `f` from one entry: QR_OK, 1 (does not fit: `why` says why) or QR_E_NOMEM. */
static int parse_entry(json_t *o, qr_finding *f, char why[WHY_MAX]) {
  const char *file = NULL, *msg = NULL, *cat = NULL, *sev = NULL, *ev = NULL, *span;
  int r;
  if (!json_is_object(o)) return reject(why, "not an object");
  if ((r = str_field(o, "file", MAX_FILE, &file)) != 1 || !*file) return bad_field(why, "file", r == 1 ? 0 : r);
  if ((r = str_field(o, "message", MAX_MESSAGE, &msg)) != 1) return bad_field(why, "message", r);
  if ((r = str_field(o, "severity", MAX_SEVERITY, &sev)) != 1) return bad_field(why, "severity", r);
  if ((span = parse_span(o, &f->start_line, &f->end_line))) return reject(why, "%s", span);
  if ((r = str_field(o, "category", MAX_CATEGORY, &cat)) < 0) return bad_field(why, "category", r);
  if ((r = str_field(o, "evidence", MAX_EVIDENCE, &ev)) < 0) return bad_field(why, "evidence", r);
  if (!(f->severity = qr_severity_parse_model(sev))) {
    char *shown = qr_findings_clean_text(sev);
    reject(why, "unknown severity \"%s\"", shown ? shown : "");
    qr_free(shown);
    return 1;
  }
  bool nomem = false;
  f->file = qr_strdup(file);
  f->message = qr_findings_clean_text(msg);
  f->category = qr_findings_clean_text(cat ? cat : "");
  if (f->category && !*f->category) {
    qr_free(f->category);
    f->category = qr_strdup(DEFAULT_CATEGORY);
  }
  f->evidence = ev && *ev ? qr_strdup(ev) : NULL;
  f->fix = parse_fix(o, &nomem);
  if (nomem || !f->file || !f->message || !f->category || (ev && *ev && !f->evidence))
    return QR_E_NOMEM;
  return *f->message ? QR_OK : reject(why, "empty message"); /* control characters only */
}

/* Notes why `entry` was skipped, with its file and line when it has them. */
static void note_skip(qr_drops *d, json_t *entry, const char *why) {
  const char *file = NULL;
  int line = 0, hi;
  str_field(entry, "file", MAX_FILE, &file);
  if (line_field(entry, "start_line", &line, &hi) != 1) line = 0;
  drop_note(d, 1, file && *file ? file : NULL, line, "%s", why);
}

/* Keeps the MAX_FINDINGS most severe of out->items[base…] (answer order within a severity),
 * so an error after 200 hints is not the one lost. Returns how many were cut. */
static int keep_most_severe(qr_finding_list *out, size_t base) {
  size_t n = out->n - base;
  if (n <= MAX_FINDINGS) return 0;
  qr_finding *sorted = qr_malloc(n * sizeof *sorted);
  if (!sorted) return QR_E_NOMEM;
  size_t k = 0;
  for (int sev = QR_SEV_ERROR; sev >= QR_SEV_HINT; sev--)
    for (size_t i = base; i < out->n; i++)
      if ((int)out->items[i].severity == sev) sorted[k++] = out->items[i];
  memcpy(out->items + base, sorted, n * sizeof *sorted);
  qr_free(sorted);
  while (out->n > base + MAX_FINDINGS) qr_finding_clear(&out->items[--out->n]);
  return (int)(n - MAX_FINDINGS);
}

int qr_findings_parse(const char *text, size_t len, const char *model, const char *strategy,
                      int pass, qr_finding_list *out, qr_drops *drops, qr_err *e) {
  json_t *root;
  int rc = extract(text, len, "findings", true, true, &root, e);
  if (rc) return rc;
  json_t *arr = json_is_array(root) ? root : json_object_get(root, "findings");
  size_t base = out->n, i;
  int total = drops ? drops->total : 0;
  size_t kept = drops ? drops->n : 0;
  json_t *entry;
  json_array_foreach(arr, i, entry) {
    qr_finding f = {0};
    char why[WHY_MAX] = "";
    rc = parse_entry(entry, &f, why);
    if (rc == 1) {
      note_skip(drops, entry, why);
      rc = QR_OK;
    } else if (!rc && !(rc = qr_finding_add_source(&f, model, strategy, pass))) {
      rc = qr_finding_list_push(out, &f);
    }
    qr_finding_clear(&f);
    if (rc) break;
  }
  json_decref(root);
  int n_cut = rc ? 0 : keep_most_severe(out, base);
  if (n_cut < 0) rc = n_cut;
  if (rc) { /* never leave part of an answer behind */
    while (out->n > base) qr_finding_clear(&out->items[--out->n]);
    if (drops) { /* nor its drops: the whole answer failed */
      while (drops->n > kept) {
        drops->n--;
        qr_free(drops->items[drops->n].file);
        qr_free(drops->items[drops->n].reason);
        memset(&drops->items[drops->n], 0, sizeof drops->items[drops->n]);
      }
      drops->total = total;
    }
    return qr_err_set(e, rc, "out of memory while reading findings");
  }
  if (drops) drops->cut += n_cut;
  return QR_OK;
}

/* ---- validation and relocation ----------------------------------------------------------- */

/* Text with every whitespace run collapsed to one space and no leading/trailing blanks, plus
 * the (1-based) line each normalised byte came from, so a match maps back to lines. */
typedef struct norm_text {
  char *s;
  int *line; /* NULL when lines are not needed */
  size_t len;
} norm_text;

static void norm_free(norm_text *n) {
  qr_free(n->s);
  qr_free(n->line);
  memset(n, 0, sizeof *n);
}

static int normalise(const char *t, size_t len, bool with_lines, norm_text *out) {
  memset(out, 0, sizeof *out);
  out->s = qr_malloc(len + 1);
  if (with_lines) out->line = qr_malloc((len + 1) * sizeof *out->line);
  if (!out->s || (with_lines && !out->line)) {
    norm_free(out);
    return QR_E_NOMEM;
  }
  int line = 1;
  bool pending_space = false;
  for (size_t i = 0; i < len; i++) {
    if (is_blank(t[i])) {
      pending_space = out->len > 0;
    } else {
      if (pending_space) {
        if (with_lines) out->line[out->len] = line;
        out->s[out->len++] = ' ';
        pending_space = false;
      }
      if (with_lines) out->line[out->len] = line;
      out->s[out->len++] = t[i];
    }
    if (t[i] == '\n') line++;
  }
  out->s[out->len] = '\0';
  return QR_OK;
}

/* The normalised text of the file validated last; findings of one file usually come together. */
typedef struct file_cache {
  const qr_snapshot_file *file;
  norm_text norm;
} file_cache;

static int cache_get(file_cache *c, const qr_snapshot_file *f) {
  if (c->file == f) return QR_OK;
  norm_free(&c->norm);
  c->file = NULL;
  int rc = normalise(f->text, f->len, true, &c->norm);
  if (!rc) c->file = f;
  return rc;
}

static bool touches_hunks(const qr_diff_file *df, int s, int e) {
  for (int l = s; l <= e; l++)
    if (qr_diff_line_in_hunks(df, l)) return true;
  return false;
}

/* Where a finding may sit: inside the file and (unless context is allowed) on a hunk. */
static bool placeable(const qr_diff_file *df, const qr_snapshot_file *sf, bool allow_context,
                      int s, int e) {
  if (s < 1 || e < s || (size_t)e > sf->n_lines) return false;
  return allow_context || touches_hunks(df, s, e);
}

typedef struct evidence_hit {
  bool matched;      /* occurs at the finding's own lines */
  int start, end;    /* else the best place to move to (start 0: none) */
} evidence_hit;

/* Looks for the normalised evidence in the file: at the finding's lines, else the nearest
 * placeable occurrence within `window` lines, else the nearest one touching a hunk. */
static evidence_hit find_evidence(const norm_text *file, const norm_text *ev, const qr_finding *f,
                                  const qr_diff_file *df, const qr_snapshot_file *sf,
                                  bool allow_context, int window) {
  evidence_hit h = {0};
  long best_near = LONG_MAX, best_hunk = LONG_MAX;
  int near_s = 0, near_e = 0, hunk_s = 0, hunk_e = 0;
  const char *p = file->s, *end = file->s + file->len;
  while (ev->len && (p = memmem(p, (size_t)(end - p), ev->s, ev->len))) {
    size_t at = (size_t)(p - file->s);
    int ls = file->line[at], le = file->line[at + ev->len - 1];
    if (ls <= f->end_line && le >= f->start_line) {
      h.matched = true;
      return h;
    }
    long dist = labs((long)ls - f->start_line);
    if (ev->len >= RELOCATE_MIN_EVIDENCE) {
      if (dist <= window && dist < best_near && placeable(df, sf, allow_context, ls, le)) {
        best_near = dist;
        near_s = ls;
        near_e = le;
      }
      if (dist < best_hunk && touches_hunks(df, ls, le)) {
        best_hunk = dist;
        hunk_s = ls;
        hunk_e = le;
      }
    }
    p++;
  }
  h.start = near_s ? near_s : hunk_s;
  h.end = near_s ? near_e : hunk_e;
  return h;
}

/* Moves f (and its fix) to start at `s`, keeping its length within reason and covering the
 * evidence that ends at `ev_end`. */
static void relocate(qr_finding *f, int s, int ev_end, size_t n_lines) {
  int delta = s - f->start_line;
  int span = QR_MIN(f->end_line - f->start_line, RELOCATE_MAX_SPAN - 1);
  f->start_line = s;
  f->end_line = QR_MAX(ev_end, (int)QR_MIN((size_t)(s + span), n_lines));
  f->relocated = true;
  f->evidence_matched = true;
  if (f->fix) {
    f->fix->start_line += delta;
    f->fix->end_line += delta;
  }
}

/* Whether `path` is `tail` or ends with "/" + tail. */
static bool ends_with_path(const char *path, size_t pl, const char *tail, size_t tl) {
  return pl > tl && path[pl - tl - 1] == '/' && !memcmp(path + pl - tl, tail, tl);
}

/* The file of the change a model's `name` means (see qr_findings_validate); NULL when none, or
 * several (*ambiguous). */
static const qr_diff_file *resolve_file(const qr_diff *diff, const char *root, const char *name,
                                        bool *ambiguous) {
  char buf[MAX_FILE + 1];
  size_t n = strlen(name);
  const qr_diff_file *df = qr_diff_find(diff, name);
  if (df || n > MAX_FILE) return df;
  for (size_t i = 0; i <= n; i++) buf[i] = name[i] == '\\' ? '/' : name[i];
  const char *p = buf;
  size_t rl = root ? strlen(root) : 0;
  while (rl && root[rl - 1] == '/') rl--;
  if (rl && !strncmp(p, root, rl) && p[rl] == '/') p += rl;
  while (*p == '/' || (p[0] == '.' && p[1] == '/')) p += *p == '/' ? 1 : 2;
  if ((df = qr_diff_find(diff, p))) return df;
  if ((p[0] == 'a' || p[0] == 'b') && p[1] == '/' && (df = qr_diff_find(diff, p + 2))) return df;
  size_t pl = strlen(p);
  for (size_t i = 0; pl && i < diff->n_files; i++) {
    const char *d = diff->files[i].path;
    size_t dl = d ? strlen(d) : 0;
    if (!dl || !(ends_with_path(d, dl, p, pl) || ends_with_path(p, pl, d, dl))) continue;
    if (df) {
      *ambiguous = true;
      return NULL;
    }
    df = &diff->files[i];
  }
  return df;
}

/* Keeps or drops one finding: 1 keep, 0 drop (`why` says why), QR_E_NOMEM. The file is
 * rewritten to the change's path it resolves to. */
static int validate_one(qr_finding *f, const qr_diff *diff, const qr_snapshot *snap,
                        const char *root, bool allow_context, int window, file_cache *cache,
                        const char **why) {
  bool ambiguous = false;
  const qr_diff_file *df = resolve_file(diff, root, f->file, &ambiguous);
  *why = ambiguous ? "file matches several files of the change" : "file not in the change";
  if (!df) return 0;
  const qr_snapshot_file *sf = qr_snapshot_find(snap, df->path);
  *why = "file not reviewed (deleted, binary or omitted)";
  if (!sf) return 0;
  if (strcmp(f->file, df->path)) {
    char *path = qr_strdup(df->path);
    if (!path) return QR_E_NOMEM;
    qr_free(f->file);
    f->file = path;
  }
  bool placed = placeable(df, sf, allow_context, f->start_line, f->end_line);
  f->evidence_matched = false;
  if (f->evidence) {
    norm_text ev;
    int rc = cache_get(cache, sf);
    if (!rc) rc = normalise(f->evidence, strlen(f->evidence), false, &ev);
    if (rc) return rc;
    evidence_hit h = find_evidence(&cache->norm, &ev, f, df, sf, allow_context, window);
    norm_free(&ev);
    if (h.matched && placed) f->evidence_matched = true;
    else if (h.start) {
      relocate(f, h.start, h.end, sf->n_lines);
      placed = true;
    }
  }
  *why = f->start_line < 1 || (size_t)f->end_line > sf->n_lines ? "lines past the end of the file"
                                                                  : "lines outside the changed hunks";
  if (!placed) return 0;
  qr_fix *x = f->fix;
  if (x && (x->start_line < 1 || x->end_line < x->start_line || (size_t)x->end_line > sf->n_lines ||
            x->end_line < f->start_line || x->start_line > f->end_line)) {
    fix_free(x);
    f->fix = NULL;
  }
  return 1;
}

int qr_findings_validate(qr_finding_list *l, const qr_diff *diff, const qr_snapshot *snap,
                         const char *root, bool allow_context, int window, qr_drops *drops) {
  file_cache cache = {0};
  size_t w = 0;
  int dropped = 0;
  bool nomem = false;
  for (size_t i = 0; i < l->n; i++) {
    const char *why = NULL;
    int keep = validate_one(&l->items[i], diff, snap, root, allow_context, QR_MAX(window, 0),
                            &cache, &why);
    if (keep == 1) {
      l->items[w++] = l->items[i];
    } else {
      /* A finding that could not be checked is not shown unchecked; the caller hears of it. */
      nomem |= keep < 0;
      drop_note(drops, 1, l->items[i].file, l->items[i].start_line, "%s",
                keep < 0 ? "out of memory" : why);
      qr_finding_clear(&l->items[i]);
      dropped++;
    }
  }
  l->n = w;
  norm_free(&cache.norm);
  return nomem ? QR_E_NOMEM : dropped;
}
