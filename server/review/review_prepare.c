/* review_prepare.c — everything a review builds before its first request: the parsed diff
 * narrowed by the repository's config, the new side, generated files left out, the context,
 * the plan, the passes, the cache keys and the accounting (ledger, cache, budgets). */
#include <string.h>

#include "review/review_internal.h"

/* Tokens of a pass's prompt without code (system part + strategy + the repository's
 * instructions), the largest over all passes: limits.max_input_tokens_per_pass covers the
 * whole request, the chunks the rest. */
static int prompt_overhead(const qr_config *cfg, const char *repo_suffix) {
  int max = 0;
  for (size_t i = 0; i < cfg->n_passes; i++) {
    qr_prompt p = {0};
    if (!cfg->passes[i].s || qr_prompt_build(cfg->passes[i].s, "", &p, NULL)) continue;
    int n = qr_estimate_tokens(p.system, strlen(p.system)) + qr_estimate_tokens(p.user, strlen(p.user));
    if (repo_suffix) n += qr_estimate_tokens(repo_suffix, strlen(repo_suffix));
    max = QR_MAX(max, n);
    qr_prompt_clear(&p);
  }
  return max;
}

/* One pass_state per configured pass, plus the rule pack when enabled. Local passes get one
 * "request" when the change has a reviewable file (their only unit of work). */
static int init_passes(qr_review *r, const qr_review_params *p, qr_err *e) {
  const qr_config *cfg = r->cfg;
  bool rules = cfg->rules.enabled;
  if (rules && !p->rules) {
    int rc = qr_rules_load((const char *const *)cfg->rules.folders, cfg->rules.n_folders,
                           &r->own_rules, e);
    if (rc) return rc;
  }
  r->rules = p->rules ? p->rules : r->own_rules;
  r->n_passes = cfg->n_passes + (rules ? 1 : 0);
  r->passes = qr_calloc(r->n_passes, sizeof *r->passes);
  r->tool_runs = qr_calloc(r->n_passes, sizeof *r->tool_runs);
  if (!r->passes || !r->tool_runs) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  int work = r->snap->n_files > 0;
  for (size_t i = 0; i < r->n_passes; i++) {
    pass_state *ps = &r->passes[i];
    const qr_config_pass *cp = i < cfg->n_passes ? &cfg->passes[i] : NULL;
    ps->review = r;
    ps->status = "ok";
    ps->local = !cp || cp->tool;
    ps->tool = cp ? cp->tool : NULL;
    ps->strategy = !cp ? "tree-sitter" : cp->tool ? "analyzer" : cp->strategy;
    ps->model = !cp ? qr_strdup("rules") : cp->tool ? qr_asprintf("tool:%s", cp->tool)
                                                    : qr_strdup(cp->model);
    if (!ps->model) return qr_err_set(e, QR_E_NOMEM, "out of memory");
    if (cp && !cp->tool && !qr_repo_config_allows_strategy(r->repo, cp->strategy)) {
      ps->narrowed = true;
      ps->status = "skipped";
      ps->error = qr_asprintf("strategy not among those %s asks for", r->repo->path);
      if (!ps->error) return qr_err_set(e, QR_E_NOMEM, "out of memory");
    }
    if (ps->local) {
      ps->requests = work;
      r->n_local += (size_t)work;
    }
  }
  return QR_OK;
}

/* The ledger, the day's spend for the budget, and the cache. None is required: a review whose
 * ledger or cache cannot be opened goes on without it (and says so in the log). */
static void open_accounting(qr_review *r) {
  const qr_config *cfg = r->cfg;
  qr_err e = {0};
  qr_ledger_review_id(r->review_id);
  if (qr_ledger_open(NULL, &r->ledger, &e)) QR_WARN("ledger: %s (calls are not recorded)", e.msg);
  double spent = 0;
  e.msg[0] = '\0';
  if (cfg->limits.max_usd_per_day > 0 &&
      qr_ledger_spent_since(NULL, qr_budget_day_start(time(NULL)), &spent, &e))
    QR_WARN("ledger: %s (today's spend counted as 0)", e.msg);
  qr_budget_init(&r->budget, cfg->limits.max_usd_per_review, cfg->limits.max_usd_per_day, spent);
  e.msg[0] = '\0';
  if (cfg->limits.max_usd_per_day > 0 &&
      qr_reserve_open(r->ledger ? qr_ledger_path(r->ledger) : NULL, &r->reserve, &e))
    QR_WARN("budget: %s (today's spend counted by this review alone)", e.msg);
  e.msg[0] = '\0';
  if (cfg->cache.enabled &&
      qr_cache_open(NULL, (size_t)cfg->cache.max_mb << 20, &r->cache, &e))
    QR_WARN("cache: %s (reviewing without a cache)", e.msg);
}

/* The repository's .quorum.json narrows the review: files it ignores leave the diff (and are
 * listed), and what it may not set is reported. A broken file is reported, never fatal. */
static int narrow_by_repository(qr_review *r, const char *config_root, qr_err *e) {
  qr_err re = {0};
  r->notes = json_array();
  r->problems = json_array();
  if (!r->notes || !r->problems) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  if (qr_repo_config_load(config_root ? config_root : r->root, &r->repo, &re)) {
    if (re.code == QR_E_NOMEM) return qr_err_set(e, QR_E_NOMEM, "out of memory");
    if (json_array_append_new(r->notes, json_sprintf("repository config not used: %s", re.msg)))
      return qr_err_set(e, QR_E_NOMEM, "out of memory");
    r->repo = qr_calloc(1, sizeof *r->repo);
    if (!r->repo) return qr_err_set(e, QR_E_NOMEM, "out of memory");
    return QR_OK;
  }
  for (size_t i = 0; i < r->repo->n_warnings; i++)
    if (json_array_append_new(r->notes, json_string(r->repo->warnings[i])))
      return qr_err_set(e, QR_E_NOMEM, "out of memory");
  for (size_t i = 0; i < r->diff->n_files;) {
    const char *path = r->diff->files[i].path;
    if (!qr_repo_config_ignores(r->repo, path)) {
      i++;
      continue;
    }
    if (json_array_append_new(r->notes, json_sprintf("%s: ignored by %s", path, r->repo->path)))
      return qr_err_set(e, QR_E_NOMEM, "out of memory");
    qr_diff_remove(r->diff, i);
  }
  return QR_OK;
}

/* What the repository's instructions add to every prompt (new string), NULL when none. */
static char *repository_suffix(const qr_repo_config *repo) {
  if (!repo->instructions) return NULL;
  return qr_asprintf("\n\nInstructions from the repository's %s:\n%s", repo->path, repo->instructions);
}

/* The repository's instructions (`suffix`) follow each strategy's, at the very end of the
 * prompt, so passes still share the cached prefix. */
static int add_repository_instructions(qr_review *r, const char *suffix, qr_err *e) {
  if (!suffix) return QR_OK;
  for (size_t i = 0; i < r->plan->n_requests; i++) {
    qr_prompt *p = &r->plan->requests[i].prompt;
    char *user = qr_asprintf("%s%s", p->user, suffix);
    if (!user) return qr_err_set(e, QR_E_NOMEM, "out of memory");
    qr_free(p->user);
    p->user = user;
  }
  return QR_OK;
}

/* Generated, vendored, lock and minified files leave the diff before anything is planned
 * (change/generated.h), named in omitted_files; the user's config may bring them back. */
static int leave_out_generated(qr_review *r, qr_err *e) {
  const qr_config_review *c = &r->cfg->review;
  qr_generated_opts o = {c->include_generated, (const char *const *)c->include, c->n_include,
                         r->staged};
  return qr_generated_leave_out(r->diff, r->snap, r->root, &o, &r->omitted_snapshot, e);
}

/* Says once per pass that it sends the same requests as an earlier pass, and that its votes
 * still come from answers of its own (request_key.h). */
static int note_twin(qr_review *r, pass_state *ps, size_t earlier, qr_err *e) {
  if (ps->twin) return QR_OK;
  ps->twin = (int)earlier + 1;
  const pass_state *first = &r->passes[earlier];
  if (json_array_append_new(r->notes,
                            json_sprintf("%s × %s sends the same requests as %s × %s: each pass's "
                                         "requests are sent (and cached) on their own, so one "
                                         "answer never counts as two votes",
                                         ps->model, ps->strategy, first->model, first->strategy)))
    return qr_err_set(e, QR_E_NOMEM, "out of memory");
  return QR_OK;
}

/* Each request's cache key. A request byte-identical to earlier ones of this review is a
 * further sample of the same question: it gets a key of its own and is sent on its own. */
static int key_requests(qr_review *r, qr_err *e) {
  size_t n = r->plan->n_requests;
  char(*same)[QR_CACHE_KEY_SIZE] = qr_calloc(n ? n : 1, sizeof *same);
  if (!same) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  int rc = QR_OK;
  for (size_t i = 0; !rc && i < n; i++) {
    const qr_plan_request *req = &r->plan->requests[i];
    const qr_config_model *m = r->cfg->passes[req->pass].m;
    rc = qr_request_key(m, &req->prompt, 0, same[i], e);
    int sample = 0;
    for (size_t j = 0; !rc && j < i; j++) {
      if (strcmp(same[i], same[j])) continue;
      if (!sample++) rc = note_twin(r, &r->passes[req->pass], (size_t)r->plan->requests[j].pass, e);
    }
    if (rc) break;
    if (sample) rc = qr_request_key(m, &req->prompt, sample, r->slots[i].key, e);
    else memcpy(r->slots[i].key, same[i], QR_CACHE_KEY_SIZE);
  }
  qr_free(same);
  return rc;
}

/* How many entries of `omitted` ("path: reason") give `reason`. */
static size_t count_reason(char **omitted, const char *reason) {
  size_t n = 0, rl = strlen(reason);
  for (char **o = omitted; o && *o; o++) {
    size_t ol = strlen(*o);
    n += ol > rl + 2 && !strcmp(*o + ol - rl, reason) && !memcmp(*o + ol - rl - 2, ": ", 2);
  }
  return n;
}

/* Files the root holds at another version than the diff's new side (a --diff with the wrong
 * --root) are left out, and said in the errors; when that is every file, the review is refused
 * rather than run on nothing. */
static int check_new_side(qr_review *r, qr_err *e) {
  size_t stale = count_reason(r->omitted_snapshot, QR_SNAPSHOT_NOT_NEW_SIDE), files = 0;
  if (!stale) return QR_OK;
  for (size_t i = 0; i < r->diff->n_files; i++) files += qr_diff_file_reviewable(&r->diff->files[i]);
  if (stale == files)
    return qr_err_set(e, QR_E_INVAL, "the files under %s are not the diff's new side (the root "
                      "holds another version): check out the change, or pass its --root", r->root);
  if (json_array_append_new(r->problems,
                            json_sprintf("%zu of %zu files not reviewed: the root holds another "
                                         "version than the diff's new side (see omitted_files)",
                                         stale, files)))
    return qr_err_set(e, QR_E_NOMEM, "out of memory");
  return QR_OK;
}

/* Builds everything the requests need; errors here are input errors (never a partial review). */
int qr_review_prepare(qr_review *r, const qr_review_params *p, qr_err *e) {
  size_t cap = p->max_diff_bytes ? p->max_diff_bytes : DEFAULT_MAX_DIFF;
  int rc = qr_diff_parse(p->diff, p->diff_len, cap, &r->diff, e);
  if (rc) return rc;
  rc = narrow_by_repository(r, p->repo_config_root, e);
  if (rc) return rc;
  if (!r->snap) {
    rc = qr_snapshot_from_diff(r->diff, r->root, MAX_FILE_BYTES, &r->snap, &r->omitted_snapshot, e);
    if (!rc) rc = check_new_side(r, e);
  }
  if (!rc) rc = leave_out_generated(r, e);
  if (rc) return rc;
  char *suffix = repository_suffix(r->repo);
  if (r->repo->instructions && !suffix) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  int budget = r->cfg->limits.max_input_tokens_per_pass - prompt_overhead(r->cfg, suffix);
  if (budget < MIN_CHUNK_TOKENS)
    rc = qr_err_set(e, QR_E_CONFIG,
                    "limits.max_input_tokens_per_pass (%d) leaves no room for code after the prompt%s",
                    r->cfg->limits.max_input_tokens_per_pass,
                    suffix ? " and the repository's instructions" : "");
  if (!rc) rc = qr_context_build(r->diff, r->snap, budget, &r->ctx, e);
  if (!rc) rc = qr_plan_build(r->cfg, r->ctx, &r->plan, e);
  if (!rc) rc = add_repository_instructions(r, suffix, e);
  qr_free(suffix);
  if (rc) return rc;
  r->slots = qr_calloc(r->plan->n_requests, sizeof *r->slots);
  if (!r->slots) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  rc = init_passes(r, p, e);
  if (!rc) rc = key_requests(r, e);
  if (rc) return rc;
  open_accounting(r);
  for (size_t i = 0; i < r->plan->n_requests; i++) r->passes[r->plan->requests[i].pass].requests++;
  return QR_OK;
}
