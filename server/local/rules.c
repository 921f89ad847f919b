/* rules.c — the tree-sitter rule pack (see rules.h): loading `.scm` rules with their metadata,
 * compiling their predicates (tree-sitter 0.20 only records them), and running them over the
 * changed files of a review.
 *
 * The built-in pack is one blob from rules_pack.S: entries "<language>/<id>.scm" NUL <text>
 * NUL, ended by an empty name, so the binary needs no source tree at run time. */
#include "local/rules.h"

#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <tree_sitter/api.h>

#include "change/languages.h"

#define RULE_MAX_BYTES (64u << 10)  /* a rule file; real ones are a few hundred bytes */
#define RULES_MAX 2000              /* rule instances, built-in and user together */
#define META_MAX 512                /* one header value */
#define MAX_ALSO 8                  /* languages in an `also:` line */
#define MAX_PER_RULE_FILE 50        /* findings of one rule in one file: more is noise */
#define EVIDENCE_MAX 200
#define ARRAY_STEPS_MAX (1u << 21) /* nodes #array? visits in one rule's run over a file */

extern const char qr_rules_pack[];

/* --- types ------------------------------------------------------------------------------- */

typedef enum { PRED_EQ, PRED_NOT_EQ, PRED_MATCH, PRED_NOT_MATCH, PRED_ANY_OF, PRED_ARRAY } pred_op;

typedef struct predicate {
  uint32_t pattern; /* the query pattern it belongs to */
  pred_op op;
  uint32_t capture; /* the capture tested */
  int other;        /* #eq?/#not-eq? against another capture: its id; else -1 */
  char **strings;   /* owned: the literal(s) compared with */
  size_t n_strings;
  regex_t re;       /* #match?/#not-match? */
  bool has_re;
} predicate;

typedef struct rule {
  qr_rule_info info; /* strings borrowed from the owned fields below */
  char *id, *message, *category, *fix, *model; /* model: "rule:<id>" */
  const qr_language *lang;
  const char *text;    /* a built-in rule's query text (the embedded pack), compiled on first
                        * use; NULL once compiled, and for user rules (compiled at load) */
  TSQuery *query;
  uint32_t finding;    /* capture id of @finding */
  uint32_t fix_target; /* @fix when present, else @finding */
  predicate *preds;    /* owned */
  size_t n_preds;
} rule;

struct qr_rules {
  rule *items; /* owned */
  size_t n, alloc;
};

/* The metadata header of one rule file; values are owned until handed to a rule. */
typedef struct meta {
  char *id, *message, *category, *severity, *fix, *also;
} meta;

/* --- freeing ----------------------------------------------------------------------------- */

static void pred_clear(predicate *p) {
  for (size_t i = 0; i < p->n_strings; i++) qr_free(p->strings[i]);
  qr_free(p->strings);
  if (p->has_re) regfree(&p->re);
}

/* Frees the compiled query and its predicates. */
static void drop_query(rule *r) {
  if (r->query) ts_query_delete(r->query);
  for (size_t i = 0; i < r->n_preds; i++) pred_clear(&r->preds[i]);
  qr_free(r->preds);
  r->query = NULL;
  r->preds = NULL;
  r->n_preds = 0;
}

static void rule_clear(rule *r) {
  qr_free(r->id);
  qr_free(r->message);
  qr_free(r->category);
  qr_free(r->fix);
  qr_free(r->model);
  drop_query(r);
  memset(r, 0, sizeof *r);
}

static void meta_clear(meta *m) {
  qr_free(m->id);
  qr_free(m->message);
  qr_free(m->category);
  qr_free(m->severity);
  qr_free(m->fix);
  qr_free(m->also);
  memset(m, 0, sizeof *m);
}

void qr_rules_free(qr_rules *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n; i++) rule_clear(&r->items[i]);
  qr_free(r->items);
  qr_free(r);
}

/* --- the metadata header ----------------------------------------------------------------- */

/* The slot for header key `k` (length n), or NULL when the key is unknown. */
static char **meta_slot(meta *m, const char *k, size_t n) {
  static const char *const names[] = {"id", "message", "category", "severity", "fix", "also"};
  char **slots[] = {&m->id, &m->message, &m->category, &m->severity, &m->fix, &m->also};
  for (size_t i = 0; i < QR_ARRAY_LEN(names); i++)
    if (strlen(names[i]) == n && !memcmp(names[i], k, n)) return slots[i];
  return NULL;
}

/* Reads the leading `; key: value` lines. Other comment lines are prose and skipped, but a
 * line shaped like a key we do not know is an error, so a typo never drops a field silently. */
static int parse_meta(const char *origin, const char *text, meta *m, qr_err *e) {
  const char *p = text;
  for (int line = 1; *p == ';' || *p == '\n'; line++) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    const char *k = p + strspn(p, "; \t");
    size_t kn = strspn(k, "abcdefghijklmnopqrstuvwxyz-");
    if (k < p + len && kn && k[kn] == ':') {
      char **slot = meta_slot(m, k, kn);
      if (!slot) return qr_err_set(e, QR_E_CONFIG, "%s:%d: unknown header key \"%.*s\"", origin, line, (int)kn, k);
      const char *v = k + kn + 1 + strspn(k + kn + 1, " \t");
      size_t vn = (size_t)(p + len - v);
      while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t' || v[vn - 1] == '\r')) vn--;
      if (*slot) return qr_err_set(e, QR_E_CONFIG, "%s:%d: \"%.*s\" given twice", origin, line, (int)kn, k);
      if (!vn || vn > META_MAX)
        return qr_err_set(e, QR_E_CONFIG, "%s:%d: \"%.*s\" must be 1 to %d characters", origin, line, (int)kn, k, META_MAX);
      if (!(*slot = qr_strndup(v, vn))) return qr_err_set(e, QR_E_NOMEM, "out of memory");
    }
    if (!eol) break;
    p = eol + 1;
  }
  const char *missing = !m->id ? "id" : !m->message ? "message" : !m->category ? "category"
                      : !m->severity ? "severity" : NULL;
  if (missing) return qr_err_set(e, QR_E_CONFIG, "%s: header has no \"; %s:\" line", origin, missing);
  if (!qr_severity_parse(m->severity))
    return qr_err_set(e, QR_E_CONFIG, "%s: severity must be error, warning, info or hint", origin);
  return 0;
}

/* --- predicates -------------------------------------------------------------------------- */

static int add_string(predicate *p, const char *s) {
  char **v = qr_realloc(p->strings, (p->n_strings + 1) * sizeof *v);
  if (!v) return QR_E_NOMEM;
  p->strings = v;
  if (!(v[p->n_strings] = qr_strdup(s))) return QR_E_NOMEM;
  p->n_strings++;
  return 0;
}

/* POSIX extended syntax; "(?i)" in front (the tree-sitter/Rust spelling) ignores case. */
static int compile_regex(predicate *p, const char *origin, const char *src, qr_err *e) {
  int flags = REG_EXTENDED | REG_NOSUB;
  if (!strncmp(src, "(?i)", 4)) {
    flags |= REG_ICASE;
    src += 4;
  }
  if (regcomp(&p->re, src, flags))
    return qr_err_set(e, QR_E_CONFIG, "%s: invalid regular expression \"%.100s\"", origin, src);
  p->has_re = true;
  return 0;
}

static const struct {
  const char *name;
  pred_op op;
} pred_names[] = {{"eq?", PRED_EQ}, {"not-eq?", PRED_NOT_EQ}, {"match?", PRED_MATCH},
                  {"not-match?", PRED_NOT_MATCH}, {"any-of?", PRED_ANY_OF},
                  {"array?", PRED_ARRAY}};

/* Compiles one predicate: steps[0] is its name, then its arguments up to a Done step. */
static int compile_pred(const TSQuery *q, const TSQueryPredicateStep *st, uint32_t n,
                        const char *origin, predicate *p, qr_err *e) {
  uint32_t len;
  const char *name = st[0].type == TSQueryPredicateStepTypeString
                         ? ts_query_string_value_for_id(q, st[0].value_id, &len) : "";
  size_t k = 0;
  while (k < QR_ARRAY_LEN(pred_names) && strcmp(pred_names[k].name, name)) k++;
  if (k == QR_ARRAY_LEN(pred_names))
    return qr_err_set(e, QR_E_CONFIG, "%s: unsupported predicate #%s", origin, name);
  p->op = pred_names[k].op;
  p->other = -1;
  if (p->op == PRED_ARRAY && (n != 2 || st[1].type != TSQueryPredicateStepTypeCapture))
    return qr_err_set(e, QR_E_CONFIG, "%s: #%s takes one capture", origin, name);
  bool two = p->op != PRED_ANY_OF;
  if (p->op != PRED_ARRAY &&
      (n < 3 || st[1].type != TSQueryPredicateStepTypeCapture || (two && n != 3)))
    return qr_err_set(e, QR_E_CONFIG, "%s: #%s takes a capture and %s", origin, name,
                      two ? "one argument" : "strings");
  p->capture = st[1].value_id;
  for (uint32_t i = 2; i < n; i++) {
    if (st[i].type == TSQueryPredicateStepTypeCapture && p->op <= PRED_NOT_EQ) {
      p->other = (int)st[i].value_id;
      continue;
    }
    if (st[i].type != TSQueryPredicateStepTypeString)
      return qr_err_set(e, QR_E_CONFIG, "%s: #%s expects a string argument", origin, name);
    const char *s = ts_query_string_value_for_id(q, st[i].value_id, &len);
    int rc = (p->op == PRED_MATCH || p->op == PRED_NOT_MATCH) ? compile_regex(p, origin, s, e)
                                                              : add_string(p, s);
    if (rc == QR_E_NOMEM) return qr_err_set(e, rc, "out of memory");
    if (rc) return rc;
  }
  return 0;
}

/* Compiles the predicates of every pattern of r->query into r->preds. */
static int compile_preds(rule *r, const char *origin, qr_err *e) {
  uint32_t np = ts_query_pattern_count(r->query);
  for (uint32_t pat = 0; pat < np; pat++) {
    uint32_t n;
    const TSQueryPredicateStep *st = ts_query_predicates_for_pattern(r->query, pat, &n);
    for (uint32_t i = 0; i < n;) {
      uint32_t end = i;
      while (end < n && st[end].type != TSQueryPredicateStepTypeDone) end++;
      predicate *v = qr_realloc(r->preds, (r->n_preds + 1) * sizeof *v);
      if (!v) return qr_err_set(e, QR_E_NOMEM, "out of memory");
      r->preds = v;
      predicate *p = &r->preds[r->n_preds++];
      memset(p, 0, sizeof *p);
      p->pattern = pat;
      int rc = compile_pred(r->query, st + i, end - i, origin, p, e);
      if (rc) return rc;
      i = end + 1;
    }
  }
  return 0;
}

/* --- compiling a rule -------------------------------------------------------------------- */

static const char *const query_errors[] = {"no error", "syntax error", "unknown node type",
                                           "unknown field", "unknown capture", "impossible pattern",
                                           "language mismatch"};

static bool capture_id(const TSQuery *q, const char *name, size_t n, uint32_t *out) {
  uint32_t count = ts_query_capture_count(q);
  for (uint32_t i = 0; i < count; i++) {
    uint32_t len;
    const char *c = ts_query_capture_name_for_id(q, i, &len);
    if (len == n && !memcmp(c, name, n)) {
      *out = i;
      return true;
    }
  }
  return false;
}

/* Length of the capture name at s ("@name" minus the @). */
static size_t capture_name_len(const char *s) {
  return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");
}

/* Every @name in the fix template must be a capture of the query. */
static int check_fix_template(const rule *r, const char *origin, qr_err *e) {
  for (const char *at = r->fix ? strchr(r->fix, '@') : NULL; at; at = strchr(at + 1, '@')) {
    size_t n = capture_name_len(at + 1);
    uint32_t id;
    if (!capture_id(r->query, at + 1, n, &id))
      return qr_err_set(e, QR_E_CONFIG, "%s: fix uses @%.*s, which the query does not capture", origin, (int)n, at + 1);
  }
  return 0;
}

/* The line (1-based) holding byte `off` of `text`, for query error messages. */
static int line_of(const char *text, uint32_t off) {
  int line = 1;
  for (uint32_t i = 0; i < off && text[i]; i++) line += text[i] == '\n';
  return line;
}

/* Compiles r's query `text` for its language: captures, fix template, predicates. */
static int compile_query(rule *r, const char *text, const char *origin, qr_err *e) {
  const qr_language *lang = r->lang;
  uint32_t off = 0;
  TSQueryError qe = TSQueryErrorNone;
  r->query = ts_query_new(lang->load(), text, (uint32_t)strlen(text), &off, &qe);
  if (!r->query)
    return qr_err_set(e, QR_E_CONFIG, "%s:%d: %s (query for %s)", origin, line_of(text, off),
                      (size_t)qe < QR_ARRAY_LEN(query_errors) ? query_errors[qe] : "query error", lang->name);
  if (!capture_id(r->query, "finding", 7, &r->finding))
    return qr_err_set(e, QR_E_CONFIG, "%s: the query has no @finding capture", origin);
  if (!capture_id(r->query, "fix", 3, &r->fix_target)) r->fix_target = r->finding;
  int rc = check_fix_template(r, origin, e);
  return rc ? rc : compile_preds(r, origin, e);
}

/* Fills r (zeroed) from its metadata for language `lang`. A user rule's query is compiled now,
 * so a mistake is reported when the pack loads; a built-in one (tested, embedded) when a file
 * of its language is first reviewed, so start-up pays only for the languages in the change. */
static int compile_rule(rule *r, const meta *m, const qr_language *lang, const char *text,
                        const char *origin, bool builtin, qr_err *e) {
  r->lang = lang;
  r->id = qr_strdup(m->id);
  r->message = qr_strdup(m->message);
  r->category = qr_strdup(m->category);
  r->fix = qr_strdup(m->fix);
  r->model = qr_asprintf("rule:%s", m->id);
  if (!r->id || !r->message || !r->category || !r->model || (m->fix && !r->fix))
    return qr_err_set(e, QR_E_NOMEM, "out of memory");
  r->info = (qr_rule_info){r->id, lang->name, r->message, r->category,
                           qr_severity_parse(m->severity), r->fix != NULL, builtin};
  if (builtin) {
    r->text = text;
    return 0;
  }
  return compile_query(r, text, origin, e);
}

int qr_rules_prepare(qr_rules *rs, const qr_language *lang, qr_err *e) {
  for (size_t i = 0; rs && i < rs->n; i++) {
    rule *r = &rs->items[i];
    if (!r->text || (lang && r->lang != lang)) continue;
    char origin[300];
    snprintf(origin, sizeof origin, "built-in rule %s/%s.scm", r->lang->name, r->id);
    int rc = compile_query(r, r->text, origin, e);
    if (rc) { /* what was built goes, so the next review tries again from scratch */
      drop_query(r);
      return rc;
    }
    r->text = NULL;
  }
  return 0;
}

/* Adds (or, for the same id and language, replaces) one compiled rule. */
static int add_instance(qr_rules *rs, const meta *m, const qr_language *lang, const char *text,
                        const char *origin, bool builtin, qr_err *e) {
  rule nr = {0};
  int rc = compile_rule(&nr, m, lang, text, origin, builtin, e);
  if (rc) {
    rule_clear(&nr);
    return rc;
  }
  for (size_t i = 0; i < rs->n; i++) {
    if (rs->items[i].lang == lang && !strcmp(rs->items[i].id, nr.id)) {
      rule_clear(&rs->items[i]);
      rs->items[i] = nr;
      return 0;
    }
  }
  if (rs->n == RULES_MAX) {
    rule_clear(&nr);
    return qr_err_set(e, QR_E_TOOBIG, "more than %d rules", RULES_MAX);
  }
  if (qr_grow(&rs->items, &rs->alloc, rs->n + 1, sizeof *rs->items, 64)) {
    rule_clear(&nr);
    return qr_err_set(e, QR_E_NOMEM, "out of memory");
  }
  rs->items[rs->n++] = nr;
  return 0;
}

/* A language folder name must be a grammar's own name (not an LSP alias). */
static const qr_language *exact_language(const char *name, size_t n) {
  size_t count;
  const qr_language *l = qr_languages(&count);
  for (size_t i = 0; i < count; i++)
    if (strlen(l[i].name) == n && !memcmp(l[i].name, name, n)) return &l[i];
  return NULL;
}

/* One rule file: its header, then one instance for its folder's language and each `also`. */
static int add_rule_text(qr_rules *rs, const qr_language *lang, const char *file_id,
                         const char *origin, const char *text, bool builtin, qr_err *e) {
  meta m = {0};
  int rc = parse_meta(origin, text, &m, e);
  if (!rc && strcmp(m.id, file_id))
    rc = qr_err_set(e, QR_E_CONFIG, "%s: id \"%s\" differs from the file name", origin, m.id);
  if (!rc) rc = add_instance(rs, &m, lang, text, origin, builtin, e);
  for (const char *p = m.also; !rc && p && *(p += strspn(p, " ,"));) {
    size_t n = strcspn(p, " ,");
    const qr_language *other = exact_language(p, n);
    if (!other) rc = qr_err_set(e, QR_E_CONFIG, "%s: also: unknown language \"%.*s\"", origin, (int)n, p);
    else rc = add_instance(rs, &m, other, text, origin, builtin, e);
    p += n;
  }
  meta_clear(&m);
  return rc;
}

/* --- loading ----------------------------------------------------------------------------- */

/* The embedded pack: "<language>/<id>.scm" NUL text NUL …, then an empty name. */
static int load_builtin(qr_rules *rs, qr_err *e) {
  for (const char *p = qr_rules_pack; *p;) {
    const char *text = p + strlen(p) + 1;
    const char *slash = strchr(p, '/');
    const char *dot = strrchr(p, '.');
    const qr_language *lang = slash ? exact_language(p, (size_t)(slash - p)) : NULL;
    if (!lang || !dot || dot < slash)
      return qr_err_set(e, QR_E_CONFIG, "built-in rule %s: bad name", p);
    char id[256];
    snprintf(id, sizeof id, "%.*s", (int)(dot - slash - 1), slash + 1);
    int rc = add_rule_text(rs, lang, id, p, text, true, e);
    if (rc) return rc;
    p = text + strlen(text) + 1;
  }
  return 0;
}

static bool is_dir(const char *path) {
  struct stat st;
  return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* Every <id>.scm of one language folder; other files (a README) are ignored. */
static int load_language_dir(qr_rules *rs, const char *dir, const qr_language *lang, qr_err *e) {
  DIR *d = opendir(dir);
  if (!d) return qr_err_set(e, QR_E_IO, "%s: cannot open the folder", dir);
  int rc = 0;
  for (struct dirent *ent; !rc && (ent = readdir(d));) {
    size_t n = strlen(ent->d_name);
    if (n <= 4 || strcmp(ent->d_name + n - 4, ".scm")) continue;
    char *path = qr_asprintf("%s/%s", dir, ent->d_name);
    char *id = qr_strndup(ent->d_name, n - 4);
    char *text = NULL;
    if (!path || !id) rc = qr_err_set(e, QR_E_NOMEM, "out of memory");
    if (!rc) rc = qr_read_file(path, RULE_MAX_BYTES, &text, NULL, e);
    if (!rc) rc = add_rule_text(rs, lang, id, path, text, false, e);
    qr_free(text);
    qr_free(id);
    qr_free(path);
  }
  closedir(d);
  return rc;
}

/* A user folder holds one sub-folder per language; an unknown name is a typo, so an error. */
static int load_folder(qr_rules *rs, const char *folder, qr_err *e) {
  DIR *d = opendir(folder);
  if (!d) return qr_err_set(e, QR_E_NOTFOUND, "rules folder %s: cannot open it", folder);
  int rc = 0;
  for (struct dirent *ent; !rc && (ent = readdir(d));) {
    if (ent->d_name[0] == '.') continue;
    char *sub = qr_asprintf("%s/%s", folder, ent->d_name);
    if (!sub) rc = qr_err_set(e, QR_E_NOMEM, "out of memory");
    else if (is_dir(sub)) {
      const qr_language *lang = exact_language(ent->d_name, strlen(ent->d_name));
      rc = lang ? load_language_dir(rs, sub, lang, e)
                : qr_err_set(e, QR_E_CONFIG, "%s: not a language name", sub);
    }
    qr_free(sub);
  }
  closedir(d);
  return rc;
}

int qr_rules_load(const char *const *user_folders, size_t n_folders, qr_rules **out, qr_err *e) {
  if (!out || (n_folders && !user_folders)) return qr_err_set(e, QR_E_INVAL, "qr_rules_load: NULL argument");
  qr_rules *rs = qr_calloc(1, sizeof *rs);
  if (!rs) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  int rc = load_builtin(rs, e);
  for (size_t i = 0; !rc && i < n_folders; i++) rc = load_folder(rs, user_folders[i], e);
  if (rc) {
    qr_rules_free(rs);
    return rc;
  }
  *out = rs;
  return 0;
}

size_t qr_rules_count(const qr_rules *r) { return r ? r->n : 0; }

const qr_rule_info *qr_rules_get(const qr_rules *r, size_t i) {
  return r && i < r->n ? &r->items[i].info : NULL;
}

/* --- running ----------------------------------------------------------------------------- */

/* What one rule run over one file needs. */
typedef struct scan {
  const rule *r;
  const qr_snapshot_file *f;
  const qr_diff_file *df;
  bool allow_context;
  qr_finding_list *out;
  size_t first; /* index in out of this file+rule's first finding, for de-duplication */
  size_t array_steps; /* nodes #array? may still visit: a hostile file stays linear */
  const char *member; /* the last member name #array? resolved (in f->text), and its answer */
  size_t member_len;
  bool member_is_array;
} scan;

/* The first node captured as `id` in the match, or false. */
static bool match_node(const TSQueryMatch *m, uint32_t id, TSNode *out) {
  for (uint16_t i = 0; i < m->capture_count; i++) {
    if (m->captures[i].index == id) {
      *out = m->captures[i].node;
      return true;
    }
  }
  return false;
}

static bool text_eq(const scan *s, TSNode n, const char *str, size_t len) {
  uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);
  return b - a == len && !memcmp(s->f->text + a, str, len);
}

/* --- #array?: a C destination known to be an array ------------------------------------- */

static bool is_type(TSNode n, const char *type) { return !strcmp(ts_node_type(n), type); }

/* Takes one step of the #array? budget; false when it is spent (the answer is then "not
 * known to be an array": no finding rather than a slow review). */
static bool step(scan *s) {
  if (!s->array_steps) return false;
  s->array_steps--;
  return true;
}

static bool same_text(const scan *s, TSNode a, TSNode b) {
  uint32_t x = ts_node_start_byte(b);
  return text_eq(s, a, s->f->text + x, ts_node_end_byte(b) - x);
}

/* Whether declarator d declares `name` (1 as an array, 0 as something else) or not (-1). The
 * declarator next to the name decides: `*a[4]` is an array, `(*p)[4]` a pointer. */
static int declares(scan *s, TSNode d, TSNode name) {
  bool array = false;
  while (!ts_node_is_null(d)) {
    if (is_type(d, "identifier") || is_type(d, "field_identifier"))
      return same_text(s, d, name) ? array : -1;
    if (!is_type(d, "init_declarator")) array = is_type(d, "array_declarator");
    d = is_type(d, "parenthesized_declarator") ? ts_node_named_child(d, 0)
                                               : ts_node_child_by_field_name(d, "declarator", 10);
  }
  return -1;
}

/* The same for every declarator of a declaration (the last one naming it wins). */
static int declaration_declares(scan *s, TSNode decl, TSNode name) {
  int found = -1;
  TSTreeCursor c = ts_tree_cursor_new(decl); /* (ts_node_field_name_for_child miscounts) */
  for (bool more = ts_tree_cursor_goto_first_child(&c); more && step(s);
       more = ts_tree_cursor_goto_next_sibling(&c)) {
    const char *field = ts_tree_cursor_current_field_name(&c);
    int k = field && !strcmp(field, "declarator")
                ? declares(s, ts_tree_cursor_current_node(&c), name) : -1;
    found = k >= 0 ? k : found;
  }
  ts_tree_cursor_delete(&c);
  return found;
}

/* A function's parameter `name` (an array parameter is a pointer): 0, else -1. */
static int parameter_declares(scan *s, TSNode fn, TSNode name) {
  TSNode d = ts_node_child_by_field_name(fn, "declarator", 10);
  while (!ts_node_is_null(d) && !is_type(d, "function_declarator"))
    d = ts_node_child_by_field_name(d, "declarator", 10);
  TSNode params = ts_node_is_null(d) ? d : ts_node_child_by_field_name(d, "parameters", 10);
  uint32_t n = ts_node_is_null(params) ? 0 : ts_node_named_child_count(params);
  for (uint32_t i = 0; i < n && step(s); i++) /* a short list: named_child's cost is fine */
    if (declaration_declares(s, ts_node_named_child(params, i), name) >= 0) return 0;
  return -1;
}

/* Whether identifier n names an array: its nearest declaration before it, in an enclosing
 * block, for loop or the file, declares it `T n[N]`. */
static bool local_array(scan *s, TSNode n) {
  uint32_t at = ts_node_start_byte(n);
  for (TSNode p = ts_node_parent(n); !ts_node_is_null(p); p = ts_node_parent(p)) {
    int found = -1;
    if (is_type(p, "compound_statement") || is_type(p, "translation_unit")) {
      TSTreeCursor c = ts_tree_cursor_new(p);
      for (bool more = ts_tree_cursor_goto_first_child(&c); more && step(s);
           more = ts_tree_cursor_goto_next_sibling(&c)) {
        TSNode x = ts_tree_cursor_current_node(&c);
        if (ts_node_start_byte(x) >= at) break;
        int k = is_type(x, "declaration") ? declaration_declares(s, x, n) : -1;
        found = k >= 0 ? k : found;
      }
      ts_tree_cursor_delete(&c);
    } else if (is_type(p, "for_statement")) {
      TSNode init = ts_node_child_by_field_name(p, "initializer", 11);
      if (!ts_node_is_null(init) && is_type(init, "declaration"))
        found = declaration_declares(s, init, n);
    } else if (is_type(p, "function_definition")) {
      found = parameter_declares(s, p, n);
    }
    if (!s->array_steps) return false;
    if (found >= 0) return found;
  }
  return false;
}

/* Whether member expression n (`u->name`, `u.name`) names an array: the file declares a
 * struct member of that name, always as an array (the struct's type is not resolved). */
static bool member_array(scan *s, TSNode n) {
  TSNode field = ts_node_child_by_field_name(n, "field", 5), root = n;
  if (ts_node_is_null(field)) return false;
  const char *name = s->f->text + ts_node_start_byte(field);
  size_t len = ts_node_end_byte(field) - ts_node_start_byte(field);
  if (s->member && s->member_len == len && !memcmp(s->member, name, len))
    return s->member_is_array; /* `u->title` used again */
  for (TSNode p = n; !ts_node_is_null(p); p = ts_node_parent(p)) root = p;
  bool array = false, other = false;
  TSTreeCursor c = ts_tree_cursor_new(root);
  for (bool more = true; more && !other && step(s);) {
    TSNode x = ts_tree_cursor_current_node(&c);
    int k = is_type(x, "field_declaration") ? declaration_declares(s, x, field) : -1;
    array |= k == 1;
    other |= k == 0;
    if (ts_tree_cursor_goto_first_child(&c)) continue;
    while (more && !ts_tree_cursor_goto_next_sibling(&c)) more = ts_tree_cursor_goto_parent(&c);
  }
  ts_tree_cursor_delete(&c);
  if (!s->array_steps) return false;
  s->member = name;
  s->member_len = len;
  return s->member_is_array = array && !other;
}

/* Whether one captured node satisfies the predicate; -1 when out of memory. */
static int node_ok(scan *s, const predicate *p, const TSQueryMatch *m, TSNode n) {
  bool hit = false;
  if (p->op == PRED_ARRAY)
    return is_type(n, "field_expression") ? member_array(s, n)
                                          : is_type(n, "identifier") && local_array(s, n);
  if (p->op == PRED_MATCH || p->op == PRED_NOT_MATCH) {
    uint32_t a = ts_node_start_byte(n);
    char *t = qr_strndup(s->f->text + a, ts_node_end_byte(n) - a);
    if (!t) return -1;
    hit = regexec(&p->re, t, 0, NULL, 0) == 0;
    qr_free(t);
    return hit == (p->op == PRED_MATCH);
  }
  TSNode o;
  if (p->other >= 0) {
    if (!match_node(m, (uint32_t)p->other, &o)) return 1; /* the other side did not match */
    uint32_t a = ts_node_start_byte(o);
    hit = text_eq(s, n, s->f->text + a, ts_node_end_byte(o) - a);
  }
  for (size_t i = 0; i < p->n_strings && !hit; i++)
    hit = text_eq(s, n, p->strings[i], strlen(p->strings[i]));
  return hit == (p->op != PRED_NOT_EQ);
}

/* All predicates of the match's pattern hold for every node of their capture (a capture
 * absent from the match holds vacuously). -1 when out of memory. */
static int preds_ok(scan *s, const TSQueryMatch *m) {
  for (size_t i = 0; i < s->r->n_preds; i++) {
    const predicate *p = &s->r->preds[i];
    if (p->pattern != m->pattern_index) continue;
    for (uint16_t c = 0; c < m->capture_count; c++) {
      if (m->captures[c].index != p->capture) continue;
      int ok = node_ok(s, p, m, m->captures[c].node);
      if (ok <= 0) return ok;
    }
  }
  return 1;
}

/* 1-based first and last line of a node (an end at column 0 belongs to the line before). */
static void node_lines(TSNode n, int *start, int *end) {
  TSPoint a = ts_node_start_point(n), b = ts_node_end_point(n);
  *start = (int)a.row + 1;
  *end = (int)b.row + 1;
  if (b.column == 0 && b.row > a.row) (*end)--;
}

static bool touches_added(const qr_diff_file *df, int start, int end) {
  for (int l = start; l <= end; l++)
    if (qr_diff_line_added(df, l)) return true;
  return false;
}

/* The fix: the lines of the target node with the node replaced by the template, whose @name
 * references are replaced by those captures' text. */
static int build_fix(const scan *s, const TSQueryMatch *m, qr_fix **out) {
  TSNode t;
  if (!match_node(m, s->r->fix_target, &t)) return 0;
  int a, b;
  node_lines(t, &a, &b);
  const char *ls, *le;
  size_t ll, lel;
  if (!qr_snapshot_line(s->f, a, &ls, &ll) || !qr_snapshot_line(s->f, b, &le, &lel)) return 0;
  const char *text = s->f->text;
  qr_buf rep;
  qr_buf_init(&rep, RULE_MAX_BYTES + s->f->len);
  int rc = qr_buf_append(&rep, ls, (size_t)(text + ts_node_start_byte(t) - ls));
  for (const char *p = s->r->fix; !rc && *p;) {
    size_t lit = strcspn(p, "@");
    rc = qr_buf_append(&rep, p, lit);
    p += lit;
    if (rc || !*p) break;
    size_t n = capture_name_len(p + 1);
    uint32_t id;
    TSNode c;
    if (capture_id(s->r->query, p + 1, n, &id) && match_node(m, id, &c))
      rc = qr_buf_append(&rep, text + ts_node_start_byte(c), ts_node_end_byte(c) - ts_node_start_byte(c));
    p += n + 1;
  }
  const char *tail = text + ts_node_end_byte(t);
  if (!rc && tail < le + lel) rc = qr_buf_append(&rep, tail, (size_t)(le + lel - tail));
  qr_fix *fx = rc ? NULL : qr_calloc(1, sizeof *fx);
  if (!fx) {
    qr_buf_free(&rep);
    return QR_E_NOMEM;
  }
  fx->start_line = a;
  fx->end_line = b;
  fx->replacement = qr_buf_detach(&rep, NULL);
  if (!fx->replacement) {
    qr_free(fx);
    return QR_E_NOMEM;
  }
  *out = fx;
  return 0;
}

/* The first line of the node's text, trimmed and capped: code the finding points at. */
static char *evidence_of(const scan *s, TSNode n) {
  const char *p = s->f->text + ts_node_start_byte(n);
  size_t len = strcspn(p, "\r\n");
  len = QR_MIN(len, (size_t)(ts_node_end_byte(n) - ts_node_start_byte(n)));
  while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
  return qr_strndup(p, QR_MIN(len, (size_t)EVIDENCE_MAX));
}

static bool already_reported(const scan *s, int start, int end) {
  for (size_t i = s->first; i < s->out->n; i++)
    if (s->out->items[i].start_line == start && s->out->items[i].end_line == end) return true;
  return false;
}

static int report(scan *s, const TSQueryMatch *m) {
  TSNode n;
  if (!match_node(m, s->r->finding, &n)) return 0;
  int start, end;
  node_lines(n, &start, &end);
  if (!s->allow_context && !touches_added(s->df, start, end)) return 0;
  if (already_reported(s, start, end) || s->out->n - s->first >= MAX_PER_RULE_FILE) return 0;
  qr_finding f = {0};
  f.file = qr_strdup(s->f->path);
  f.start_line = start;
  f.end_line = end;
  f.severity = s->r->info.severity;
  f.category = qr_strdup(s->r->category);
  f.message = qr_strdup(s->r->message);
  f.rule = qr_strdup(s->r->id);
  f.evidence = evidence_of(s, n);
  f.evidence_matched = true;
  int rc = !f.file || !f.category || !f.message || !f.evidence || !f.rule ? QR_E_NOMEM : 0;
  if (!rc && s->r->fix) rc = build_fix(s, m, &f.fix);
  if (!rc) rc = qr_finding_add_source(&f, s->r->model, s->r->category, -1);
  if (!rc) rc = qr_finding_list_push(s->out, &f);
  qr_finding_clear(&f);
  return rc;
}

static int run_rule(scan *s, TSNode root, qr_err *e) {
  TSQueryCursor *cur = ts_query_cursor_new();
  if (!cur) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  ts_query_cursor_exec(cur, s->r->query, root);
  s->first = s->out->n;
  s->array_steps = ARRAY_STEPS_MAX;
  s->member = NULL;
  int rc = 0;
  TSQueryMatch m;
  while (!rc && ts_query_cursor_next_match(cur, &m)) {
    int ok = preds_ok(s, &m);
    rc = ok < 0 ? QR_E_NOMEM : ok ? report(s, &m) : 0;
  }
  ts_query_cursor_delete(cur);
  return rc ? qr_err_set(e, rc, "out of memory running rule %s", s->r->id) : 0;
}

/* Parses one file and runs every rule of its language over it. */
static int run_file(qr_rules *r, scan *s, qr_err *e) {
  int rc = qr_rules_prepare(r, s->f->lang, e);
  if (rc) return rc;
  TSParser *parser = ts_parser_new();
  TSTree *tree = NULL;
  if (parser && ts_parser_set_language(parser, s->f->lang->load()))
    tree = ts_parser_parse_string(parser, NULL, s->f->text, (uint32_t)s->f->len);
  rc = tree ? 0 : qr_err_set(e, QR_E_PARSE, "%s: tree-sitter could not parse it", s->f->path);
  for (size_t i = 0; !rc && i < r->n; i++) {
    if (r->items[i].lang != s->f->lang) continue;
    s->r = &r->items[i];
    rc = run_rule(s, ts_tree_root_node(tree), e);
  }
  if (tree) ts_tree_delete(tree);
  if (parser) ts_parser_delete(parser);
  return rc;
}

int qr_rules_run(qr_rules *r, const qr_diff *d, const qr_snapshot *s, bool allow_context,
                 qr_finding_list *out, qr_err *e) {
  if (!r || !d || !s || !out) return qr_err_set(e, QR_E_INVAL, "qr_rules_run: NULL argument");
  for (size_t i = 0; i < s->n_files; i++) {
    const qr_snapshot_file *f = &s->files[i];
    const qr_diff_file *df = qr_diff_find(d, f->path);
    if (!f->lang || !df || !qr_diff_file_reviewable(df)) continue;
    scan sc = {.f = f, .df = df, .allow_context = allow_context, .out = out};
    int rc = run_file(r, &sc, e);
    if (rc) return rc;
  }
  return 0;
}
