/* findings.c — a review pass's answer turned into findings we can trust: the JSON is dug out
 * of whatever prose or fences the model wrapped it in, each entry is type-checked and capped,
 * and validation keeps only what can be placed on the new side of the diff, moving a finding to
 * where its quoted evidence really is when the model got the line numbers wrong.
 *
 * Decisions: start_line > end_line is swapped (models do reverse them; the span is still
 * meaningful); a missing end_line means a one-line finding; an entry over a length cap is
 * skipped and counted (never truncated into a different claim); a malformed fix object drops the
 * fix but keeps the finding. */
#include "judge/findings.h"

#include <limits.h>
#include <string.h>

#define MAX_FINDINGS 200          /* per answer; the rest are skipped and counted */
#define MAX_MESSAGE 2048          /* bytes */
#define MAX_CATEGORY 128
#define MAX_FILE 4096
#define MAX_EVIDENCE 4096
#define MAX_REPLACEMENT (64 * 1024)
#define MAX_LINE 10000000         /* keeps line arithmetic far from INT_MAX */
#define RELOCATE_MAX_SPAN 20      /* a relocated finding keeps at most this many lines */
#define RELOCATE_MIN_EVIDENCE 4   /* shorter normalised evidence is too ambiguous to move by */

/* ---- severities and the finding list ---------------------------------------------------- */

static const char *const severity_names[] = {NULL, "hint", "info", "warning", "error"};

qr_severity qr_severity_parse(const char *s) {
  if (!s) return 0;
  for (int i = QR_SEV_HINT; i <= QR_SEV_ERROR; i++)
    if (!strcmp(s, severity_names[i])) return (qr_severity)i;
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
  bool ok = d.file && d.category && d.message && (d.evidence || !src->evidence) &&
            (d.rule || !src->rule) &&
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

/* ---- finding the JSON in the answer ------------------------------------------------------ */

/* The object at [p, p+n) when it parses and holds an array under `key` (or one of its object
 * members does: {"result": {"findings": […]}}); NULL otherwise. New reference. */
static json_t *load_candidate(const char *p, size_t n, const char *key) {
  json_error_t je;
  json_t *j = json_loadb(p, n, 0, &je);
  if (!j) return NULL;
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

/* Each ``` fenced block (the info string after the opening fence is skipped). */
static json_t *from_fences(const char *t, size_t len, const char *key) {
  const char *end = t + len, *p = t;
  while ((p = memmem(p, (size_t)(end - p), "```", 3))) {
    const char *body = memchr(p + 3, '\n', (size_t)(end - (p + 3)));
    if (!body) return NULL;
    body++;
    const char *close = memmem(body, (size_t)(end - body), "```", 3);
    if (!close) return NULL;
    json_t *j = load_candidate(body, (size_t)(close - body), key);
    if (j) return j;
    p = close + 3;
  }
  return NULL;
}

/* Each top-level balanced {…}, scanning strings correctly inside objects (prose outside may hold
 * stray quotes). One pass over the text; *truncated is set when an object never closes. */
static json_t *from_braces(const char *t, size_t len, const char *key, bool *truncated,
                           bool *any_object) {
  size_t depth = 0, start = 0;
  bool in_str = false, esc = false;
  for (size_t i = 0; i < len; i++) {
    char c = t[i];
    if (in_str) {
      if (esc) esc = false;
      else if (c == '\\') esc = true;
      else if (c == '"') in_str = false;
    } else if (c == '{') {
      if (depth++ == 0) start = i;
    } else if (depth && c == '"') {
      in_str = true;
    } else if (depth && c == '}' && --depth == 0) {
      *any_object = true;
      json_t *j = load_candidate(t + start, i + 1 - start, key);
      if (j) return j;
    }
  }
  *truncated = depth > 0;
  return NULL;
}

int qr_findings_extract_json(const char *text, size_t len, const char *key, json_t **out,
                             qr_err *e) {
  if (!text) return qr_err_set(e, QR_E_INVAL, "no answer text");
  if (len > QR_FINDINGS_MAX_ANSWER)
    return qr_err_set(e, QR_E_TOOBIG, "answer of %zu bytes exceeds the %u-byte cap", len,
                      QR_FINDINGS_MAX_ANSWER);
  json_t *j = load_candidate(text, len, key);
  if (!j) j = from_fences(text, len, key);
  bool truncated = false, any_object = false;
  if (!j) j = from_braces(text, len, key, &truncated, &any_object);
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

/* ---- entries ----------------------------------------------------------------------------- */

/* A copy of `s` for display: tabs and newlines become spaces, other control characters go,
 * leading/trailing blanks are trimmed. NULL when out of memory. */
char *qr_findings_clean_text(const char *s) {
  size_t n = strlen(s);
  char *d = qr_malloc(n + 1), *w = d;
  if (!d) return NULL;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '\t' || *p == '\n' || *p == '\r') *w++ = ' ';
    else if (*p >= 0x20 && *p != 0x7f) *w++ = (char)*p;
  }
  while (w > d && w[-1] == ' ') w--;
  *w = '\0';
  size_t lead = strspn(d, " ");
  memmove(d, d + lead, (size_t)(w - d) - lead + 1);
  return d;
}

/* A string member no longer than `cap` bytes: 1 = ok, 0 = absent, -1 = wrong type or too long. */
static int str_field(json_t *o, const char *k, size_t cap, const char **out) {
  json_t *v = json_object_get(o, k);
  if (!v || json_is_null(v)) return 0;
  if (!json_is_string(v) || json_string_length(v) > cap) return -1;
  *out = json_string_value(v);
  return 1;
}

/* A line number member: 1 = ok, 0 = absent, -1 = not an integer in [1, MAX_LINE]. */
static int line_field(json_t *o, const char *k, int *out) {
  json_t *v = json_object_get(o, k);
  if (!v) return 0;
  if (!json_is_integer(v)) return -1;
  json_int_t n = json_integer_value(v);
  if (n < 1 || n > MAX_LINE) return -1;
  *out = (int)n;
  return 1;
}

/* Reads a line span, swapping a reversed one; a missing end means one line. */
static bool parse_span(json_t *o, int *start, int *end) {
  if (line_field(o, "start_line", start) != 1) return false;
  int r = line_field(o, "end_line", end);
  if (r < 0) return false;
  if (r == 0) *end = *start;
  if (*start > *end) {
    int t = *start;
    *start = *end;
    *end = t;
  }
  return true;
}

/* The optional fix; NULL (and *nomem false) when absent or malformed. */
static qr_fix *parse_fix(json_t *o, bool *nomem) {
  json_t *fx = json_object_get(o, "fix");
  const char *rep = NULL;
  int s, e;
  if (!json_is_object(fx) || !parse_span(fx, &s, &e) ||
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

/* Fills `f` from one entry: QR_OK, 1 (invalid: skip it) or QR_E_NOMEM. */
static int parse_entry(json_t *o, qr_finding *f) {
  const char *file = NULL, *msg = NULL, *cat = "", *sev = NULL, *ev = NULL;
  if (!json_is_object(o) || str_field(o, "file", MAX_FILE, &file) != 1 || !*file ||
      str_field(o, "message", MAX_MESSAGE, &msg) != 1 ||
      str_field(o, "severity", 16, &sev) != 1 || str_field(o, "category", MAX_CATEGORY, &cat) < 0 ||
      str_field(o, "evidence", MAX_EVIDENCE, &ev) < 0 || !parse_span(o, &f->start_line, &f->end_line))
    return 1;
  f->severity = qr_severity_parse(sev);
  if (!f->severity) return 1;
  bool nomem = false;
  f->file = qr_strdup(file);
  f->message = qr_findings_clean_text(msg);
  f->category = qr_findings_clean_text(cat);
  f->evidence = ev && *ev ? qr_strdup(ev) : NULL;
  f->fix = parse_fix(o, &nomem);
  if (nomem || !f->file || !f->message || !f->category || (ev && *ev && !f->evidence))
    return QR_E_NOMEM;
  return *f->message ? QR_OK : 1; /* nothing but control characters is no message */
}

int qr_findings_parse(const char *text, size_t len, const char *model, const char *strategy,
                      int pass, qr_finding_list *out, int *skipped, qr_err *e) {
  json_t *root;
  int rc = qr_findings_extract_json(text, len, "findings", &root, e);
  if (rc) return rc;
  json_t *arr = json_object_get(root, "findings");
  size_t base = out->n, i;
  int skip = 0;
  json_t *entry;
  json_array_foreach(arr, i, entry) {
    if (i >= MAX_FINDINGS) {
      skip += (int)(json_array_size(arr) - i);
      break;
    }
    qr_finding f = {0};
    rc = parse_entry(entry, &f);
    if (rc == 1) {
      skip++;
      rc = QR_OK;
    } else if (!rc && !(rc = qr_finding_add_source(&f, model, strategy, pass))) {
      rc = qr_finding_list_push(out, &f);
    }
    qr_finding_clear(&f);
    if (rc) break;
  }
  json_decref(root);
  if (rc) { /* never leave part of an answer behind */
    while (out->n > base) qr_finding_clear(&out->items[--out->n]);
    return qr_err_set(e, rc, "out of memory while reading findings");
  }
  if (skipped) *skipped += skip;
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

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

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

/* Keeps or drops one finding: 1 keep, 0 drop, QR_E_NOMEM. */
static int validate_one(qr_finding *f, const qr_diff *diff, const qr_snapshot *snap,
                        bool allow_context, int window, file_cache *cache) {
  const qr_diff_file *df = qr_diff_find(diff, f->file);
  const qr_snapshot_file *sf = qr_snapshot_find(snap, f->file);
  if (!df || !sf) return 0;
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
                         bool allow_context, int window) {
  file_cache cache = {0};
  size_t w = 0;
  int dropped = 0;
  bool nomem = false;
  for (size_t i = 0; i < l->n; i++) {
    int keep = validate_one(&l->items[i], diff, snap, allow_context, QR_MAX(window, 0), &cache);
    if (keep == 1) {
      l->items[w++] = l->items[i];
    } else {
      /* A finding that could not be checked is not shown unchecked; the caller hears of it. */
      nomem |= keep < 0;
      qr_finding_clear(&l->items[i]);
      dropped++;
    }
  }
  l->n = w;
  norm_free(&cache.norm);
  return nomem ? QR_E_NOMEM : dropped;
}
