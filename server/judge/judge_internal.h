/* judge_internal.h — what the files of the consensus merge share; not part of judge.h, only
 * server/judge/ includes it. The merge (judge.c) sits on top: it turns findings into terms and
 * compares them (judge_terms.c), clusters them (judge_cluster.c) and fingerprints them with the
 * enclosing definitions tree-sitter finds (judge_fix.c, which also checks that fixes parse).
 * None of those calls judge.c; the model judge (judge_model.c) stands apart. */
#ifndef QR_JUDGE_INTERNAL_H
#define QR_JUDGE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <tree_sitter/api.h>

#include "change/languages.h"
#include "judge/judge.h"

#define MAX_TERM 64               /* longer tokens are cut; they still compare equal to themselves */

/* ---- terms and similarity (judge_terms.c) ------------------------------------------------ */

/* The concept table's words, sorted for binary search: as written (`raw`) and with the plain
 * English words stemmed like the prose they meet (`stemmed`). Built once per merge. */
typedef struct concept_word {
  char word[MAX_TERM + 1];
  size_t concept; /* index in concepts[]: the first listed wins when a word is in two */
} concept_word;

typedef struct concept_index {
  concept_word *raw, *stemmed;
  size_t n;
} concept_index;

/* Every distinct term text of the review, interned by an open-addressing hash map. */
typedef struct vocab {
  qr_buf text;   /* the texts, each NUL-terminated */
  size_t *off;   /* per id: where its text starts in `text` */
  int *slots;    /* id + 1, 0 when free; a power of two long */
  size_t n, alloc, n_slots;
} vocab;

typedef struct term {
  double w;
  int id; /* vocabulary id; once numbered, ids follow text order */
  bool concept, code;
} term;

typedef struct vec {
  const term *t; /* the finding's terms, sorted by id, one per id */
  size_t n;
  double norm;
  int subject; /* id + 1 of the first code its message names, its subject ("`fp` stays open"); 0: none */
  bool has_concept, has_code;
} vec;

typedef struct features {
  vocab vocab;             /* after numbering, `off` is indexed by the final ids */
  concept_index concepts;
  term *terms;             /* every finding's terms, one finding after another */
  size_t n_terms, alloc_terms;
  vec *vecs;               /* one per finding */
} features;

/* FNV-1a of s[0..n): the vocabulary's hash, also the fingerprint's. */
uint64_t qr_judge_hash(const char *s, size_t n);
/* The text of term `id`. Borrowed from v. */
const char *qr_judge_vocab_text(const vocab *v, int id);
/* The terms and vectors of the findings in->items[idx[0..n)] (see judge_terms.c); f is
 * initialized here and freed with qr_judge_features_free. */
int qr_judge_features_build(const qr_finding_list *in, const size_t *idx, const qr_snapshot *snap,
                            features *f);
void qr_judge_features_free(features *f);
/* How alike two findings' texts are, in [0,1]; `overlap`: their lines overlap. */
double qr_judge_similarity(const vec *a, const vec *b, bool overlap);
/* 1, or a factor below 1 when each message's subject (the first code it names) is another and
 * absent from the other message: "buf leaks on fread failure" and "`fp` stays open when
 * `fread` returns short" share a call but are about two objects. */
double qr_judge_subject_factor(const vec *a, const vec *b);
/* True when both findings name code in their messages and none of it is the same. */
bool qr_judge_names_apart(const vec *a, const vec *b);
/* 1, or a factor below 1 when findings on different lines each name code that is on their own
 * line and not the other's, and one of them names none of the other's: `strcpy(e->key, key)`
 * at line 50 and `malloc(strlen(value))` at 51 are two statements even when both "overflow". */
double qr_judge_code_factor(const vocab *voc, const vec *a, const qr_finding *fa, const vec *b,
                            const qr_finding *fb, const qr_snapshot_file *sf);
/* Up to `max` terms a and b share, concepts first, then code, then words; texts borrowed from
 * voc. Returns how many. */
size_t qr_judge_shared_terms(const vocab *voc, const vec *a, const vec *b, const char **out,
                             size_t max);
/* True when the code on f's own lines holds `word` (lower-case) as a whole identifier. */
bool qr_judge_lines_name(const qr_snapshot_file *sf, const qr_finding *f, const char *word);
/* True when the line ranges of a and b are within `slack` lines of each other. */
bool qr_judge_lines_near(const qr_finding *a, const qr_finding *b, int slack);

/* ---- clustering (judge_cluster.c) -------------------------------------------------------- */

/* The summed similarity of the line-near member pairs between two live clusters (by leader),
 * and how many there are; kept in an open-addressing map keyed by the leader pair. */
typedef struct bond {
  uint64_t key; /* (i << 32) | j with i < j; 0 marks a free slot (i < j makes it no pair) */
  double sum;
  int cnt;
} bond;

typedef struct bond_map {
  bond *slots;
  size_t mask;
} bond_map;

/* A merge the heap offers: pair (i, j), i < j, with average similarity s over cnt pairs. */
typedef struct candidate {
  double s;
  int i, j, cnt;
} candidate;

typedef struct heap {
  candidate *items;
  size_t n, alloc;
} heap;

typedef struct int_list {
  int *v;
  int n;
  size_t alloc;
} int_list;

typedef struct cluster_set {
  size_t m;          /* findings of this file */
  const size_t *idx; /* their indexes in the input */
  int *next, *tail;  /* member chains: leader → … → -1, and each chain's last member */
  int *size;         /* per leader; 0 once merged away */
  int *joined;       /* per member: the leader its cluster was merged into, -1 while a leader */
  int *step;         /* per member: when (merges so far) its cluster was merged away */
  int steps;
  int_list *adj;     /* per leader: linked leaders (merged-away ones are dropped lazily) */
  int *degree;       /* per leader: live links */
  int_list *passes;  /* per leader: the distinct passes of its members, sorted */
  bond_map bonds;
  heap heap;
  /* How members i and j (positions) of clusters sharing a pass constrain a merge; NULL: every
   * such pair is QR_PAIR_STRICT. */
  int (*constraint)(const void *ctx, int i, int j);
  const void *constraint_ctx;
} cluster_set;

int qr_judge_int_list_push(int_list *l, int x); /* 0 or QR_E_NOMEM */
/* Adds `cnt` line-near pairs of summed similarity `sum` between the clusters led by i and j. */
int qr_judge_bond_add(cluster_set *c, int i, int j, double sum, int cnt);
/* What two members of clusters that share a pass mean for their merge: nothing, a stricter
 * threshold (one pass's findings on the same lines: more likely two problems than one told
 * twice), or never (c->constraint decides). */
enum { QR_PAIR_FREE, QR_PAIR_STRICT, QR_PAIR_APART };
/* Merges clusters, best pair first, while the best average similarity reaches the threshold
 * (the stricter one, or none, as c->constraint says for clusters sharing a pass). */
int qr_judge_agglomerate(cluster_set *c);

/* ---- tree-sitter (judge_fix.c) ----------------------------------------------------------- */

/* The syntax tree of text in lang (ts_tree_delete it), or NULL without a grammar. */
TSTree *qr_judge_parse(const qr_language *lang, const char *text, size_t len);
/* Appends the names of the definitions enclosing `line` of f to out, outermost first. */
int qr_judge_enclosing_path(TSTree *tree, const qr_snapshot_file *f, int line, qr_buf *out);

/* The innermost definition (function, method, class, …) enclosing a line: its name, lower-case,
 * and its lines; name "" when there is none (or no grammar). */
typedef struct qr_judge_def {
  char name[MAX_TERM + 1];
  int start_line, end_line;
} qr_judge_def;
void qr_judge_definition_at(TSTree *tree, const qr_snapshot_file *f, int line, qr_judge_def *out);

#endif
