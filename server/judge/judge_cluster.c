/* judge_cluster.c — average-linkage agglomerative clustering of one file's findings: the links
 * between clusters in a sparse map, the next merge from a heap (exactly the pair a full scan
 * would pick). */
#include "judge/judge_internal.h"

#include <string.h>

/* Clustering thresholds on the similarity in [0,1]. Merging two clusters that already hold
 * findings of the same pass needs more: a pass rarely reports one problem twice, so its two
 * findings on one line are more likely two problems. */
#define MERGE_THRESHOLD 0.2
#define SAME_PASS_THRESHOLD 0.3
#define MAX_CONSTRAINT_CHECK 64 /* members of each cluster checked against the other's */

/* ---- clustering -------------------------------------------------------------------------- */

static uint64_t bond_key(int i, int j) {
  return i < j ? (uint64_t)i << 32 | (uint32_t)j : (uint64_t)j << 32 | (uint32_t)i;
}

static size_t bond_home(const bond_map *m, uint64_t key) {
  key ^= key >> 33; /* murmur3's finaliser */
  key *= 0xff51afd7ed558ccdull;
  key ^= key >> 33;
  return (size_t)key & m->mask;
}

/* The slot of pair (i, j): the bond, or the free slot where it would go. */
static bond *bond_slot(const bond_map *m, int i, int j) {
  uint64_t key = bond_key(i, j);
  size_t s = bond_home(m, key);
  while (m->slots[s].key && m->slots[s].key != key) s = (s + 1) & m->mask;
  return &m->slots[s];
}

/* Frees `b`'s slot, moving later entries of its probe run back (no tombstones). */
static void bond_remove(bond_map *m, bond *b) {
  size_t i = (size_t)(b - m->slots);
  for (size_t j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
    size_t home = bond_home(m, m->slots[j].key);
    if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
      m->slots[i] = m->slots[j];
      i = j;
    }
  }
  m->slots[i] = (bond){0};
}

/* The order a full scan would pick: highest similarity, then lowest i, then lowest j. */
static bool first(const candidate *a, const candidate *b) {
  if (a->s != b->s) return a->s > b->s;
  return a->i != b->i ? a->i < b->i : a->j < b->j;
}

static int heap_push(heap *h, candidate c) {
  if (qr_grow(&h->items, &h->alloc, h->n + 1, sizeof *h->items, 64)) return QR_E_NOMEM;
  size_t i = h->n++;
  for (; i && first(&c, &h->items[(i - 1) / 2]); i = (i - 1) / 2) h->items[i] = h->items[(i - 1) / 2];
  h->items[i] = c;
  return QR_OK;
}

static candidate heap_pop(heap *h) {
  candidate top = h->items[0], last = h->items[--h->n];
  size_t i = 0;
  for (;;) {
    size_t k = 2 * i + 1;
    if (k >= h->n) break;
    if (k + 1 < h->n && first(&h->items[k + 1], &h->items[k])) k++;
    if (!first(&h->items[k], &last)) break;
    h->items[i] = h->items[k];
    i = k;
  }
  if (h->n) h->items[i] = last;
  return top;
}

int qr_judge_int_list_push(int_list *l, int x) {
  if (qr_grow(&l->v, &l->alloc, (size_t)l->n + 1, sizeof *l->v, 4)) return QR_E_NOMEM;
  l->v[l->n++] = x;
  return QR_OK;
}

static bool share_pass(const cluster_set *c, int a, int b) {
  const int_list *x = &c->passes[a], *y = &c->passes[b];
  for (int i = 0, j = 0; i < x->n && j < y->n;) {
    if (x->v[i] == y->v[j]) return true;
    if (x->v[i] < y->v[j]) i++;
    else j++;
  }
  return false;
}

/* Offers pair (i, j) to the heap when its average could merge it. */
static int offer(cluster_set *c, int i, int j, const bond *b) {
  double s = b->sum / b->cnt;
  if (s < MERGE_THRESHOLD) return QR_OK;
  return heap_push(&c->heap, (candidate){s, QR_MIN(i, j), QR_MAX(i, j), b->cnt});
}

/* Records `k` as linked to `x`, dropping merged-away entries when they pile up. */
static int link_to(cluster_set *c, int x, int k) {
  int_list *l = &c->adj[x];
  if (l->n >= 2 * c->degree[x] + 16) {
    int w = 0;
    for (int t = 0; t < l->n; t++)
      if (c->size[l->v[t]]) l->v[w++] = l->v[t];
    l->n = w;
  }
  c->degree[x]++;
  return qr_judge_int_list_push(l, k);
}

/* The bond of (i, j) when new; adds `sum` over `cnt` pairs and offers the pair for merging. */
int qr_judge_bond_add(cluster_set *c, int i, int j, double sum, int cnt) {
  bond *b = bond_slot(&c->bonds, i, j);
  int rc = QR_OK;
  if (!b->key) {
    *b = (bond){bond_key(i, j), 0.0, 0};
    rc = link_to(c, i, j);
    if (!rc) rc = link_to(c, j, i);
  }
  b->sum = b->sum + sum; /* a + b == b + a: the same sums as the full m×m table */
  b->cnt += cnt;
  return rc ? rc : offer(c, i, j, b);
}

/* The union of two sorted pass lists into `a`. */
static int merge_passes(int_list *a, const int_list *b) {
  int_list u = {qr_malloc((size_t)QR_MAX(a->n + b->n, 1) * sizeof(int)), 0, a->n + b->n};
  if (!u.v) return QR_E_NOMEM;
  for (int i = 0, j = 0; i < a->n || j < b->n;) {
    int x = j >= b->n || (i < a->n && a->v[i] <= b->v[j]) ? a->v[i++] : b->v[j++];
    if (!u.n || u.v[u.n - 1] != x) u.v[u.n++] = x;
  }
  qr_free(a->v);
  *a = u;
  return QR_OK;
}

/* Merges cluster bj into bi (bi < bj): bi's link to each of bj's neighbours gains bj's. */
static int merge_pair(cluster_set *c, int bi, int bj) {
  int rc = QR_OK;
  for (int t = 0; !rc && t < c->adj[bj].n; t++) {
    int k = c->adj[bj].v[t];
    if (k == bi || !c->size[k]) continue;
    bond *e = bond_slot(&c->bonds, bj, k);
    double sum = e->sum;
    int cnt = e->cnt;
    bond_remove(&c->bonds, e);
    c->degree[k]--;
    rc = qr_judge_bond_add(c, bi, k, sum, cnt);
  }
  if (rc) return rc;
  bond_remove(&c->bonds, bond_slot(&c->bonds, bi, bj));
  c->degree[bi]--;
  qr_free(c->adj[bj].v);
  c->adj[bj] = (int_list){0};
  c->degree[bj] = 0;
  c->joined[bj] = bi;
  c->step[bj] = c->steps++;
  c->next[c->tail[bi]] = bj;
  c->tail[bi] = c->tail[bj];
  c->size[bi] += c->size[bj];
  c->size[bj] = 0;
  return merge_passes(&c->passes[bi], &c->passes[bj]);
}

/* The strictest constraint between a member of cluster a and one of b (the first
 * MAX_CONSTRAINT_CHECK of each: a pile-up of thousands keeps bounded work). */
static int constraint(const cluster_set *c, int a, int b) {
  if (!c->constraint) return QR_PAIR_STRICT;
  int n = 0, worst = QR_PAIR_FREE;
  for (int i = a; i >= 0 && n < MAX_CONSTRAINT_CHECK; i = c->next[i], n++) {
    int k = 0;
    for (int j = b; j >= 0 && k < MAX_CONSTRAINT_CHECK; j = c->next[j], k++) {
      worst = QR_MAX(worst, c->constraint(c->constraint_ctx, i, j));
      if (worst == QR_PAIR_APART) return worst;
    }
  }
  return worst;
}

/* Merges the most similar pair of clusters while one qualifies. A cluster pair's similarity is
 * the average over its member pairs whose lines are near (±1), so a problem reported at lines
 * 7, 8 and 9 still gathers, while pairs with no near members never merge. Heap entries whose
 * pair has since merged or changed are skipped; a pair refused for sharing a pass stays refused
 * until its similarity changes, since clusters only gain passes. */
int qr_judge_agglomerate(cluster_set *c) {
  while (c->heap.n) {
    candidate x = heap_pop(&c->heap);
    if (!c->size[x.i] || !c->size[x.j] || bond_slot(&c->bonds, x.i, x.j)->cnt != x.cnt) continue;
    if (share_pass(c, x.i, x.j)) {
      int k = constraint(c, x.i, x.j);
      if (k == QR_PAIR_APART || (k == QR_PAIR_STRICT && x.s < SAME_PASS_THRESHOLD)) continue;
    }
    int rc = merge_pair(c, x.i, x.j);
    if (rc) return rc;
  }
  return QR_OK;
}
