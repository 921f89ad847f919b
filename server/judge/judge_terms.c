/* judge_terms.c — what the merge compares: each finding's message, evidence and category
 * become weighted terms (prose words, code tokens, problem-class concepts) interned in one
 * vocabulary, weighted by IDF into vectors, and compared by cosine with the concept and code
 * adjustments described in judge.c. */
#include "judge/judge_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DISJOINT_CONCEPT_FACTOR 0.25 /* both name a problem class, and not the same one */
#define SHARED_CONCEPT_PULL 0.25     /* both name the same problem class */
#define SHARED_CODE_PULL 0.15        /* same lines, both name the same code, at most one a class */
#define DISJOINT_CODE_FACTOR 0.5     /* adjacent lines, both name code, none in common */
#define DISTINCT_CODE_FACTOR 0.3     /* adjacent lines, each names code only its own line has */
#define SUBJECT_FACTOR 0.8           /* same lines, each about code the other does not name */

#define W_WORD 1.0
#define W_CODE 2.0
#define W_CONCEPT 2.5
#define SCALE_MESSAGE 1.0
#define SCALE_EVIDENCE 0.6
#define SCALE_CATEGORY 0.4
#define VOCAB_TEXT_CAP (64u << 20) /* bytes of distinct term text in one review */

/* ---- words, code tokens and concepts ----------------------------------------------------- */

static const char *const stop_words[] = {
    "a", "about", "above", "after", "again", "all", "also", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "both", "but", "by", "can", "consider", "could",
    "did", "do", "does", "each", "even", "every", "for", "from", "had", "has", "have", "here",
    "how", "if", "in", "instead", "into", "is", "it", "its", "just", "may", "might", "more",
    "most", "must", "of", "on", "once", "one", "only", "or", "other", "our", "out", "over",
    "possibly", "potential", "potentially", "same", "shall", "should", "so", "some", "such",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those",
    "through", "to", "too", "under", "up", "upon", "use", "used", "uses", "using", "very", "was",
    "we", "were", "what", "when", "where", "whether", "which", "while", "who", "will", "with",
    "would", "you", "your",
};

/* Words after which a following "check"/"handle"/"validate" means the opposite. */
static const char *const negations[] = {"not", "never", "no", "without", "missing", "lack",
                                        "lacks", "doesn", "isn", "don", "aren", "wasn", "fails"};
static const char *const negatable[] = {"check", "handle", "validate", "verify", "test"};

/* Problem classes: any of the words (stemmed like prose) or literal tokens maps to the concept. */
static const struct concept {
  const char *name;
  const char *words; /* space-separated */
} concepts[] = {
    {"#release", "leak leaking lost close unclosed free release dispose defer cleanup "
                 "deallocate descriptor unlock"},
    {"#inject", "injection inject xss cross-site innerhtml outerhtml escape unescaped sanitize "
                "sanitise unsanitized script shell eval"},
    {"#null", "nil null nullptr dereference deref panic segfault nonetype"},
    {"#bounds", "off-by-one <= >= bound bounds overflow overrun out-of-bounds underflow "
                "past beyond terminator terminating undersized too-small +1"},
    {"#unchecked", "unchecked ignore ignores discard swallow unhandled uncaught drop"},
    {"#async", "await awaited unawaited async promise fire-and-forget"},
    {"#race", "race concurrent concurrency mutex lock unsynchronized synchronize atomic "
              "thread-safe"},
    {"#partial", "truncate truncation partial fewer incomplete short"},
    {"#equality", "=== !== == != equality coercion"},
    {"#tempfile", "temp temporary tmp tempfile mktemp predictable symlink"},
    {"#secret", "hard-coded hardcoded credential password secret"},
    {"#divzero", "division divide divisor"},
    {"#traversal", "traversal directory-traversal path-traversal"},
    {"#sql", "sql prepared parameterized"},
    {"#perf", "slow quadratic inefficient performance"},
    {"#deadlock", "deadlock"},
    {"#uaf", "use-after-free dangling double-free"},
    {"#crypto", "md5 sha1 weak-hash insecure-random"},
    {"#unused", "unused dead unreachable"},
    {"#quoting", "quote unquoted quoting glob globbing splitting word-splitting"},
    {"#deserialize", "deserialize deserialization pickle unpickle unmarshal"},
    {"#auth", "authentication authorization unauthenticated unauthorized privilege permission"},
    {"#ssrf", "ssrf open-redirect"},
};

static const char *const operators[] = {"<=", ">=", "==", "===", "!=", "!==", "<", ">", "&&",
                                        "||", "<<", ">>", "+=", "-=", "++", ":=", "->", "+1", "-1"};

static bool in_list(const char *const *list, size_t n, const char *w) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(list[i], w)) return true;
  return false;
}

/* A light suffix stemmer (-ies, -es, -s, -ed, -ing, final -e) so "closed", "closes", "closing"
 * and "close" meet. In place; w is lower-case ASCII. */
static void stem(char *w) {
  size_t n = strlen(w);
  if (n > 4 && !strcmp(w + n - 3, "ies")) {
    strcpy(w + n - 3, "y");
    return;
  }
  if (n > 4 && !strcmp(w + n - 3, "ing")) n -= 3;
  else if (n > 3 && !strcmp(w + n - 2, "ed")) n -= 2;
  else if (n > 3 && !strcmp(w + n - 2, "es") && strchr("sxz", w[n - 3])) n -= 2;
  else if (n > 3 && !strcmp(w + n - 4, "ches")) n -= 2;
  else if (n > 3 && w[n - 1] == 's' && w[n - 2] != 's' && w[n - 2] != 'u' && w[n - 2] != 'i') n -= 1;
  if (n > 3 && w[n - 1] == w[n - 2] && !strchr("lsz", w[n - 1])) n--; /* runn-ing → run */
  if (n > 3 && w[n - 1] == 'e') n--;
  w[n] = '\0';
}

uint64_t qr_judge_hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}

static int by_word_concept(const void *a, const void *b) {
  const concept_word *x = a, *y = b;
  int c = strcmp(x->word, y->word);
  return c ? c : (x->concept > y->concept) - (x->concept < y->concept);
}

static void concept_index_free(concept_index *ci) {
  qr_free(ci->raw);
  qr_free(ci->stemmed);
  memset(ci, 0, sizeof *ci);
}

static int concept_index_build(concept_index *ci) {
  size_t n = 0;
  for (size_t c = 0; c < QR_ARRAY_LEN(concepts); c++)
    for (const char *p = concepts[c].words; *p; p += strspn(p, " ")) {
      p += strcspn(p, " ");
      n++;
    }
  ci->raw = qr_malloc(n * sizeof *ci->raw);
  ci->stemmed = qr_malloc(n * sizeof *ci->stemmed);
  if (!ci->raw || !ci->stemmed) return QR_E_NOMEM;
  ci->n = 0;
  for (size_t c = 0; c < QR_ARRAY_LEN(concepts); c++)
    for (const char *p = concepts[c].words; *p; p += strspn(p, " ")) {
      size_t len = strcspn(p, " ");
      concept_word *r = &ci->raw[ci->n], *s = &ci->stemmed[ci->n];
      snprintf(r->word, sizeof r->word, "%.*s", (int)QR_MIN(len, (size_t)MAX_TERM), p);
      r->concept = c;
      *s = *r;
      if (isalpha((unsigned char)s->word[0]) && !strchr(s->word, '-')) stem(s->word);
      ci->n++;
      p += len;
    }
  qsort(ci->raw, ci->n, sizeof *ci->raw, by_word_concept);
  qsort(ci->stemmed, ci->n, sizeof *ci->stemmed, by_word_concept);
  return QR_OK;
}

/* The concept of word `w` (already stemmed when `stemmed`), or NULL. */
static const char *concept_of(const concept_index *ci, const char *w, bool stemmed) {
  const concept_word *t = stemmed ? ci->stemmed : ci->raw;
  size_t lo = 0, hi = ci->n; /* the first entry not below w */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(t[mid].word, w) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < ci->n && !strcmp(t[lo].word, w) ? concepts[t[lo].concept].name : NULL;
}

/* ---- terms ------------------------------------------------------------------------------- */

const char *qr_judge_vocab_text(const vocab *v, int id) { return v->text.data + v->off[id]; }

static void vocab_free(vocab *v) {
  qr_buf_free(&v->text);
  qr_free(v->off);
  qr_free(v->slots);
  memset(v, 0, sizeof *v);
}

static int *vocab_slot(const vocab *v, const char *s, size_t n) {
  size_t mask = v->n_slots - 1;
  for (size_t i = qr_judge_hash(s, n) & mask;; i = (i + 1) & mask) {
    int *slot = &v->slots[i];
    if (!*slot || !strcmp(qr_judge_vocab_text(v, *slot - 1), s)) return slot;
  }
}

/* Keeps the map at most half full. */
static int vocab_grow(vocab *v) {
  size_t n_slots = v->n_slots ? v->n_slots * 2 : 1024;
  int *slots = qr_calloc(n_slots, sizeof *slots);
  size_t alloc = n_slots / 2;
  size_t *off = qr_realloc(v->off, alloc * sizeof *off);
  if (!slots || !off) {
    qr_free(slots);
    if (off) v->off = off;
    return QR_E_NOMEM;
  }
  qr_free(v->slots);
  v->slots = slots;
  v->n_slots = n_slots;
  v->off = off;
  v->alloc = alloc;
  for (size_t id = 0; id < v->n; id++) {
    const char *t = qr_judge_vocab_text(v, (int)id);
    *vocab_slot(v, t, strlen(t)) = (int)id + 1;
  }
  return QR_OK;
}

/* The id of s[0..n) (NUL-terminated at n), added when new; a negative error otherwise. */
static int vocab_intern(vocab *v, const char *s, size_t n) {
  if (v->n == v->alloc) {
    int rc = vocab_grow(v);
    if (rc) return rc;
  }
  int *slot = vocab_slot(v, s, n);
  if (*slot) return *slot - 1;
  v->off[v->n] = v->text.len;
  int rc = qr_buf_append(&v->text, s, n + 1);
  if (rc) return rc;
  *slot = (int)++v->n;
  return *slot - 1;
}

/* The terms of the finding being scanned, and what naming them needs. */
typedef struct term_list {
  term *items;
  size_t n, alloc;
  vocab *vocab;
  const concept_index *concepts;
  int err;
} term_list;

typedef enum { K_WORD, K_CODE, K_CONCEPT } term_kind;

static bool word_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

static void add_term(term_list *l, const char *s, size_t n, double w, term_kind kind) {
  if (l->err || !n) return;
  if (qr_grow(&l->items, &l->alloc, l->n + 1, sizeof *l->items, 256)) {
    l->err = QR_E_NOMEM;
    return;
  }
  char text[MAX_TERM + 1];
  n = QR_MIN(n, (size_t)MAX_TERM);
  for (size_t i = 0; i < n; i++) text[i] = (char)tolower((unsigned char)s[i]);
  text[n] = '\0';
  int id = vocab_intern(l->vocab, text, n);
  if (id < 0) {
    l->err = id;
    return;
  }
  term *t = &l->items[l->n++];
  t->w = w;
  t->id = id;
  t->concept = kind == K_CONCEPT;
  t->code = kind == K_CODE && w >= W_CODE * SCALE_MESSAGE; /* named in the message itself */
}

static void add_concept(term_list *l, const char *c, double scale) {
  if (c) add_term(l, c, strlen(c), W_CONCEPT * scale, K_CONCEPT);
}

/* Tokenizer state for one text of one finding. */
typedef struct scan {
  term_list *terms;
  double scale;
  int since_negation; /* prose words since the last negation word */
  const char *code;   /* the code the finding points at, for telling identifiers from prose */
  size_t code_len;
} scan;

/* True when `w` (lower-case) is a whole identifier in the code, ignoring case. */
static bool identifier_in(const char *code, size_t len, const char *w) {
  size_t n = strlen(w);
  for (size_t i = 0; n && i + n <= len; i++) {
    if ((i && word_char(code[i - 1])) || strncasecmp(code + i, w, n)) continue;
    if (i + n == len || !word_char(code[i + n])) return true;
  }
  return false;
}

/* One prose word: stop words go, the rest is stemmed and may name a concept. */
static void prose_word(scan *sc, const char *s, size_t n, double w) {
  char buf[MAX_TERM + 1];
  n = QR_MIN(n, (size_t)MAX_TERM);
  for (size_t i = 0; i < n; i++) buf[i] = (char)tolower((unsigned char)s[i]);
  buf[n] = '\0';
  sc->since_negation++;
  if (in_list(negations, QR_ARRAY_LEN(negations), buf)) sc->since_negation = 0;
  if (in_list(stop_words, QR_ARRAY_LEN(stop_words), buf)) return;
  /* a word naming an identifier of the code at hand ("fp", "realloc", "readLine") is code */
  if (n >= 2 && identifier_in(sc->code, sc->code_len, buf))
    add_term(sc->terms, buf, n, W_CODE * sc->scale, K_CODE);
  bool digits = isdigit((unsigned char)buf[0]);
  const char *raw_concept = concept_of(sc->terms->concepts, buf, false);
  if (!digits) stem(buf);
  if (strlen(buf) < (digits ? 1u : 2u)) return;
  add_term(sc->terms, buf, strlen(buf), w * sc->scale, K_WORD);
  add_concept(sc->terms, raw_concept ? raw_concept : concept_of(sc->terms->concepts, buf, true), sc->scale);
  if (sc->since_negation <= 3) {
    for (size_t i = 0; i < QR_ARRAY_LEN(negatable); i++) {
      char neg[MAX_TERM + 1];
      snprintf(neg, sizeof neg, "%s", negatable[i]);
      stem(neg);
      if (!strcmp(neg, buf)) add_concept(sc->terms, "#unchecked", sc->scale);
    }
  }
}

/* Splits a code token into its parts (at `.`, `->`, `::`, `_` and camelCase humps), each a
 * prose word of lower weight: "f.Close" also says "close". */
static void code_parts(scan *sc, const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    while (i < n && !isalnum((unsigned char)s[i])) i++;
    size_t b = i;
    while (i < n && isalnum((unsigned char)s[i])) {
      i++;
      if (i < n && islower((unsigned char)s[i - 1]) && isupper((unsigned char)s[i])) break;
    }
    if (i > b + 1) prose_word(sc, s + b, i - b, W_WORD * 0.5);
  }
}

/* Length of a compound token at s: word runs joined by `.`, `->`, `::` (code) or `-` (prose
 * compounds like "off-by-one"). Sets *code when a code joiner, `_` or camelCase is inside. */
static size_t compound(const char *s, const char *end, bool *code, bool *hyphen) {
  const char *p = s;
  for (;;) {
    while (p < end && word_char(*p)) {
      if (*p == '_' || (p > s && islower((unsigned char)p[-1]) && isupper((unsigned char)*p)))
        *code = true;
      p++;
    }
    size_t j = 0;
    if (p + 1 < end && *p == '.' && word_char(p[1])) j = 1;
    else if (p + 2 < end && ((p[0] == '-' && p[1] == '>') || (p[0] == ':' && p[1] == ':')) &&
             word_char(p[2]))
      j = 2;
    else if (p + 1 < end && *p == '-' && isalpha((unsigned char)p[1]) && p > s &&
             isalpha((unsigned char)p[-1])) {
      *hyphen = true;
      p++;
      continue;
    }
    if (!j) return (size_t)(p - s);
    *code = true;
    p += j;
  }
}

static bool op_char(char c) { return c && strchr("<>=!&|+-:", c) != NULL; }

/* Turns one text into terms. */
static void scan_text(term_list *terms, const char *text, double scale,
                      const char *code, size_t code_len) {
  if (!text) return;
  scan sc = {terms, scale, 99, code, code_len};
  const char *p = text, *end = text + strlen(text);
  bool tick = false;
  while (p < end) {
    if (*p == '`') {
      tick = !tick;
      p++;
    } else if (!tick && (size_t)(end - p) >= 10 && !strncasecmp(p, "off by one", 10) &&
               (p + 10 == end || !word_char(p[10])) && (p == text || !word_char(p[-1]))) {
      add_term(terms, "off-by-one", 10, W_WORD * scale, K_WORD); /* as if hyphenated */
      add_concept(terms, concept_of(terms->concepts, "off-by-one", false), scale);
      p += 10;
    } else if (word_char(*p)) {
      bool is_code = tick, hyphen = false;
      size_t n = compound(p, end, &is_code, &hyphen);
      if (p + n < end && p[n] == '(') is_code = true;
      /* 'os' quoted alone, as analyzers (pyflakes, gcc) and many reviewers name code */
      if (p > text && p[-1] == '\'' && (p - 1 == text || !word_char(p[-2])) && p + n < end &&
          p[n] == '\'')
        is_code = true;
      if (is_code) {
        add_term(terms, p, n, W_CODE * scale, K_CODE);
        char low[MAX_TERM + 1];
        size_t m = QR_MIN(n, (size_t)MAX_TERM);
        for (size_t i = 0; i < m; i++) low[i] = (char)tolower((unsigned char)p[i]);
        low[m] = '\0';
        add_concept(terms, concept_of(terms->concepts, low, false), scale);
        code_parts(&sc, p, n);
      } else if (hyphen) {
        char low[MAX_TERM + 1];
        size_t m = QR_MIN(n, (size_t)MAX_TERM);
        for (size_t i = 0; i < m; i++) low[i] = (char)tolower((unsigned char)p[i]);
        low[m] = '\0';
        add_term(terms, low, m, W_WORD * scale, K_WORD);
        add_concept(terms, concept_of(terms->concepts, low, false), scale);
        for (size_t i = 0; i < n;) { /* and each part as a word */
          size_t k = strcspn(p + i, "-");
          if (i + k > n) k = n - i;
          prose_word(&sc, p + i, k, W_WORD);
          i += k + 1;
        }
      } else {
        prose_word(&sc, p, n, W_WORD);
      }
      p += n;
    } else if (op_char(*p)) {
      const char *b = p;
      while (p < end && op_char(*p)) p++;
      /* "+1"/"-1" are operators too: an off-by-one fix names them, spaced ("`+ 1`") or not */
      size_t gap = p < end && *p == ' ' ? 1 : 0;
      bool one = (*b == '+' || *b == '-') && p == b + 1 && p + gap < end && p[gap] == '1' &&
                 (p + gap + 1 == end || !word_char(p[gap + 1]));
      char op[8];
      size_t n = (size_t)(p - b);
      if (one) {
        p += gap + 1;
        n = 2;
      }
      if (n < sizeof op) {
        memcpy(op, b, n);
        if (one) op[1] = '1';
        op[n] = '\0';
        if (in_list(operators, QR_ARRAY_LEN(operators), op)) {
          add_term(terms, op, n, W_CODE * scale, K_CODE);
          add_concept(terms, concept_of(terms->concepts, op, false), scale);
        }
      }
    } else {
      p++;
    }
  }
}

/* ---- vectors and similarity -------------------------------------------------------------- */

static int by_id_weight(const void *a, const void *b) {
  const term *x = a, *y = b;
  if (x->id != y->id) return x->id - y->id;
  return x->w < y->w ? 1 : x->w > y->w ? -1 : 0; /* heaviest first, so it survives dedup */
}

static int by_id(const void *a, const void *b) {
  return ((const term *)a)->id - ((const term *)b)->id;
}

static int by_vocab_text(const void *a, const void *b, void *v) {
  return strcmp(qr_judge_vocab_text(v, *(const int *)a), qr_judge_vocab_text(v, *(const int *)b));
}

/* The text of lines [from, to] (clamped to the file); empty when the file is unknown. */
static void code_span(const qr_snapshot_file *f, int from, int to, const char **code, size_t *len) {
  if (!f || !f->n_lines) return;
  from = QR_MAX(from, 1);
  to = (int)QR_MIN((size_t)QR_MAX(to, from), f->n_lines);
  if ((size_t)from > f->n_lines) return;
  size_t b = f->line_starts[from - 1];
  size_t e = (size_t)to < f->n_lines ? f->line_starts[to] : f->len;
  *code = f->text + b;
  *len = e - b;
}

void qr_judge_features_free(features *f) {
  vocab_free(&f->vocab);
  concept_index_free(&f->concepts);
  qr_free(f->terms);
  qr_free(f->vecs);
  memset(f, 0, sizeof *f);
}

/* Scans finding `x` into `l` and keeps its distinct terms (the heaviest of each) at the end of
 * f->terms, counting each once in `df` (per id, grown with the vocabulary). */
static int scan_finding(features *f, term_list *l, const qr_finding *x, const qr_snapshot_file *sf,
                        int **df, size_t *df_alloc, int *subject) {
  const char *code = "";
  size_t code_len = 0;
  code_span(sf, x->start_line - 1, x->end_line + 1, &code, &code_len);
  l->n = 0;
  scan_text(l, x->message, SCALE_MESSAGE, code, code_len);
  for (size_t i = 0; !*subject && i < l->n; i++)
    if (l->items[i].code) *subject = l->items[i].id + 1;
  scan_text(l, x->evidence, SCALE_EVIDENCE, code, code_len);
  scan_text(l, x->category, SCALE_CATEGORY, code, code_len);
  if (l->err) return l->err;
  if (f->vocab.n > *df_alloc) {
    size_t a = f->vocab.alloc;
    int *p = qr_realloc(*df, a * sizeof *p);
    if (!p) return QR_E_NOMEM;
    memset(p + *df_alloc, 0, (a - *df_alloc) * sizeof *p);
    *df = p;
    *df_alloc = a;
  }
  if (f->n_terms + l->n > f->alloc_terms) {
    size_t a = QR_MAX(f->alloc_terms * 2, f->n_terms + l->n);
    term *p = qr_realloc(f->terms, a * sizeof *p);
    if (!p) return QR_E_NOMEM;
    f->terms = p;
    f->alloc_terms = a;
  }
  if (l->n) qsort(l->items, l->n, sizeof *l->items, by_id_weight);
  for (size_t i = 0; i < l->n; i++) {
    if (i && l->items[i].id == l->items[i - 1].id) continue;
    f->terms[f->n_terms++] = l->items[i];
    (*df)[l->items[i].id]++;
  }
  return QR_OK;
}

/* Renumbers the vocabulary in text order (ties and fingerprints rely on it), weights every
 * term by its IDF and sorts and normalises each finding's vector. `at[i]` is where finding i's
 * terms start. */
static int features_number(features *f, size_t n_findings, const int *df, const size_t *at) {
  size_t nv = f->vocab.n;
  int *order = qr_malloc((nv ? nv : 1) * sizeof *order);
  int *rank = qr_malloc((nv ? nv : 1) * sizeof *rank);
  double *idf = qr_malloc((nv ? nv : 1) * sizeof *idf);
  size_t *off = qr_malloc((nv ? nv : 1) * sizeof *off);
  int rc = order && rank && idf && off ? QR_OK : QR_E_NOMEM;
  for (size_t i = 0; !rc && i < nv; i++) order[i] = (int)i;
  if (!rc && nv) qsort_r(order, nv, sizeof *order, by_vocab_text, &f->vocab);
  for (size_t r = 0; !rc && r < nv; r++) {
    rank[order[r]] = (int)r;
    off[r] = f->vocab.off[order[r]];
    idf[r] = log(1.0 + (double)n_findings / df[order[r]]);
  }
  for (size_t i = 0; !rc && i < n_findings; i++) {
    vec *v = &f->vecs[i];
    term *t = f->terms + at[i];
    for (size_t k = 0; k < v->n; k++) t[k].id = rank[t[k].id];
    if (v->subject) v->subject = rank[v->subject - 1] + 1;
    if (v->n) qsort(t, v->n, sizeof *t, by_id);
    v->t = t;
    for (size_t k = 0; k < v->n; k++) {
      t[k].w *= idf[t[k].id];
      if (!t[k].concept) v->norm += t[k].w * t[k].w;
      v->has_concept |= t[k].concept;
      v->has_code |= t[k].code;
    }
    v->norm = sqrt(v->norm);
  }
  if (!rc) { /* the map's ids are stale from here on; only the texts are read */
    qr_free(f->vocab.off);
    f->vocab.off = off;
    off = NULL;
  }
  qr_free(order);
  qr_free(rank);
  qr_free(idf);
  qr_free(off);
  return rc;
}

/* Terms for every finding, numbered, deduplicated, IDF-weighted and normalised, in one pass
 * over the findings (`idx`: grouped by file, so each file is looked up once). */
int qr_judge_features_build(const qr_finding_list *in, const size_t *idx, const qr_snapshot *snap,
                            features *f) {
  memset(f, 0, sizeof *f);
  qr_buf_init(&f->vocab.text, VOCAB_TEXT_CAP);
  term_list l = {NULL, 0, 0, &f->vocab, &f->concepts, QR_OK};
  int *df = NULL;
  size_t df_alloc = 0;
  size_t *at = qr_malloc((in->n ? in->n : 1) * sizeof *at);
  f->vecs = qr_calloc(in->n ? in->n : 1, sizeof *f->vecs);
  int rc = at && f->vecs ? concept_index_build(&f->concepts) : QR_E_NOMEM;
  const qr_snapshot_file *sf = NULL;
  for (size_t k = 0; !rc && k < in->n; k++) {
    const qr_finding *x = &in->items[idx[k]];
    if (!k || strcmp(x->file, in->items[idx[k - 1]].file)) sf = qr_snapshot_find(snap, x->file);
    at[idx[k]] = f->n_terms;
    rc = scan_finding(f, &l, x, sf, &df, &df_alloc, &f->vecs[idx[k]].subject);
    f->vecs[idx[k]].n = f->n_terms - at[idx[k]];
  }
  if (!rc) rc = features_number(f, in->n, df, at);
  qr_free(l.items);
  qr_free(df);
  qr_free(at);
  return rc;
}

/* Cosine of the word and code terms; then, when both findings name problem classes, a shared
 * class pulls them together and disjoint classes push them apart; on the same lines, naming the
 * same code in both messages pulls a little when the classes cannot tell ("division by zero"
 * and "no guard for an empty list" about `items.length`). (Concepts are kept out of the
 * cosine so a finding that names none is not diluted by the other's.) Findings on different
 * (adjacent) lines whose messages each name code, but not the same code, are about different
 * statements: `os.Open`'s ignored error on one line and `f.Read`'s on the next. */
double qr_judge_similarity(const vec *a, const vec *b, bool overlap) {
  if (!a->norm || !b->norm) return 0;
  double dot = 0;
  bool shared_concept = false, shared_code = false, shared_named = false;
  for (size_t i = 0, j = 0; i < a->n && j < b->n;) {
    if (a->t[i].id < b->t[j].id) i++;
    else if (a->t[i].id > b->t[j].id) j++;
    else {
      if (a->t[i].concept) shared_concept = true;
      else dot += a->t[i].w * b->t[j].w;
      shared_code |= a->t[i].code || b->t[j].code;
      shared_named |= a->t[i].code && b->t[j].code;
      i++;
      j++;
    }
  }
  double s = dot / (a->norm * b->norm);
  if (a->has_concept && b->has_concept)
    s = shared_concept ? s + (1 - s) * SHARED_CONCEPT_PULL : s * DISJOINT_CONCEPT_FACTOR;
  if (!overlap && a->has_code && b->has_code && !shared_code) s *= DISJOINT_CODE_FACTOR;
  if (overlap && shared_named && !(a->has_concept && b->has_concept)) s += (1 - s) * SHARED_CODE_PULL;
  return s;
}

bool qr_judge_lines_near(const qr_finding *a, const qr_finding *b, int slack) {
  return a->start_line <= b->end_line + slack && b->start_line <= a->end_line + slack;
}

/* True when `v` holds term `id` (its terms are sorted by id). */
static bool has_term(const vec *v, int id) {
  size_t lo = 0, hi = v->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v->t[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < v->n && v->t[lo].id == id;
}

double qr_judge_subject_factor(const vec *a, const vec *b) {
  return a->subject && b->subject && a->subject != b->subject && !has_term(a, b->subject - 1) &&
                 !has_term(b, a->subject - 1)
             ? SUBJECT_FACTOR
             : 1.0;
}

bool qr_judge_names_apart(const vec *a, const vec *b) {
  if (!a->has_code || !b->has_code) return false;
  for (size_t i = 0; i < a->n; i++)
    if (a->t[i].code && has_term(b, a->t[i].id)) return false;
  for (size_t i = 0; i < b->n; i++)
    if (b->t[i].code && has_term(a, b->t[i].id)) return false;
  return true;
}

/* Of the code `a` names, how much is on a's own lines and not on b's (`own`), and how much of
 * that b names too (`shared`). */
static void own_code(const vocab *voc, const vec *a, const qr_finding *fa, const vec *b,
                     const qr_finding *fb, const qr_snapshot_file *sf, int *own, int *shared) {
  *own = *shared = 0;
  for (size_t i = 0; i < a->n; i++) {
    const char *w = qr_judge_vocab_text(voc, a->t[i].id);
    if (!a->t[i].code || !qr_judge_lines_name(sf, fa, w) || qr_judge_lines_name(sf, fb, w)) continue;
    (*own)++;
    *shared += has_term(b, a->t[i].id);
  }
}

double qr_judge_code_factor(const vocab *voc, const vec *a, const qr_finding *fa, const vec *b,
                            const qr_finding *fb, const qr_snapshot_file *sf) {
  if (!sf || qr_judge_lines_near(fa, fb, 0)) return 1.0;
  int own_a, shared_a, own_b, shared_b;
  own_code(voc, a, fa, b, fb, sf, &own_a, &shared_a);
  own_code(voc, b, fb, a, fa, sf, &own_b, &shared_b);
  return own_a && own_b && (!shared_a || !shared_b) ? DISTINCT_CODE_FACTOR : 1.0;
}

size_t qr_judge_shared_terms(const vocab *voc, const vec *a, const vec *b, const char **out,
                             size_t max) {
  size_t n = 0;
  for (int pass = 0; pass < 3 && n < max; pass++) /* concepts, code, then words */
    for (size_t i = 0, j = 0; i < a->n && j < b->n && n < max;) {
      if (a->t[i].id < b->t[j].id) i++;
      else if (a->t[i].id > b->t[j].id) j++;
      else {
        const term *t = &a->t[i];
        int rank = t->concept ? 0 : t->code || b->t[j].code ? 1 : 2;
        if (rank == pass) out[n++] = qr_judge_vocab_text(voc, t->id);
        i++;
        j++;
      }
    }
  return n;
}

bool qr_judge_lines_name(const qr_snapshot_file *sf, const qr_finding *f, const char *word) {
  const char *code = "";
  size_t len = 0;
  code_span(sf, f->start_line, f->end_line, &code, &len);
  return identifier_in(code, len, word);
}
