/* judge.c — the consensus merge.
 *
 * Whether two findings describe the same problem is decided from their text: the message,
 * evidence and category become weighted terms — prose words (lower-cased, stop words removed,
 * lightly stemmed), code tokens (identifiers with `.`/`_`/camelCase/a call paren, backticked
 * text, operators such as `<=`), and problem-class concepts (leak≈close≈free, xss≈innerHTML≈
 * escape, nil≈null≈dereference, …). Terms are weighted by kind and by how rare they are among
 * this review's findings (IDF), compared by cosine, and two findings whose concepts are both
 * known but disjoint are pushed apart: that is what keeps "unchecked malloc" and "allocation one
 * byte too small" on the same line separate while paraphrases sharing no words still merge.
 * Clustering is average-linkage agglomerative per file over pairs whose lines overlap within ±1.
 *
 * It scales to 100,000s of findings in O(n log n): terms are interned in a hash map and the IDF
 * counted in the same pass; candidate pairs come from a sweep over the findings sorted by line,
 * each compared with at most MAX_NEIGHBOURS findings that start at or after it (only a
 * pathological pile-up on a few lines reaches that cap); cluster links live in a sparse hash
 * map and the next merge comes from a heap, which picks exactly the pair a full scan would.
 *
 * Tree-sitter supplies the enclosing definitions for fingerprints and checks that fixes parse.
 *
 * This file is the merge itself (the merged finding, its fingerprint, ordering, filtering and
 * qr_judge_consensus); the terms and similarity are in judge_terms.c, the clustering in
 * judge_cluster.c, tree-sitter in judge_fix.c (judge_internal.h), the model judge in
 * judge_model.c. */
#include "judge/judge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/judge_internal.h"

#define MAX_INPUT 250000          /* findings the merge accepts */
#define MAX_NEIGHBOURS 64         /* findings each one is compared with, in line order */
#define MAX_CENTRAL 64            /* members weighed when choosing a cluster's message */
#define FP_WORDS 3                /* problem words in a fingerprint when no concept is known */

/* ---- the merged finding ------------------------------------------------------------------ */

/* Everything the merge needs while building one file's results. */
typedef struct merge_ctx {
  const qr_finding_list *in;
  const qr_snapshot *snap;
  const features *feat;
  const qr_judge_coverage *cov;
  size_t n_cov;
  int all_passes;  /* distinct passes in the input */
  int seeing;      /* passes that saw the current file */
  TSTree *tree;    /* of the current file, or NULL */
  const qr_snapshot_file *sfile;
  const size_t *idx;  /* the current file's findings (their indexes in the input) */
  qr_judge_def *defs; /* per finding of the current file: its innermost definition */
} merge_ctx;

/* How two findings of a file came to be compared. */
typedef enum { LINK_NONE, LINK_SAME_LINES, LINK_ADJACENT, LINK_DEFINITION } link_kind;

static const char *const link_why[] = {"not compared", "same lines", "adjacent lines",
                                       "one names the definition the other is in (consequence "
                                       "and cause)"};

/* True when finding x (position) sits on a use of the definition finding y is in, outside it,
 * and names it in its message: "divides by `period_days`" at the call and "period_days leaves
 * out a day" in its body are one problem seen from both ends. (Naming a function from a line
 * that does not use it — "the innerHTML sink in renderNotification" — is only a reference.) */
static bool names_definition_of(const merge_ctx *mc, int x, int y) {
  const qr_judge_def *d = &mc->defs[y];
  const qr_finding *fx = &mc->in->items[mc->idx[x]];
  if (!d->name[0] || (fx->start_line <= d->end_line && fx->end_line >= d->start_line) ||
      !qr_judge_lines_name(mc->sfile, fx, d->name))
    return false;
  const vec *v = &mc->feat->vecs[mc->idx[x]];
  size_t n = strlen(d->name);
  for (size_t k = 0; k < v->n; k++) {
    if (!v->t[k].code) continue;
    const char *w = qr_judge_vocab_text(&mc->feat->vocab, v->t[k].id);
    size_t m = strlen(w);
    if (m >= n && !strcmp(w + m - n, d->name) &&
        (m == n || strchr(".>:", w[m - n - 1]))) /* period_days, self.period_days, a->f, A::f */
      return true;
  }
  return false;
}

static link_kind link_of(const merge_ctx *mc, int i, int j) {
  const qr_finding *a = &mc->in->items[mc->idx[i]], *b = &mc->in->items[mc->idx[j]];
  if (qr_judge_lines_near(a, b, 0)) return LINK_SAME_LINES;
  if (qr_judge_lines_near(a, b, 1)) return LINK_ADJACENT;
  return names_definition_of(mc, i, j) || names_definition_of(mc, j, i) ? LINK_DEFINITION
                                                                          : LINK_NONE;
}

/* The similarity of findings i and j (positions in the current file) as the clustering sees it. */
static double link_similarity(const merge_ctx *mc, int i, int j, link_kind k) {
  size_t x = mc->idx[i], y = mc->idx[j];
  const vec *a = &mc->feat->vecs[x], *b = &mc->feat->vecs[y];
  double s = qr_judge_similarity(a, b, k == LINK_SAME_LINES);
  if (k == LINK_SAME_LINES) s *= qr_judge_subject_factor(a, b);
  if (k == LINK_ADJACENT)
    s *= qr_judge_code_factor(&mc->feat->vocab, a, &mc->in->items[x], b, &mc->in->items[y],
                              mc->sfile);
  return s;
}

static bool share_source_pass(const qr_finding *a, const qr_finding *b) {
  for (size_t i = 0; i < a->n_sources; i++)
    for (size_t j = 0; j < b->n_sources; j++)
      if (a->sources[i].pass == b->sources[j].pass) return true;
  return false;
}

/* Two findings of one local pass from different rules (or analyzer codes) are two problems:
 * the rule pack's checks never overlap, whatever the words and lines. */
static bool distinct_checks(const qr_finding *a, const qr_finding *b) {
  return a->rule && b->rule && strcmp(a->rule, b->rule) && a->n_sources && b->n_sources &&
         a->sources[0].pass == b->sources[0].pass;
}

/* Two members of one pass: naming different code ("'os' imported but unused" and "'sys' …",
 * even on one line, `import os, sys`) or carrying different analyzer rules (cppcheck memleak
 * and resourceLeak on one line), never one problem, however alike their words — a pass does
 * not report one problem twice under two names; otherwise, on the same lines a stricter
 * threshold, on different lines (a cause and its consequence) no constraint. */
static int member_constraint(const void *ctx, int i, int j) {
  const merge_ctx *mc = ctx;
  const qr_finding *a = &mc->in->items[mc->idx[i]], *b = &mc->in->items[mc->idx[j]];
  if (!share_source_pass(a, b)) return QR_PAIR_FREE;
  if (distinct_checks(a, b) ||
      qr_judge_names_apart(&mc->feat->vecs[mc->idx[i]], &mc->feat->vecs[mc->idx[j]]))
    return QR_PAIR_APART;
  return qr_judge_lines_near(a, b, 0) ? QR_PAIR_STRICT : QR_PAIR_FREE;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* The member most similar to the others (ties: matched evidence, then chain order), among the
 * first MAX_CENTRAL members of the chain, weighed against those: exact for any cluster a real
 * panel produces, and bounded work for a pile-up of thousands. */
static int central_member(const merge_ctx *mc, const cluster_set *c, int leader) {
  int best = leader, seen = 0;
  double best_score = -1;
  for (int i = leader; i >= 0 && seen < MAX_CENTRAL; i = c->next[i], seen++) {
    double score = 0;
    int weighed = 0;
    for (int j = leader; j >= 0 && weighed < MAX_CENTRAL; j = c->next[j], weighed++)
      if (j != i)
        score += qr_judge_similarity(&mc->feat->vecs[c->idx[i]], &mc->feat->vecs[c->idx[j]], true);
    if (mc->in->items[c->idx[i]].evidence_matched) score += 1e-6;
    if (score > best_score + 1e-9) {
      best_score = score;
      best = i;
    }
  }
  return best;
}

typedef struct sev_pass {
  int severity, pass;
} sev_pass;

static int by_severity_pass(const void *a, const void *b) {
  const sev_pass *x = a, *y = b;
  if (x->severity != y->severity) return y->severity - x->severity;
  return (x->pass > y->pass) - (x->pass < y->pass);
}

/* The highest severity at least two passes gave (a member's pass is its first source), else
 * the highest given. */
static int merged_severity(const merge_ctx *mc, const cluster_set *c, int leader, qr_finding *out) {
  sev_pass *v = qr_malloc((size_t)c->size[leader] * sizeof *v);
  if (!v) return QR_E_NOMEM;
  size_t n = 0;
  qr_severity top = QR_SEV_HINT;
  for (int i = leader; i >= 0; i = c->next[i]) {
    const qr_finding *x = &mc->in->items[c->idx[i]];
    top = QR_MAX(top, x->severity);
    if (x->n_sources) v[n++] = (sev_pass){(int)x->severity, x->sources[0].pass};
  }
  if (n) qsort(v, n, sizeof *v, by_severity_pass); /* highest severity first */
  out->severity = top;
  for (size_t i = 0, passes = 0; i < n; i++) {
    if (i && v[i].severity != v[i - 1].severity) passes = 0;
    passes += !i || v[i].severity != v[i - 1].severity || v[i].pass != v[i - 1].pass;
    if (passes == 2 && v[i].severity >= QR_SEV_HINT && v[i].severity <= QR_SEV_ERROR) {
      out->severity = (qr_severity)v[i].severity;
      break;
    }
  }
  qr_free(v);
  return QR_OK;
}

/* The core lines: the (lower) median start and end of the members. */
static int merged_lines(const merge_ctx *mc, const cluster_set *c, int leader, qr_finding *out) {
  int n = c->size[leader], k = 0;
  int *s = qr_malloc((size_t)n * sizeof *s), *e = qr_malloc((size_t)n * sizeof *e);
  if (!s || !e) {
    qr_free(s);
    qr_free(e);
    return QR_E_NOMEM;
  }
  for (int i = leader; i >= 0; i = c->next[i], k++) {
    s[k] = mc->in->items[c->idx[i]].start_line;
    e[k] = mc->in->items[c->idx[i]].end_line;
  }
  qsort(s, (size_t)n, sizeof *s, cmp_int);
  qsort(e, (size_t)n, sizeof *e, cmp_int);
  out->start_line = s[(n - 1) / 2];
  out->end_line = QR_MAX(e[(n - 1) / 2], out->start_line);
  qr_free(s);
  qr_free(e);
  return QR_OK;
}

/* All members' sources, one per pass; votes and distinct models follow from them. */
static int merged_sources(const merge_ctx *mc, const cluster_set *c, int leader, qr_finding *out) {
  for (int i = leader; i >= 0; i = c->next[i]) {
    int rc = qr_finding_add_sources(out, &mc->in->items[c->idx[i]]);
    if (rc) return rc;
  }
  return QR_OK;
}

/* Agreement (votes over the passes that saw the file) with a share for evidence: matched
 * evidence counts fully, none given half, evidence given but never found nothing. */
static double merged_confidence(const merge_ctx *mc, const cluster_set *c, int leader,
                                const qr_finding *out) {
  double agree = mc->seeing > 0 ? QR_MIN(1.0, (double)out->votes / mc->seeing) : 1.0;
  bool given = false, matched = false;
  for (int i = leader; i >= 0; i = c->next[i]) {
    given |= mc->in->items[c->idx[i]].evidence != NULL;
    matched |= mc->in->items[c->idx[i]].evidence_matched;
  }
  double ev = matched ? 1.0 : given ? 0.0 : 0.5;
  return 0.75 * agree + 0.25 * ev;
}

static bool same_fix(const qr_fix *a, const qr_fix *b) {
  return a->start_line == b->start_line && a->end_line == b->end_line &&
         !strcmp(a->replacement, b->replacement);
}

/* One member's fix: `group` numbers identical fixes, `count` is how many members offer it. */
typedef struct offered_fix {
  const qr_fix *fix;
  int seq, group, count;
} offered_fix;

static int by_fix_seq(const void *a, const void *b) {
  const qr_fix *x = ((const offered_fix *)a)->fix, *y = ((const offered_fix *)b)->fix;
  if (x->start_line != y->start_line) return x->start_line - y->start_line;
  if (x->end_line != y->end_line) return x->end_line - y->end_line;
  int c = strcmp(x->replacement, y->replacement);
  return c ? c : ((const offered_fix *)a)->seq - ((const offered_fix *)b)->seq;
}

static int by_seq(const void *a, const void *b) {
  return ((const offered_fix *)a)->seq - ((const offered_fix *)b)->seq;
}

/* The valid fix offered most often (ties: the first offered); none when no fix is valid. Each
 * distinct fix is checked (parsed) once. */
static int merged_fix(const merge_ctx *mc, const cluster_set *c, int leader, qr_finding *out) {
  offered_fix *v = qr_malloc((size_t)c->size[leader] * sizeof *v);
  if (!v) return QR_E_NOMEM;
  int n = 0;
  for (int i = leader; i >= 0; i = c->next[i])
    if (mc->in->items[c->idx[i]].fix) {
      v[n] = (offered_fix){mc->in->items[c->idx[i]].fix, n, 0, 0};
      n++;
    }
  if (n) qsort(v, (size_t)n, sizeof *v, by_fix_seq);
  for (int a = 0, b; a < n; a = b) { /* runs of identical fixes */
    for (b = a + 1; b < n && same_fix(v[a].fix, v[b].fix); b++) {}
    for (int k = a; k < b; k++) {
      v[k].group = a;
      v[k].count = b - a;
    }
  }
  if (n) qsort(v, (size_t)n, sizeof *v, by_seq);
  signed char *valid = qr_malloc((size_t)QR_MAX(n, 1));
  if (!valid) {
    qr_free(v);
    return QR_E_NOMEM;
  }
  memset(valid, -1, (size_t)QR_MAX(n, 1)); /* per group: not checked yet */
  const qr_fix *best = NULL;
  int best_n = 0;
  for (int k = 0; k < n; k++) {
    if (v[k].count <= best_n) continue;
    if (valid[v[k].group] < 0) valid[v[k].group] = qr_judge_fix_valid(mc->sfile, v[k].fix);
    if (valid[v[k].group]) {
      best_n = v[k].count;
      best = v[k].fix;
    }
  }
  qr_free(valid);
  qr_free(v);
  if (!best) return QR_OK;
  out->fix = qr_malloc(sizeof *out->fix);
  if (!out->fix) return QR_E_NOMEM;
  *out->fix = *best;
  out->fix->replacement = qr_strdup(best->replacement);
  return out->fix->replacement ? QR_OK : QR_E_NOMEM;
}

typedef struct word_count {
  const term *t; /* as the first member holding it has it */
  int n;         /* members holding it */
  size_t seq;
} word_count;

/* Concepts, then code named in messages, then words; each by how many members hold them. */
static int term_rank(const term *t) { return t->concept ? 0 : t->code ? 1 : 2; }

static int by_count_then_text(const void *a, const void *b) {
  const word_count *x = a, *y = b;
  if (term_rank(x->t) != term_rank(y->t)) return term_rank(x->t) - term_rank(y->t);
  if (x->n != y->n) return y->n - x->n;
  return x->t->id - y->t->id; /* ids follow text order */
}

static int by_text(const void *a, const void *b) {
  return ((const word_count *)a)->t->id - ((const word_count *)b)->t->id;
}

static int by_text_seq(const void *a, const void *b) {
  const word_count *x = a, *y = b;
  return x->t->id != y->t->id ? x->t->id - y->t->id : (x->seq > y->seq) - (x->seq < y->seq);
}

/* The problem words of a cluster: the concepts and (up to FP_WORDS) code names that at least
 * half the members use — "#unchecked os.open" — else the FP_WORDS commonest words. Sorted by
 * text, so member order never changes them. */
static int problem_words(const merge_ctx *mc, const cluster_set *c, int leader, qr_buf *out) {
  size_t total = 0, n = 0;
  for (int i = leader; i >= 0; i = c->next[i]) total += mc->feat->vecs[c->idx[i]].n;
  word_count *w = qr_malloc((total ? total : 1) * sizeof *w);
  if (!w) return QR_E_NOMEM;
  for (int i = leader; i >= 0; i = c->next[i]) {
    const vec *v = &mc->feat->vecs[c->idx[i]];
    for (size_t k = 0; k < v->n; k++, n++) w[n] = (word_count){&v->t[k], 1, n};
  }
  if (n) qsort(w, n, sizeof *w, by_text_seq);
  size_t u = 0;
  for (size_t i = 0; i < n; i++) {
    if (u && w[u - 1].t->id == w[i].t->id) w[u - 1].n++;
    else w[u++] = w[i];
  }
  n = u;
  if (n) qsort(w, n, sizeof *w, by_count_then_text);
  size_t keep = 0, i = 0, codes = 0;
  for (; i < n && term_rank(w[i].t) < 2; i++) {
    bool common = 2 * w[i].n >= c->size[leader];
    if (common && (w[i].t->concept || codes++ < FP_WORDS)) w[keep++] = w[i];
  }
  if (!keep) { /* nothing shared by name: the commonest plain words */
    memmove(w, w + i, (n - i) * sizeof *w);
    keep = QR_MIN(n - i, (size_t)FP_WORDS);
  }
  if (keep) qsort(w, keep, sizeof *w, by_text);
  int rc = QR_OK;
  for (size_t k = 0; k < keep && !rc; k++)
    rc = qr_buf_printf(out, "%s ", qr_judge_vocab_text(&mc->feat->vocab, w[k].t->id));
  qr_free(w);
  return rc;
}

/* The merged finding's rule: a member's own (rule pack or analyzer, the first in pass order),
 * else the problem class the members share ("#bounds" → "quorum/bounds"), else its category. */
static int merged_rule(const merge_ctx *mc, const cluster_set *c, int leader, const char *words,
                       qr_finding *out) {
  const qr_finding *own = NULL;
  for (int i = leader; i >= 0; i = c->next[i]) {
    const qr_finding *m = &mc->in->items[c->idx[i]];
    if (m->rule && m->n_sources && (!own || m->sources[0].pass < own->sources[0].pass)) own = m;
  }
  const char *concept = strchr(words, '#');
  if (own) out->rule = qr_strdup(own->rule);
  else if (concept && (concept == words || concept[-1] == ' '))
    out->rule = qr_asprintf("quorum/%.*s", (int)strcspn(concept + 1, " "), concept + 1);
  else out->rule = qr_asprintf("quorum/%s", *out->category ? out->category : "general");
  return out->rule ? QR_OK : QR_E_NOMEM;
}

/* file, enclosing definitions of the core line, problem words: nothing that moves with lines.
 * The problem words also name the merged finding's rule. */
static int fingerprint(const merge_ctx *mc, const cluster_set *c, int leader, qr_finding *out) {
  qr_buf b, words;
  qr_buf_init(&b, 64 * 1024);
  qr_buf_init(&words, 64 * 1024);
  int rc = qr_buf_printf(&b, "%s\n", out->file);
  if (!rc && mc->sfile) rc = qr_judge_enclosing_path(mc->tree, mc->sfile, out->start_line, &b);
  if (!rc) rc = qr_buf_puts(&b, "\n");
  if (!rc) rc = problem_words(mc, c, leader, &words);
  if (!rc && words.len) rc = qr_buf_append(&b, words.data, words.len);
  if (!rc)
    snprintf(out->fingerprint, sizeof out->fingerprint, "%016llx",
             (unsigned long long)qr_judge_hash(b.data, b.len));
  if (!rc) rc = merged_rule(mc, c, leader, words.data ? words.data : "", out);
  qr_buf_free(&b);
  qr_buf_free(&words);
  return rc;
}


/* "same lines; shares #divzero, `period_days`, infinity": why members i and j were linked. */
static char *link_reason(const merge_ctx *mc, int i, int j, link_kind k) {
  const char *shared[6];
  size_t n = qr_judge_shared_terms(&mc->feat->vocab, &mc->feat->vecs[mc->idx[i]],
                                   &mc->feat->vecs[mc->idx[j]], shared, QR_ARRAY_LEN(shared));
  qr_buf b;
  qr_buf_init(&b, 4096);
  int rc = qr_buf_puts(&b, link_why[k]);
  if (!rc && k == LINK_DEFINITION)
    rc = qr_buf_printf(&b, " `%s`", mc->defs[names_definition_of(mc, i, j) ? j : i].name);
  for (size_t t = 0; !rc && t < n; t++) rc = qr_buf_printf(&b, "%s%s", t ? ", " : "; shares ", shared[t]);
  if (!rc && !n) rc = qr_buf_puts(&b, "; no words in common");
  if (rc) {
    qr_buf_free(&b);
    return NULL;
  }
  return qr_buf_detach(&b, NULL);
}

/* One member of a cluster as the explanation lists it (new reference, NULL: out of memory). */
static json_t *member_json(const qr_finding *x) {
  const qr_source *src = x->n_sources ? &x->sources[0] : NULL;
  return json_pack("{s:s, s:s, s:i, s:i, s:s}", "model", src ? src->model : "", "strategy",
                   src ? src->strategy : "", "start_line", x->start_line, "end_line", x->end_line,
                   "message", x->message ? x->message : "");
}

/* The leader of member y's cluster just before merge `t`. */
static int leader_before(const cluster_set *c, int y, int t) {
  while (c->joined[y] >= 0 && c->step[y] < t) y = c->joined[y];
  return y;
}

/* A link of the cluster's tree: listed members a and b, how they were compared, how alike. */
typedef struct tree_link {
  int a, b;
  link_kind kind;
  double s;
} tree_link;

/* For each of the n listed members (positions pos) that led a cluster when it was merged: the
 * most alike compared pair across that merge, among the listed members — the link that joined
 * the two. Returns how many links (at most n - 1) it wrote to `out`. */
static int merge_links(const merge_ctx *mc, const cluster_set *c, const int *pos, int n,
                       tree_link *out) {
  int k = 0, side[MAX_CENTRAL];
  for (int x = 0; x < n; x++) {
    int me = pos[x], t = c->step[me], into = c->joined[me];
    if (into < 0) continue;
    for (int y = 0; y < n; y++) {
      int l = leader_before(c, pos[y], t);
      side[y] = l == me ? 1 : l == into ? 2 : 0;
    }
    tree_link best = {-1, -1, LINK_NONE, -1};
    for (int a = 0; a < n; a++)
      for (int b = 0; side[a] == 1 && b < n; b++) {
        link_kind kind = side[b] == 2 ? link_of(mc, pos[a], pos[b]) : LINK_NONE;
        double s = kind == LINK_NONE ? -1 : link_similarity(mc, pos[a], pos[b], kind);
        if (kind != LINK_NONE && s > best.s + 1e-12) best = (tree_link){a, b, kind, s};
      }
    if (best.a >= 0) out[k++] = best;
  }
  return k;
}

/* Each listed member's way to the representative `r` (an index) through the links: `via[i]` the
 * link (index in links) that reaches member i from the one before it, -1 when none does. */
static void tree_paths(const tree_link *links, int k, int n, int r, int *via) {
  int queue[MAX_CENTRAL], head = 0, tail = 0;
  bool seen[MAX_CENTRAL] = {false};
  for (int i = 0; i < n; i++) via[i] = -1;
  seen[r] = true;
  queue[tail++] = r;
  while (head < tail) {
    int u = queue[head++];
    for (int e = 0; e < k; e++) {
      int v = links[e].a == u ? links[e].b : links[e].b == u ? links[e].a : -1;
      if (v < 0 || seen[v]) continue;
      seen[v] = true;
      via[v] = e;
      queue[tail++] = v;
    }
  }
}

/* The merge's reasoning for the cluster led by `leader` ({"members":[…]}, new reference): each
 * member (the first MAX_CENTRAL; "more" counts the rest) with the link that joined it, on its
 * way to the representative: the member it was linked with ("with", an index), their similarity
 * and why they were compared (each merge of two clusters contributes its most alike compared
 * pair); the representative, whose message the finding shows, is marked. */
static json_t *merge_explain(const merge_ctx *mc, const cluster_set *c, int leader, int rep) {
  int pos[MAX_CENTRAL], n = 0, more = 0, r = 0, via[MAX_CENTRAL];
  tree_link links[MAX_CENTRAL];
  for (int i = leader; i >= 0; i = c->next[i]) {
    if (n < MAX_CENTRAL) pos[n++] = i;
    else more++;
  }
  for (int a = 0; a < n; a++)
    if (pos[a] == rep) r = a;
  tree_paths(links, merge_links(mc, c, pos, n, links), n, r, via);
  json_t *members = json_array(), *doc = json_pack("{s:o}", "members", members);
  bool ok = members && doc;
  for (int a = 0; ok && a < n; a++) {
    json_t *m = member_json(&mc->in->items[mc->idx[pos[a]]]);
    const tree_link *l = via[a] >= 0 ? &links[via[a]] : NULL;
    int with = l ? (l->a == a ? l->b : l->a) : -1;
    char *why = a == r ? qr_strdup("representative: the member most like the others; "
                                   "its message is the finding's")
                : l    ? link_reason(mc, pos[a], pos[with], l->kind)
                       : qr_strdup("joined through other members");
    ok = m && why && !json_object_set_new(m, "why", json_string(why));
    if (ok && a == r) ok = !json_object_set_new(m, "representative", json_true());
    if (ok && l)
      ok = !json_object_set_new(m, "with", json_integer(with)) &&
           !json_object_set_new(m, "similarity", json_real(round(l->s * 1000) / 1000));
    qr_free(why);
    if (!ok) json_decref(m);
    else if (json_array_append_new(members, m)) ok = false; /* m is released either way */
  }
  if (ok && more) ok = !json_object_set_new(doc, "more", json_integer(more));
  if (ok) return doc;
  json_decref(doc);
  return NULL;
}

/* Builds the merged finding of the cluster led by `leader`. */
static int merge_cluster(const merge_ctx *mc, const cluster_set *c, int leader, qr_finding *out) {
  int central = central_member(mc, c, leader);
  const qr_finding *rep = &mc->in->items[c->idx[central]];
  memset(out, 0, sizeof *out);
  out->file = qr_strdup(rep->file);
  out->category = qr_strdup(rep->category ? rep->category : "");
  out->message = qr_strdup(rep->message ? rep->message : "");
  out->evidence = qr_strdup(rep->evidence);
  out->relocated = rep->relocated;
  if (!out->file || !out->category || !out->message || (rep->evidence && !out->evidence))
    return QR_E_NOMEM;
  for (int i = leader; i >= 0; i = c->next[i])
    out->evidence_matched |= mc->in->items[c->idx[i]].evidence_matched;
  int rc = merged_severity(mc, c, leader, out);
  if (!rc) rc = merged_lines(mc, c, leader, out);
  if (!rc) rc = merged_sources(mc, c, leader, out);
  if (!rc) out->confidence = merged_confidence(mc, c, leader, out);
  if (!rc) rc = merged_fix(mc, c, leader, out);
  if (!rc) rc = fingerprint(mc, c, leader, out);
  if (!rc && !(out->merge = merge_explain(mc, c, leader, central))) rc = QR_E_NOMEM;
  return rc;
}

/* Findings of one file by position, for sorting them by lines. */
typedef struct line_order {
  const qr_finding *items;
  const size_t *idx;
} line_order;

static int by_lines(const void *a, const void *b, void *ctx) {
  const line_order *o = ctx;
  int x = *(const int *)a, y = *(const int *)b;
  const qr_finding *p = &o->items[o->idx[x]], *q = &o->items[o->idx[y]];
  if (p->start_line != q->start_line) return p->start_line < q->start_line ? -1 : 1;
  if (p->end_line != q->end_line) return p->end_line < q->end_line ? -1 : 1;
  return (x > y) - (x < y);
}

/* A finding by its exact text and lines, for finding duplicates whatever lies between them. */
typedef struct dup_key {
  uint64_t hash; /* of the message */
  int pos, rank; /* position among the file's findings; place in line order */
} dup_key;

static int by_dup_key(const void *a, const void *b, void *ctx) {
  const dup_key *x = a, *y = b;
  const line_order *o = ctx;
  if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
  const qr_finding *p = &o->items[o->idx[x->pos]], *q = &o->items[o->idx[y->pos]];
  if (p->start_line != q->start_line) return p->start_line < q->start_line ? -1 : 1;
  if (p->end_line != q->end_line) return p->end_line < q->end_line ? -1 : 1;
  int c = strcmp(p->message ? p->message : "", q->message ? q->message : "");
  return c ? c : x->pos - y->pos;
}

static bool same_text_and_lines(const line_order *o, const dup_key *x, const dup_key *y) {
  const qr_finding *p = &o->items[o->idx[x->pos]], *q = &o->items[o->idx[y->pos]];
  return x->hash == y->hash && p->start_line == q->start_line && p->end_line == q->end_line &&
         !strcmp(p->message ? p->message : "", q->message ? q->message : "");
}

static int push_pair(int **pairs, size_t *n, size_t *alloc, int i, int j) {
  if (qr_grow(pairs, alloc, *n + 1, 2 * sizeof **pairs, 256)) return QR_E_NOMEM;
  (*pairs)[2 * *n] = QR_MIN(i, j);
  (*pairs)[2 * *n + 1] = QR_MAX(i, j);
  (*n)++;
  return QR_OK;
}

/* Appends the pairs the sweep's neighbour cap left out between findings of the same message on
 * the same lines: each such finding is paired with the first of them (in line order), so a
 * pile-up on one line never keeps a finding from its exact duplicates. */
static int duplicate_pairs(const line_order *o, const int *order, size_t m, int **pairs, size_t *n,
                           size_t *alloc) {
  dup_key *k = qr_malloc((m ? m : 1) * sizeof *k);
  if (!k) return QR_E_NOMEM;
  for (size_t r = 0; r < m; r++) {
    const char *msg = o->items[o->idx[order[r]]].message;
    k[r] = (dup_key){qr_judge_hash(msg ? msg : "", msg ? strlen(msg) : 0), order[r], (int)r};
  }
  if (m) qsort_r(k, m, sizeof *k, by_dup_key, (void *)o);
  int rc = QR_OK;
  for (size_t a = 0, b; !rc && a < m; a = b)
    for (b = a + 1; !rc && b < m && same_text_and_lines(o, &k[a], &k[b]); b++)
      if (k[b].rank - k[a].rank > MAX_NEIGHBOURS) rc = push_pair(pairs, n, alloc, k[a].pos, k[b].pos);
  qr_free(k);
  return rc;
}

/* The line-near pairs (i < j, positions among the file's findings), from a sweep over the
 * findings in line order: each is compared with at most MAX_NEIGHBOURS of those that start at
 * or after it. Below that many findings within a finding's lines, this is every near pair; a
 * pile-up of more on a few lines (10,000 findings on one line) keeps O(n · MAX_NEIGHBOURS)
 * work and memory — and exact duplicates beyond the cap are paired all the same (see
 * duplicate_pairs). `*pairs` holds 2·*n ints (qr_free). */
static int near_pairs(const qr_finding *items, const size_t *idx, size_t m, int **pairs, size_t *n,
                      size_t *alloc_out) {
  int *order = qr_malloc(m * sizeof *order);
  if (!order) return QR_E_NOMEM;
  for (size_t i = 0; i < m; i++) order[i] = (int)i;
  qsort_r(order, m, sizeof *order, by_lines, &(line_order){items, idx});
  size_t alloc = 0;
  int rc = QR_OK;
  *pairs = NULL;
  *n = 0;
  for (size_t a = 0; !rc && a < m; a++) {
    const qr_finding *x = &items[idx[order[a]]];
    for (size_t b = a + 1; !rc && b < m && b <= a + MAX_NEIGHBOURS; b++) {
      const qr_finding *y = &items[idx[order[b]]];
      if (y->start_line > x->end_line + 1) break; /* so do all later ones */
      if (qr_judge_lines_near(x, y, 1)) rc = push_pair(pairs, n, &alloc, order[a], order[b]);
    }
  }
  if (!rc) rc = duplicate_pairs(&(line_order){items, idx}, order, m, pairs, n, &alloc);
  qr_free(order);
  *alloc_out = alloc;
  return rc;
}

typedef struct def_entry {
  const char *name; /* borrowed from merge_ctx.defs */
  int pos;
} def_entry;

static int by_def_name(const void *a, const void *b) {
  const def_entry *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : x->pos - y->pos;
}

static int by_pair(const void *a, const void *b) {
  const int *x = a, *y = b;
  return x[0] != y[0] ? x[0] - y[0] : x[1] - y[1];
}

/* Appends to pairs (2·*n ints, *alloc of them grown) the pairs not line-near where one finding
 * names, from outside, the definition the other is in; each finding looks at most
 * MAX_NEIGHBOURS findings per name. The names are looked up in the definitions sorted by name. */
static int definition_pairs(const merge_ctx *mc, size_t m, int **pairs, size_t *n, size_t *alloc) {
  def_entry *d = qr_malloc((m ? m : 1) * sizeof *d);
  if (!d) return QR_E_NOMEM;
  size_t nd = 0, first = *n;
  for (size_t i = 0; i < m; i++)
    if (mc->defs[i].name[0]) d[nd++] = (def_entry){mc->defs[i].name, (int)i};
  if (nd) qsort(d, nd, sizeof *d, by_def_name);
  int rc = QR_OK;
  for (size_t x = 0; nd && !rc && x < m; x++) {
    const vec *v = &mc->feat->vecs[mc->idx[x]];
    for (size_t k = 0; !rc && k < v->n; k++) {
      if (!v->t[k].code) continue;
      const char *w = qr_judge_vocab_text(&mc->feat->vocab, v->t[k].id), *last = w;
      for (const char *p = w; *p; p++)
        if (strchr(".>:", *p)) last = p + 1;
      size_t lo = 0, hi = nd;
      while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(d[mid].name, last) < 0) lo = mid + 1;
        else hi = mid;
      }
      for (size_t e = lo; !rc && e < nd && e < lo + MAX_NEIGHBOURS && !strcmp(d[e].name, last); e++) {
        int y = d[e].pos;
        const qr_finding *fx = &mc->in->items[mc->idx[x]], *fy = &mc->in->items[mc->idx[y]];
        if (y == (int)x || qr_judge_lines_near(fx, fy, 1) || !names_definition_of(mc, (int)x, y))
          continue;
        rc = push_pair(pairs, n, alloc, (int)x, y);
      }
    }
  }
  qr_free(d);
  if (rc || *n == first) return rc;
  int *p = *pairs + 2 * first; /* a pair may be found from both ends: keep it once */
  size_t k = *n - first, u = 0;
  qsort(p, k, 2 * sizeof *p, by_pair);
  for (size_t i = 0; i < k; i++)
    if (!u || p[2 * i] != p[2 * (u - 1)] || p[2 * i + 1] != p[2 * (u - 1) + 1]) {
      p[2 * u] = p[2 * i];
      p[2 * u + 1] = p[2 * i + 1];
      u++;
    }
  *n = first + u;
  return QR_OK;
}

static void cluster_set_free(cluster_set *c) {
  for (size_t i = 0; i < c->m; i++) {
    if (c->adj) qr_free(c->adj[i].v);
    if (c->passes) qr_free(c->passes[i].v);
  }
  qr_free(c->next);
  qr_free(c->tail);
  qr_free(c->size);
  qr_free(c->joined);
  qr_free(c->step);
  qr_free(c->adj);
  qr_free(c->degree);
  qr_free(c->passes);
  qr_free(c->bonds.slots);
  qr_free(c->heap.items);
}

/* One cluster per finding, each with its sorted distinct passes, and a link map sized for
 * `links` pairs (links only ever shrink as clusters merge). */
static int cluster_set_init(cluster_set *c, const qr_finding *items, const size_t *idx, size_t m,
                            size_t links) {
  memset(c, 0, sizeof *c);
  c->m = m;
  c->idx = idx;
  c->next = qr_malloc(m * sizeof *c->next);
  c->tail = qr_malloc(m * sizeof *c->tail);
  c->size = qr_malloc(m * sizeof *c->size);
  c->joined = qr_malloc(m * sizeof *c->joined);
  c->step = qr_malloc(m * sizeof *c->step);
  c->adj = qr_calloc(m, sizeof *c->adj);
  c->degree = qr_calloc(m, sizeof *c->degree);
  c->passes = qr_calloc(m, sizeof *c->passes);
  size_t slots = 16;
  while (slots < 2 * links + 2) slots *= 2;
  c->bonds.slots = qr_calloc(slots, sizeof *c->bonds.slots);
  c->bonds.mask = slots - 1;
  if (!c->next || !c->tail || !c->size || !c->joined || !c->step || !c->adj || !c->degree || !c->passes || !c->bonds.slots)
    return QR_E_NOMEM;
  for (size_t i = 0; i < m; i++) {
    const qr_finding *x = &items[idx[i]];
    c->next[i] = -1;
    c->tail[i] = (int)i;
    c->size[i] = 1;
    c->joined[i] = -1;
    int_list *p = &c->passes[i];
    for (size_t s = 0; s < x->n_sources; s++)
      if (qr_judge_int_list_push(p, x->sources[s].pass)) return QR_E_NOMEM;
    if (p->n) qsort(p->v, (size_t)p->n, sizeof *p->v, cmp_int);
    int w = 0;
    for (int k = 0; k < p->n; k++)
      if (!w || p->v[w - 1] != p->v[k]) p->v[w++] = p->v[k];
    p->n = w;
  }
  return QR_OK;
}

/* Passes that saw `file`: its coverage entry (the last one naming it), else all of them. */
static int passes_seeing(const merge_ctx *mc, const char *file) {
  int seeing = mc->all_passes;
  for (size_t i = 0; i < mc->n_cov; i++)
    if (mc->cov[i].file && !strcmp(mc->cov[i].file, file)) seeing = mc->cov[i].passes;
  return seeing;
}

/* Clusters the findings `idx[0..m)` (all of one file) and appends their merged findings. */
static int merge_file(merge_ctx *mc, const size_t *idx, size_t m, qr_finding_list *out) {
  const qr_finding *items = mc->in->items;
  int *pairs = NULL;
  size_t n_pairs = 0, alloc = 0;
  cluster_set c = {0};
  mc->idx = idx;
  mc->seeing = passes_seeing(mc, items[idx[0]].file);
  mc->sfile = qr_snapshot_find(mc->snap, items[idx[0]].file);
  mc->tree = mc->sfile ? qr_judge_parse(mc->sfile->lang, mc->sfile->text, mc->sfile->len) : NULL;
  mc->defs = qr_calloc(m, sizeof *mc->defs);
  int rc = mc->defs ? QR_OK : QR_E_NOMEM;
  for (size_t i = 0; !rc && mc->tree && i < m; i++)
    qr_judge_definition_at(mc->tree, mc->sfile, items[idx[i]].start_line, &mc->defs[i]);
  if (!rc) rc = near_pairs(items, idx, m, &pairs, &n_pairs, &alloc);
  if (!rc) rc = definition_pairs(mc, m, &pairs, &n_pairs, &alloc);
  if (!rc) rc = cluster_set_init(&c, items, idx, m, n_pairs);
  c.constraint = member_constraint;
  c.constraint_ctx = mc;
  for (size_t p = 0; !rc && p < n_pairs; p++) {
    int i = pairs[2 * p], j = pairs[2 * p + 1];
    if (distinct_checks(&items[idx[i]], &items[idx[j]])) continue;
    rc = qr_judge_bond_add(&c, i, j, link_similarity(mc, i, j, link_of(mc, i, j)), 1);
  }
  qr_free(pairs);
  if (!rc) rc = qr_judge_agglomerate(&c);
  for (size_t i = 0; !rc && i < m; i++) {
    if (!c.size[i]) continue;
    qr_finding f;
    rc = merge_cluster(mc, &c, (int)i, &f);
    if (!rc) rc = qr_finding_list_push(out, &f);
    qr_finding_clear(&f);
  }
  if (mc->tree) ts_tree_delete(mc->tree);
  mc->tree = NULL;
  qr_free(mc->defs);
  mc->defs = NULL;
  cluster_set_free(&c);
  return rc;
}

/* ---- ordering and filtering -------------------------------------------------------------- */

static int by_file_line(const void *a, const void *b) {
  const qr_finding *x = a, *y = b;
  int c = strcmp(x->file, y->file);
  if (c) return c;
  if (x->start_line != y->start_line) return x->start_line - y->start_line;
  if (x->end_line != y->end_line) return x->end_line - y->end_line;
  return strcmp(x->message, y->message);
}

static int by_importance(const void *a, const void *b) {
  const qr_finding *x = a, *y = b;
  double sx = x->severity * x->confidence, sy = y->severity * y->confidence;
  if (sx != sy) return sx < sy ? 1 : -1;
  if (x->votes != y->votes) return y->votes - x->votes;
  return by_file_line(a, b);
}

static int by_input_file(const void *a, const void *b, void *input) {
  const qr_finding_list *in = input;
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  int c = strcmp(in->items[x].file, in->items[y].file);
  return c ? c : (x > y) - (x < y);
}

void qr_judge_keep_votes(qr_finding_list *l, int min_votes) {
  size_t w = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (l->items[i].votes >= min_votes) l->items[w++] = l->items[i];
    else qr_finding_clear(&l->items[i]);
  }
  l->n = w;
}

/* Applies min_votes, min_confidence and max_findings to `l` in place. */
static void filter(qr_finding_list *l, const qr_judge_options *o) {
  size_t w = 0;
  qr_judge_keep_votes(l, o->min_votes);
  for (size_t i = 0; i < l->n; i++) {
    qr_finding *f = &l->items[i];
    if (f->confidence + 1e-12 >= o->min_confidence) l->items[w++] = *f;
    else qr_finding_clear(f);
  }
  l->n = w;
  if (o->max_findings > 0 && l->n > (size_t)o->max_findings) {
    qsort(l->items, l->n, sizeof *l->items, by_importance);
    while (l->n > (size_t)o->max_findings) qr_finding_clear(&l->items[--l->n]);
  }
  if (l->n) qsort(l->items, l->n, sizeof *l->items, by_file_line);
}


static int distinct_passes(const qr_finding_list *in, int *out) {
  size_t total = 0, n = 0;
  for (size_t i = 0; i < in->n; i++) total += in->items[i].n_sources;
  int *p = qr_malloc((total ? total : 1) * sizeof *p);
  if (!p) return QR_E_NOMEM;
  for (size_t i = 0; i < in->n; i++)
    for (size_t s = 0; s < in->items[i].n_sources; s++) p[n++] = in->items[i].sources[s].pass;
  if (n) qsort(p, n, sizeof *p, cmp_int);
  *out = 0;
  for (size_t i = 0; i < n; i++) *out += !i || p[i] != p[i - 1];
  qr_free(p);
  return QR_OK;
}

int qr_judge_consensus(const qr_finding_list *in, const qr_snapshot *snap,
                       const qr_judge_coverage *cov, size_t n_cov, const qr_judge_options *o,
                       qr_finding_list *out, qr_err *e) {
  static const qr_judge_options defaults = {1, 0.0, 0};
  if (!in || !out) return qr_err_set(e, QR_E_INVAL, "no findings to merge");
  if (in->n > MAX_INPUT)
    return qr_err_set(e, QR_E_TOOBIG, "%zu findings exceed the merge's cap of %d", in->n, MAX_INPUT);
  if (!o) o = &defaults;
  features feat = {0};
  qr_finding_list merged;
  qr_finding_list_init(&merged);
  merge_ctx mc = {in, snap, &feat, cov, n_cov, 0, 0, NULL, NULL, NULL, NULL};
  size_t *idx = qr_malloc((in->n ? in->n : 1) * sizeof *idx);
  int rc = idx ? distinct_passes(in, &mc.all_passes) : QR_E_NOMEM;
  if (!rc) {
    for (size_t i = 0; i < in->n; i++) idx[i] = i;
    if (in->n) qsort_r(idx, in->n, sizeof *idx, by_input_file, (void *)in);
    rc = qr_judge_features_build(in, idx, snap, &feat);
  }
  for (size_t a = 0, b; !rc && a < in->n; a = b) {
    for (b = a + 1; b < in->n && !strcmp(in->items[idx[a]].file, in->items[idx[b]].file); b++) {}
    rc = merge_file(&mc, idx + a, b - a, &merged);
  }
  if (!rc) {
    filter(&merged, o);
    size_t base = out->n;
    for (size_t i = 0; !rc && i < merged.n; i++) rc = qr_finding_list_push(out, &merged.items[i]);
    if (rc)
      while (out->n > base) qr_finding_clear(&out->items[--out->n]);
  }
  qr_finding_list_free(&merged);
  qr_judge_features_free(&feat);
  qr_free(idx);
  return rc ? qr_err_set(e, rc, "consensus merge failed: %s", qr_strerror(rc)) : QR_OK;
}

/* Whether `later` carries `earlier` on: the same file, lines within ±1, and every source of
 * `earlier` (pass and model: one rule pack pass speaks for many rules) among its sources, so
 * its votes did not drop. */
static bool carried_on(const qr_finding *earlier, const qr_finding *later) {
  if (strcmp(earlier->file, later->file) || !qr_judge_lines_near(earlier, later, 1)) return false;
  for (size_t i = 0; i < earlier->n_sources; i++) {
    bool found = false;
    for (size_t k = 0; k < later->n_sources && !found; k++)
      found = later->sources[k].pass == earlier->sources[i].pass &&
              !strcmp(later->sources[k].model, earlier->sources[i].model);
    if (!found) return false;
  }
  return true;
}

int qr_judge_carry(const qr_finding_list *before, qr_finding_list *now) {
  size_t n = now->n;
  for (size_t i = 0; i < before->n; i++) {
    bool kept = false;
    for (size_t k = 0; k < n && !kept; k++) kept = carried_on(&before->items[i], &now->items[k]);
    qr_finding copy;
    if (kept) continue;
    if (qr_finding_copy(&copy, &before->items[i])) return QR_E_NOMEM;
    if (qr_finding_list_push(now, &copy)) {
      qr_finding_clear(&copy);
      return QR_E_NOMEM;
    }
  }
  return QR_OK;
}
