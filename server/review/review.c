/* review.c — the review orchestrator. It owns everything one review allocates: the parsed diff,
 * the snapshot, the context, the plan, the in-flight provider calls and the per-pass ledger,
 * and frees it all after the done callback. Requests start in plan order, at most
 * limits.concurrency at a time, so wall time is about the slowest pass, not the sum. */
#include "review/review_internal.h"

static void start_requests(qr_review *r);
static void finish_review(qr_review *r);
static void on_timer_closed(uv_handle_t *h);
static void on_deferred_finish(uv_timer_t *t);
static void review_free_now(qr_review *r);

/* Frees the review once its timer has closed (at once when it was never opened). */
static void review_free(qr_review *r) {
  if (!r->open_timers) {
    review_free_now(r);
    return;
  }
  uv_close((uv_handle_t *)&r->timer, on_timer_closed);
  uv_close((uv_handle_t *)&r->deadline, on_timer_closed);
}

static void review_free_now(qr_review *r) {
  if (r->passes)
    for (size_t i = 0; i < r->n_passes; i++) {
      qr_free(r->passes[i].error);
      qr_free(r->passes[i].model);
      qr_drops_free(&r->passes[i].drops);
    }
  qr_free(r->passes);
  qr_free(r->tool_runs);
  qr_rules_free(r->own_rules);
  qr_ledger_close(r->ledger);
  qr_cache_close(r->cache);
  qr_reserve_close(r->reserve);
  qr_repo_config_free(r->repo);
  json_decref(r->notes);
  json_decref(r->problems);
  qr_free(r->slots);
  qr_free(r->escalate);
  qr_plan_free(r->plan);
  qr_context_free(r->ctx);
  qr_snapshot_free_omitted(r->omitted_snapshot);
  qr_snapshot_free(r->snap);
  qr_diff_free(r->diff);
  qr_finding_list_free(&r->found);
  qr_finding_list_free(&r->merged);
  qr_finding_list_free(&r->shown);
  qr_free(r->cov);
  qr_judge_rejections_free(&r->rejected);
  json_decref(r->judge_pass);
  qr_free(r->judge_error);
  qr_free(r->root);
  qr_free(r);
}

/* Records a failed request on its pass; the first failure names the pass's error. */
static void pass_fail(pass_state *ps, int status, const char *reason, const char *message) {
  ps->failed++;
  if (ps->error) return;
  ps->status = status == QR_E_TIMEOUT ? "timeout" : "failed";
  ps->error = qr_asprintf("%s: %s", reason ? reason : qr_err_name(status),
                          message ? message : qr_strerror(status));
}

/* The pass's drop notes, named for the log. */
static qr_drops *pass_drops(pass_state *ps) {
  ps->drops.model = ps->model;
  ps->drops.strategy = ps->strategy;
  return &ps->drops;
}

static void pass_add_usage(pass_state *ps, const qr_completion *c) {
  if (!c) return;
  ps->input_tokens += c->input_tokens;
  ps->output_tokens += c->output_tokens;
  ps->cached_tokens += c->cached_tokens;
  ps->cost_usd += c->cost_usd;
}

/* Validates a pass's findings and moves the placeable ones into r->found (l is emptied),
 * counting on the pass what it found and what was dropped. Returns how many it kept. */
static int accept_findings(qr_review *r, pass_state *ps, qr_finding_list *l) {
  int pass = (int)(ps - r->passes);
  for (size_t i = 0; i < l->n; i++)
    for (size_t k = 0; k < l->items[i].n_sources; k++) l->items[i].sources[k].pass = pass;
  int dropped = qr_findings_validate(l, r->diff, r->snap, r->root, r->allow_context,
                                     RELOCATE_WINDOW, pass_drops(ps));
  if (dropped < 0) pass_fail(ps, dropped, NULL, "findings could not be checked");
  ps->findings += (int)l->n;
  for (size_t i = 0; i < l->n; i++)
    if (qr_finding_list_push(&r->found, &l->items[i])) pass_fail(ps, QR_E_NOMEM, NULL, NULL);
  for (size_t i = 0; i < l->n; i++) qr_finding_clear(&l->items[i]);
  int kept = (int)l->n;
  l->n = 0;
  return kept;
}

/* Parses and validates one request's answer into r->found, counting on its pass. Marks the
 * slot as having read its chunk (ok) and how many findings it kept. */
static bool take_answer(qr_review *r, call_slot *slot, pass_state *ps, const qr_completion *c) {
  const qr_plan_request *req = &r->plan->requests[slot->request];
  const qr_config_pass *cp = &r->cfg->passes[req->pass];
  qr_finding_list l;
  qr_finding_list_init(&l);
  qr_err e = {0};
  int rc = qr_findings_parse(c->text, strlen(c->text), cp->model, cp->strategy, req->pass, &l,
                             pass_drops(ps), &e);
  if (rc) {
    pass_fail(ps, rc, "malformed_output", e.msg);
    qr_finding_list_free(&l);
    return false;
  }
  slot->found = accept_findings(r, ps, &l);
  qr_finding_list_free(&l);
  return slot->ok = true;
}

static void report_progress(qr_review *r) {
  if (!r->progress) return;
  double cost = 0;
  for (size_t i = 0; i < r->n_passes; i++) cost += r->passes[i].cost_usd;
  r->progress(r, (int)r->finished, (int)(r->plan->n_requests + r->n_local), cost, r->data);
}

/* ---- the ledger, the cache and the budget around each call ------------------------------- */

/* Appends the slot's call to the ledger when its last attempt went out and is not recorded
 * yet: a refusal before sending (no API key, open circuit) is no request, and a cancel during
 * a retry wait ends an attempt on_call_retry recorded. A failure to write is logged. */
static void ledger_call(qr_review *r, const call_slot *slot, const char *role,
                        const char *strategy, const qr_config_model *m, const qr_completion *c,
                        const char *status, long redactions) {
  if (!r->ledger || !c || c->attempts <= slot->recorded) return;
  qr_ledger_record rec = {
      .role = role, .strategy = strategy, .model = m->alias, .model_requested = m->model,
      .model_served = c->model_served, .input_tokens = c->input_tokens,
      .output_tokens = c->output_tokens, .cached_tokens = c->cached_tokens,
      .cost_usd = c->cost_usd,
      /* a retried call's last record is its last attempt; the earlier ones have their own */
      .latency_ms = c->attempts > 1 ? c->attempt_ms : (long)(qr_now_ms() - slot->t_start),
      .status = status, .redactions = redactions, .review = r->review_id,
      .attempts = c->attempts, .usage_estimated = slot->usage_estimated};
  qr_err e = {0};
  if (qr_ledger_append(r->ledger, &rec, &e)) QR_WARN("ledger: %s", e.msg);
}

/* Whether the provider reported no usage (a stream that ended before its usage chunk, or an
 * Anthropic stream cut before message_delta, which alone counts the output): the call is then
 * charged at its estimate. */
static bool usage_unknown(const qr_completion *c) {
  return !c->cost_reported && c->output_tokens <= 0 && (c->input_tokens <= 0 || !c->complete);
}

/* Adds one sentence (owned, NULL when out of memory) to the review's errors. */
static void add_problem(qr_review *r, json_t *sentence) {
  if (!sentence || json_array_append_new(r->problems, sentence)) r->problems_lost = true;
}

/* Whether the review's errors already report a usage problem of m (once per model is enough). */
static bool overrun_told(const qr_review *r, const qr_config_model *m) {
  size_t i, n = strlen(m->alias);
  json_t *v;
  json_array_foreach(r->problems, i, v) {
    const char *s = json_string_value(v);
    if (!strncmp(s, "usage: ", 7) && !strncmp(s + 7, m->alias, n) && s[7 + n] == ' ') return true;
  }
  return false;
}

/* Reports (once per model) usage past max_output_tokens, a cost reported for a model whose
 * prices of 0 let the limits count it as free, and a negative cost or count, which is cleared:
 * true then, and the call is charged at its estimate. */
static bool check_usage(qr_review *r, const qr_config_model *m, qr_completion *c) {
  const qr_config_limits *l = &r->cfg->limits;
  bool told = overrun_told(r, m);
  if (m->max_output_tokens > 0 && c->output_tokens > m->max_output_tokens && !told)
    add_problem(r, json_sprintf("usage: %s reported %ld output tokens, past its max_output_tokens (%d)",
                                m->alias, c->output_tokens, m->max_output_tokens));
  else if (c->cost_reported && c->cost_usd > 0 && !m->price_in_per_mtok && !m->price_out_per_mtok &&
           (l->max_usd_per_review > 0 || l->max_usd_per_day > 0) && !told)
    add_problem(r, json_sprintf("usage: %s cost $%.4f but its prices are 0, so the spending limits "
                                "counted the call as free: set its price_in_per_mtok and "
                                "price_out_per_mtok", m->alias, c->cost_usd));
  if (c->input_tokens >= 0 && c->output_tokens >= 0 && c->cached_tokens >= 0 && c->cost_usd >= 0)
    return false;
  if (!overrun_told(r, m))
    add_problem(r, json_sprintf("usage: %s reported a negative cost or token count; counted as 0, "
                                "the call charged at its estimate", m->alias));
  c->input_tokens = QR_MAX(c->input_tokens, 0);
  c->output_tokens = QR_MAX(c->output_tokens, 0);
  c->cached_tokens = QR_MAX(c->cached_tokens, 0);
  c->cost_usd = 0;
  return true;
}

/* Settles what a finished call to `m` costs: an answer (2xx) without usage (or with nonsense),
 * and a call that went out and was then aborted here (canceled, deadline, timeout: the provider
 * may have billed it) are charged at the slot's estimate and flagged. */
static void settle_usage(qr_review *r, call_slot *slot, const qr_config_model *m, int status,
                         qr_completion *c) {
  if (!c) return;
  bool negative = check_usage(r, m, c);
  bool answered = c->http_status >= 200 && c->http_status <= 299;
  bool aborted = (status == QR_E_CANCELED || status == QR_E_TIMEOUT) && c->attempts > slot->recorded;
  slot->usage_estimated = (answered || aborted) && (negative || usage_unknown(c));
  if (slot->usage_estimated) c->cost_usd = slot->estimate;
}

/* Stores a successful answer under `key`: only a whole answer (a stream that reached its
 * terminator) whose usage is known, so a hit replays what a call really returned. */
static void cache_put(qr_review *r, const char *key, const qr_completion *c) {
  if (!r->cache || !key[0] || !c->complete || usage_unknown(c)) return;
  qr_cache_entry entry = {.text = c->text, .model_served = c->model_served,
                          .input_tokens = c->input_tokens, .output_tokens = c->output_tokens,
                          .cached_tokens = c->cached_tokens, .cost_usd = c->cost_usd};
  qr_err e = {0};
  if (qr_cache_put(r->cache, key, &entry, &e)) QR_WARN("cache: %s", e.msg);
}

/* The cached answer for `key` as a completion that cost nothing (a hit is not a call). */
static bool cache_get(qr_review *r, const char *key, qr_cache_entry *entry, qr_completion *c) {
  qr_err e = {0};
  if (!r->cache || !key[0] || qr_cache_get(r->cache, key, entry, &e)) return false;
  *c = (qr_completion){.text = entry->text, .model_served = entry->model_served};
  return true;
}

/* Whether the slot's estimate fits the review's budget and the day's, reserving it in the day
 * budget shared with every other review (reserve.h); why says which limit refused. Without the
 * shared state the review's own count of the day stands. */
static bool budget_allows(qr_review *r, call_slot *slot, char *why, size_t why_len) {
  if (!qr_budget_allows(&r->budget, slot->estimate, why, why_len)) return false;
  if (!r->reserve) return true;
  qr_err e = {0};
  if (qr_reserve_take(r->reserve, qr_budget_day_start(time(NULL)), r->cfg->limits.max_usd_per_day,
                      slot->estimate, &slot->reservation, why, why_len, &e)) {
    QR_WARN("budget: %s (today's spend counted by this review alone)", e.msg);
    return true;
  }
  return slot->reservation != 0;
}

/* Releases the slot's day reservation: its spend is in the ledger, or it was never sent. */
static void release_day(qr_review *r, call_slot *slot) {
  qr_reserve_release(r->reserve, slot->reservation);
  slot->reservation = 0;
}

/* Secrets redacted from what this request sent: each left a "[REDACTED:" placeholder. */
static long chunk_redactions(const qr_review *r, const qr_plan_request *req) {
  long n = 0;
  for (const char *p = r->ctx->chunks[req->chunk].text; (p = strstr(p, "[REDACTED:")); p++) n++;
  return n;
}

static void on_call_done(int status, const char *reason, const char *message, qr_completion *c,
                         void *data) {
  call_slot *slot = data;
  qr_review *r = slot->review;
  const qr_plan_request *req = &r->plan->requests[slot->request];
  pass_state *ps = &r->passes[req->pass];
  const qr_config_pass *cp = &r->cfg->passes[req->pass];
  slot->call = NULL;
  if (status == QR_E_CANCELED && r->cut) {
    status = QR_E_TIMEOUT;
    reason = "deadline";
    message = "limits.deadline_ms reached";
  }
  ps->finished++;
  ps->t_last = qr_now_ms();
  settle_usage(r, slot, cp->m, status, c);
  ps->usage_estimated += slot->usage_estimated;
  pass_add_usage(ps, c);
  qr_budget_charge(&r->budget, slot->estimate, c ? c->cost_usd : 0);
  if (status) pass_fail(ps, status, reason, message);
  else if (!take_answer(r, slot, ps, c)) reason = "malformed_output";
  slot->failed = !slot->ok;
  /* the ledger says what became of the answer, not only of the HTTP call */
  const char *outcome = status || !slot->ok ? reason : "ok";
  ledger_call(r, slot, "pass", cp->strategy, cp->m, c, outcome, chunk_redactions(r, req));
  release_day(r, slot);
  if (slot->ok) cache_put(r, slot->key, c);
  QR_INFO("pass %d (%s × %s) request %zu: %s", req->pass, ps->model, ps->strategy,
          slot->request, outcome);
  r->in_flight--;
  r->finished++;
  report_progress(r);
  start_requests(r);
}

/* A failed attempt about to be retried went out too: the ledger records it on its own. */
static void ledger_retry(qr_review *r, const char *role, const char *strategy,
                         const qr_config_model *m, const char *why, long latency_ms, int attempt,
                         long redactions) {
  if (!r->ledger) return;
  char status[96];
  snprintf(status, sizeof status, "retried: %s", why);
  qr_ledger_record rec = {.role = role, .strategy = strategy, .model = m->alias,
                          .model_requested = m->model, .latency_ms = latency_ms, .status = status,
                          .redactions = redactions, .review = r->review_id, .attempts = attempt};
  qr_err e = {0};
  if (qr_ledger_append(r->ledger, &rec, &e)) QR_WARN("ledger: %s", e.msg);
}

static void on_call_retry(const char *why, long latency_ms, int attempt, void *data) {
  call_slot *slot = data;
  qr_review *r = slot->review;
  const qr_plan_request *req = &r->plan->requests[slot->request];
  const qr_config_pass *cp = &r->cfg->passes[req->pass];
  slot->recorded = attempt;
  ledger_retry(r, "pass", cp->strategy, cp->m, why, latency_ms, attempt, chunk_redactions(r, req));
}

static void on_judge_retry(const char *why, long latency_ms, int attempt, void *data) {
  qr_review *r = ((call_slot *)data)->review;
  r->judge_slot.recorded = attempt;
  ledger_retry(r, "judge", "judge", r->cfg->judge.m, why, latency_ms, attempt, 0);
}

/* Answers request i from the cache when it can; true when it did. */
static bool answer_from_cache(qr_review *r, size_t i) {
  const qr_plan_request *req = &r->plan->requests[i];
  call_slot *slot = &r->slots[i];
  qr_cache_entry entry = {0};
  qr_completion c;
  if (!cache_get(r, slot->key, &entry, &c)) return false;
  pass_state *ps = &r->passes[req->pass];
  take_answer(r, slot, ps, &c);
  qr_cache_entry_clear(&entry);
  ps->cached++;
  ps->finished++;
  ps->t_last = qr_now_ms();
  r->finished++;
  return true;
}

/* Sends request i unless the budget forbids it; false when it was not sent. */
static bool send_request(qr_review *r, size_t i) {
  const qr_plan_request *req = &r->plan->requests[i];
  const qr_config_pass *cp = &r->cfg->passes[req->pass];
  pass_state *ps = &r->passes[req->pass];
  call_slot *slot = &r->slots[i];
  char why[256];
  slot->estimate = qr_budget_estimate(cp->m, &req->prompt);
  if (!budget_allows(r, slot, why, sizeof why)) {
    ps->status = "skipped";
    if (!ps->error) ps->error = qr_asprintf("budget: %s", why);
    ps->finished++;
    r->finished++;
    r->budget_stopped++;
    return false;
  }
  int rc = qr_provider_call(r->http, cp->m, &req->prompt, &r->cfg->limits, on_call_done, slot,
                            &slot->call);
  if (rc) {
    release_day(r, slot);
    ps->finished++;
    slot->failed = true;
    pass_fail(ps, rc, "not_sent", qr_strerror(rc));
    r->finished++;
    return false;
  }
  qr_provider_on_retry(slot->call, on_call_retry);
  qr_budget_hold(&r->budget, slot->estimate);
  r->in_flight++;
  return true;
}

/* ---- adaptive fan-out (plan.mode "adaptive") ---------------------------------------------- */

/* Whether `cl` asks for more passes: it is at or above plan.severity, or fewer than
 * plan.agreement passes agree on it. */
static bool unsettled(const qr_config_plan *plan, const qr_finding *cl) {
  return (int)cl->severity >= plan->severity || cl->votes < plan->agreement;
}

/* Whether the first wave left chunk k unread: one of its requests there went unanswered
 * (failed, cut or not sent), or it had none (its passes narrowed away by the repository's
 * config). It then settled nothing there. */
static bool first_wave_missed(const qr_review *r, size_t k) {
  bool answered = false;
  for (size_t i = 0; i < r->plan->n_requests; i++) {
    const qr_plan_request *req = &r->plan->requests[i];
    if ((size_t)req->chunk != k || !r->cfg->passes[req->pass].first_wave ||
        r->passes[req->pass].narrowed)
      continue;
    if (!r->slots[i].ok) return true;
    answered = true;
  }
  return !answered;
}

static bool chunk_has_file(const qr_context_chunk *ch, const char *file) {
  for (size_t f = 0; f < ch->n_files; f++)
    if (!strcmp(ch->files[f], file)) return true;
  return false;
}

/* Marks the chunks that show an unsettled cluster's lines; every chunk of its file when none
 * shows them (a finding relocated outside the rendered lines). */
static void escalate_cluster(qr_review *r, const qr_finding *cl) {
  bool marked = false;
  for (size_t k = 0; k < r->ctx->n_chunks; k++)
    if (qr_context_chunk_shows(&r->ctx->chunks[k], cl->file, cl->start_line, cl->end_line))
      marked = r->escalate[k] = true;
  for (size_t k = 0; !marked && k < r->ctx->n_chunks; k++)
    if (chunk_has_file(&r->ctx->chunks[k], cl->file)) r->escalate[k] = true;
}

/* Ends the first wave: merges what it found (analyzers and rules included) and marks for the
 * other passes the chunks showing an unsettled finding and the chunks the first wave did not
 * answer. Without memory no chunk is settled. */
static void decide_second_wave(qr_review *r) {
  r->second_wave = true;
  r->next = 0; /* the second wave walks the plan again for the requests held back */
  size_t n = r->ctx->n_chunks;
  if (!(r->escalate = qr_calloc(n ? n : 1, sizeof *r->escalate))) return;
  qr_finding_list clusters;
  qr_finding_list_init(&clusters);
  qr_err e = {0};
  bool merged = !qr_judge_consensus(&r->found, r->snap, NULL, 0, NULL, &clusters, &e);
  for (size_t k = 0; k < n; k++) r->escalate[k] = !merged || first_wave_missed(r, k);
  for (size_t c = 0; merged && c < clusters.n; c++)
    if (unsettled(&r->cfg->plan, &clusters.items[c])) escalate_cluster(r, &clusters.items[c]);
  qr_finding_list_free(&clusters);
}

/* Whether request i waits for the second wave (its pass is not in plan.first_wave). */
static bool held_back(const qr_review *r, size_t i) {
  return r->cfg->plan.adaptive && !r->second_wave &&
         !r->cfg->passes[r->plan->requests[i].pass].first_wave;
}

/* Whether the first wave left request i's chunk settled, so the request is not needed. */
static bool settled(const qr_review *r, size_t i) {
  return r->second_wave && r->escalate && !r->escalate[r->plan->requests[i].chunk];
}

/* Counts a request the adaptive plan did not need; a pass with none sent says why. */
static void skip_settled(qr_review *r, pass_state *ps) {
  ps->not_needed++;
  ps->finished++;
  r->finished++;
  if (ps->not_needed < ps->requests) return;
  ps->status = "skipped";
  if (!ps->error)
    ps->error = qr_strdup("plan: the first wave settled every chunk (plan.mode adaptive)");
}

static void start_requests(qr_review *r) {
  size_t limit = (size_t)QR_MAX(1, r->cfg->limits.concurrency);
  while (!r->canceled && !r->cut && r->next < r->plan->n_requests && r->in_flight < limit) {
    size_t i = r->next++;
    call_slot *slot = &r->slots[i];
    pass_state *ps = &r->passes[r->plan->requests[i].pass];
    if (slot->review || held_back(r, i)) continue; /* taken up already, or for later */
    slot->review = r;
    slot->request = i;
    if (ps->narrowed) { /* the repository's config left this strategy out */
      ps->finished++;
      r->finished++;
      continue;
    }
    if (settled(r, i)) {
      skip_settled(r, ps);
      continue;
    }
    slot->t_start = qr_now_ms();
    if (!ps->t_first) ps->t_first = slot->t_start;
    if (!answer_from_cache(r, i)) send_request(r, i);
  }
  if (r->in_flight || r->tools_running) return;
  bool over = r->canceled || r->cut || r->next == r->plan->n_requests;
  if (over && !r->canceled && !r->cut && r->cfg->plan.adaptive && !r->second_wave) {
    decide_second_wave(r);
    start_requests(r);
  } else if (over) {
    finish_review(r);
  }
}

/* ---- local passes: the rule pack and analyzers ------------------------------------------- */

static void run_rules(qr_review *r, pass_state *ps) {
  qr_finding_list l;
  qr_finding_list_init(&l);
  qr_err e = {0};
  ps->t_first = qr_now_ms();
  int rc = qr_rules_run(r->rules, r->diff, r->snap, r->allow_context, &l, &e);
  /* Hard-coded secrets are reported here, locally: the passes only ever see placeholders. */
  if (!rc) rc = qr_redact_findings(r->diff, r->snap, &l, &e);
  if (rc) pass_fail(ps, rc, "rules", e.msg);
  else accept_findings(r, ps, &l);
  qr_finding_list_free(&l);
  ps->t_last = qr_now_ms();
  ps->finished = ps->requests;
  r->finished++;
}

static void on_tool_done(int status, const char *reason, qr_finding_list *findings, bool cached,
                         void *data) {
  pass_state *ps = data;
  qr_review *r = ps->review;
  r->tool_runs[ps - r->passes] = NULL;
  ps->t_last = qr_now_ms();
  ps->finished = ps->requests;
  ps->cached = cached ? ps->requests : 0;
  if (status) pass_fail(ps, status, ps->tool, reason);
  else accept_findings(r, ps, findings);
  r->tools_running--;
  r->finished++;
  report_progress(r);
  start_requests(r);
}

static void start_tool(qr_review *r, pass_state *ps) {
  qr_err e = {0};
  ps->t_first = qr_now_ms();
  size_t i = (size_t)(ps - r->passes);
  const qr_config_pass *cp = i < r->cfg->n_passes ? &r->cfg->passes[i] : NULL;
  qr_tool_opts o = {cp && cp->timeout_ms ? cp->timeout_ms : r->cfg->limits.timeout_ms, r->cache};
  int rc = qr_tool_start(r->loop, ps->tool, r->diff, r->snap, r->root, &o, on_tool_done, ps,
                         &r->tool_runs[i], &e);
  if (rc == QR_E_NOTFOUND) {
    ps->status = "skipped";
    ps->error = qr_asprintf("%s is not installed", ps->tool);
  } else if (rc) {
    pass_fail(ps, rc, ps->tool, e.msg);
  } else {
    r->tools_running++;
    return;
  }
  ps->t_last = ps->t_first;
  r->finished++;
}

/* Starts everything on the first loop turn: local passes, then the model requests. */
static void start_all(qr_review *r) {
  r->started = true;
  for (size_t i = 0; !r->canceled && i < r->n_passes; i++) {
    pass_state *ps = &r->passes[i];
    if (!ps->local || ps->requests == 0) continue;
    if (ps->tool) start_tool(r, ps);
    else run_rules(r, ps);
  }
  if (r->finished) report_progress(r); /* the rule pack (and analyzers that could not start) */
  start_requests(r);
}

/* ---- the result ---------------------------------------------------------------------------- */

static void emit(qr_review *r) {
  int failed_all = 0;
  qr_judge_keep_votes(&r->merged, r->cfg->judge.min_votes); /* after the judge's folds */
  json_t *result = qr_review_build_result(r, &failed_all);
  int status = r->canceled ? QR_E_CANCELED : failed_all ? QR_E_PROVIDER : QR_OK;
  if (result) r->done(r, status, result, r->data);
  else r->done(r, QR_E_NOMEM, NULL, r->data);
  json_decref(result);
  review_free(r);
}

static void on_timer_closed(uv_handle_t *h) {
  qr_review *r = h->data;
  if (--r->open_timers == 0) review_free_now(r);
}

/* ---- the judge ------------------------------------------------------------------------------ */

/* Applies the judge's answer (or records why it could not) and lists the judge in `passes`. */
static void judge_finish(qr_review *r, int status, const char *reason, const char *message,
                         const qr_completion *c, bool cached) {
  const qr_config_judge *j = &r->cfg->judge;
  qr_err e = {0};
  bool answered = !status;
  if (!status && (status = qr_judge_apply(&r->merged, c->text, strlen(c->text), &r->rejected, &e))) {
    reason = "verdicts"; /* the call succeeded (reason and message are ""): the answer did not */
    message = e.msg[0] ? e.msg : "the answer is not the verdicts asked for";
  }
  if (!cached) { /* the ledger says what became of the answer, not only of the HTTP call */
    ledger_call(r, &r->judge_slot, "judge", "judge", j->m, c,
                !status ? "ok" : answered ? "malformed_output" : reason, 0);
    release_day(r, &r->judge_slot);
  }
  if (status) {
    r->judge_error = qr_asprintf("%s: %s — the consensus result stands", reason ? reason : "verdicts",
                                 message ? message : e.msg);
    QR_WARN("judge: %s", r->judge_error);
  } else if (!cached) {
    cache_put(r, r->judge_slot.key, c);
  }
  bool billed = c && !cached;
  r->judge_pass = json_pack(
      "{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:f, s:i}", "role", "judge", "model", j->model,
      "strategy", "judge", "status", status ? (status == QR_E_TIMEOUT ? "timeout" : "failed") : "ok",
      "latency_ms", (json_int_t)(qr_now_ms() - r->judge_slot.t_start), "input_tokens",
      (json_int_t)(billed ? c->input_tokens : 0), "output_tokens",
      (json_int_t)(billed ? c->output_tokens : 0), "cost_usd", billed ? c->cost_usd : 0.0,
      "rejected", (int)r->rejected.n);
  /* The judge was asked: its entry must be complete, or the result reports out of memory
   * rather than hide a call (qr_review_build_result checks judge_asked). */
  r->judge_asked = true;
  if (r->judge_pass &&
      ((r->judge_error && json_object_set_new(r->judge_pass, "error", json_string(r->judge_error))) ||
       (cached && json_object_set_new(r->judge_pass, "cached", json_true())))) {
    json_decref(r->judge_pass);
    r->judge_pass = NULL;
  }
  emit(r);
}

static void on_judge_done(int status, const char *reason, const char *message, qr_completion *c,
                          void *data) {
  qr_review *r = ((call_slot *)data)->review;
  r->judge_slot.call = NULL;
  if (status == QR_E_CANCELED && r->cut) {
    status = QR_E_TIMEOUT;
    reason = "deadline";
    message = "limits.deadline_ms reached";
  }
  settle_usage(r, &r->judge_slot, r->cfg->judge.m, status, c);
  qr_budget_charge(&r->budget, r->judge_slot.estimate, c ? c->cost_usd : 0);
  judge_finish(r, status, reason, message, c, false);
}

/* The judge sees the clusters in a shuffled order; the shuffle is seeded by their fingerprints
 * so the same clusters make the same request (and hit the cache). */
static uint64_t judge_seed(const qr_review *r) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < r->merged.n; i++)
    for (const char *p = r->merged.items[i].fingerprint; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
  return h;
}

/* Sends the judge's prompt, or answers it from the cache; false when it was not sent. */
static bool judge_send(qr_review *r, const qr_prompt *prompt, char *why, size_t why_len) {
  const qr_config_model *m = r->cfg->judge.m;
  call_slot *slot = &r->judge_slot;
  qr_cache_entry entry = {0};
  qr_completion c;
  qr_err e = {0};
  if (r->cache && qr_request_key(m, prompt, 0, slot->key, &e)) QR_WARN("cache: %s", e.msg);
  if (cache_get(r, slot->key, &entry, &c)) {
    judge_finish(r, 0, NULL, NULL, &c, true);
    qr_cache_entry_clear(&entry);
    return true;
  }
  slot->estimate = qr_budget_estimate(m, prompt);
  if (!budget_allows(r, slot, why, why_len)) return false;
  int rc = qr_provider_call(r->http, m, prompt, &r->cfg->limits, on_judge_done, slot, &slot->call);
  if (rc) {
    release_day(r, slot);
    snprintf(why, why_len, "not sent: %s", qr_strerror(rc));
    return false;
  }
  qr_provider_on_retry(slot->call, on_judge_retry);
  qr_budget_hold(&r->budget, slot->estimate);
  return true;
}

/* Starts the model judge when configured and there is something to judge; else emits. */
static void judge_or_emit(qr_review *r) {
  const qr_config_judge *j = &r->cfg->judge;
  if (r->canceled || !j->m || strcmp(j->mode, "model") || r->merged.n == 0) {
    emit(r);
    return;
  }
  qr_prompt prompt = {0};
  qr_err e = {0};
  char why[sizeof e.msg] = "";
  r->judge_slot.review = r;
  r->judge_slot.request = SIZE_MAX;
  r->judge_slot.t_start = qr_now_ms();
  /* The judge is shown code too: from a redacted copy, like every pass. */
  qr_snapshot *clean = NULL;
  int rc = qr_redact_snapshot(r->snap, &clean, NULL, &e);
  if (!rc) rc = qr_judge_build_prompt(&r->merged, clean, judge_seed(r), &prompt, &e);
  qr_snapshot_free(clean);
  if (rc) snprintf(why, sizeof why, "%s", e.msg);
  bool sent = !rc && judge_send(r, &prompt, why, sizeof why);
  qr_prompt_clear(&prompt);
  if (!sent) {
    r->judge_error = qr_asprintf("judge not asked: %s — the consensus result stands", why);
    emit(r);
  }
}

/* How many passes read each file successfully: the denominator of a finding's agreement. */
static qr_judge_coverage *coverage(const qr_review *r) {
  size_t nf = r->snap->n_files, np = r->n_passes;
  qr_judge_coverage *cov = qr_calloc(nf, sizeof *cov);
  bool *seen = qr_calloc(nf * np, sizeof *seen);
  if (!cov || !seen) {
    qr_free(cov);
    qr_free(seen);
    return NULL;
  }
  /* A pass that answered "no issues" where others found an error is not counted as agreeing
   * that the code is fine (a prompt-injected or lazy pass must not dilute real agreement). */
  bool *has_error = qr_calloc(nf, sizeof *has_error);
  if (!has_error) {
    qr_free(cov);
    qr_free(seen);
    return NULL;
  }
  for (size_t i = 0; i < r->found.n; i++)
    for (size_t f = 0; f < nf; f++)
      if (r->found.items[i].severity == QR_SEV_ERROR &&
          !strcmp(r->found.items[i].file, r->snap->files[f].path))
        has_error[f] = true;
  for (size_t i = 0; i < r->plan->n_requests; i++) {
    const qr_plan_request *req = &r->plan->requests[i];
    const qr_context_chunk *ch = &r->ctx->chunks[req->chunk];
    for (size_t k = 0; r->slots[i].ok && k < ch->n_files; k++)
      for (size_t f = 0; f < nf; f++)
        if (!strcmp(ch->files[k], r->snap->files[f].path) &&
            !(r->slots[i].found == 0 && has_error[f]))
          seen[f * np + (size_t)req->pass] = true;
  }
  qr_free(has_error);
  for (size_t p = 0; p < np; p++) {
    const pass_state *ps = &r->passes[p];
    /* a local pass still running has read nothing yet */
    if (!ps->local || strcmp(ps->status, "ok") || ps->finished < ps->requests) continue;
    for (size_t f = 0; f < nf; f++)
      seen[f * np + p] = ps->tool ? qr_tool_covers(ps->tool, r->snap->files[f].lang)
                                  : r->snap->files[f].lang != NULL;
  }
  for (size_t f = 0; f < nf; f++) {
    cov[f].file = r->snap->files[f].path;
    for (size_t p = 0; p < np; p++) cov[f].passes += seen[f * np + p];
  }
  qr_free(seen);
  return cov;
}

/* The consensus merge of what was found so far into r->merged, with r->cov set; findings with
 * fewer than `min_votes` votes are left out. */
static int merge_found(qr_review *r, int min_votes, qr_err *e) {
  qr_judge_options o = {.min_votes = min_votes,
                        .min_confidence = r->cfg->judge.min_confidence,
                        .max_findings = r->cfg->judge.max_findings};
  qr_free(r->cov); /* an earlier partial result's */
  r->cov = coverage(r);
  return r->cov ? qr_judge_consensus(&r->found, r->snap, r->cov, r->snap->n_files, &o, &r->merged, e)
                : qr_err_set(e, QR_E_NOMEM, "out of memory");
}

static void finish_review(qr_review *r) {
  if (r->finishing) return; /* a late deadline or cancel may ask again */
  r->finishing = true;
  const qr_config_judge *j = &r->cfg->judge;
  bool judged = j->m && !strcmp(j->mode, "model"); /* its same_as may fold 1-vote clusters */
  qr_err e = {0};
  if (merge_found(r, judged ? 1 : j->min_votes, &e))
    r->judge_error = qr_asprintf("consensus merge failed: %s", e.msg);
  judge_or_emit(r);
}

json_t *qr_review_partial(qr_review *r) {
  qr_err e = {0};
  json_t *result = NULL;
  if (r->finishing) return NULL; /* r->merged is the final merge's */
  if (!merge_found(r, r->cfg->judge.min_votes, &e) && !qr_judge_carry(&r->shown, &r->merged) &&
      (result = qr_review_build_result(r, &(int){0})) &&
      json_object_set_new(result, "provisional", json_true()))
    result = (json_decref(result), NULL);
  qr_finding_list_free(result ? &r->shown : &r->merged);
  if (result) r->shown = r->merged; /* what the next call carries on */
  qr_finding_list_init(&r->merged);
  return result;
}

/* ---- start and cancel ----------------------------------------------------------------------- */

/* Aborts every running call (each calls back, canceled) and analyzer (they never call back,
 * so they are accounted for here); when nothing is left to call back, finishes from the loop. */
static void stop_running(qr_review *r, int status, const char *reason) {
  for (size_t i = 0; i < r->plan->n_requests; i++)
    if (r->slots[i].call) qr_provider_cancel(r->slots[i].call);
  for (size_t i = 0; i < r->n_passes; i++)
    if (r->tool_runs[i]) {
      qr_tool_cancel(r->tool_runs[i]);
      r->tool_runs[i] = NULL;
      pass_fail(&r->passes[i], status, reason, NULL);
      r->tools_running--;
      r->finished++;
    }
  if (r->started && r->in_flight == 0 && r->tools_running == 0)
    uv_timer_start(&r->timer, on_deferred_finish, 0, 0);
}

static void on_start(uv_timer_t *t) { start_all(t->data); }

/* limits.deadline_ms: what has not started is skipped, what runs is cut, and the judge gets
 * what arrived — or, when the deadline comes while the judge runs, the judge is cut and the
 * consensus result stands; the result says it is partial. */
static void on_deadline(uv_timer_t *t) {
  qr_review *r = t->data;
  if (r->canceled || r->cut) return;
  if (r->finishing) { /* the passes are over: the judge's call is cut, the consensus stands */
    r->cut = r->judge_slot.call != NULL;
    if (r->cut) qr_provider_cancel(r->judge_slot.call);
    return;
  }
  r->cut = true;
  QR_WARN("review: deadline of %d ms reached; judging what arrived", r->cfg->limits.deadline_ms);
  for (size_t i = 0; i < r->plan->n_requests; i++) {
    if (r->slots[i].review) continue; /* sent, answered or skipped already */
    r->slots[i].review = r;
    r->slots[i].failed = true;
    pass_state *ps = &r->passes[r->plan->requests[i].pass];
    pass_fail(ps, QR_E_TIMEOUT, "deadline", "not started before limits.deadline_ms");
    ps->finished++;
    r->finished++;
  }
  r->next = r->plan->n_requests;
  stop_running(r, QR_E_TIMEOUT, "deadline");
}
static void on_deferred_finish(uv_timer_t *t) { start_requests(t->data); }

int qr_review_start(uv_loop_t *loop, qr_http *http, const qr_review_params *p,
                    qr_review_done_cb done, qr_review_progress_cb progress, void *data,
                    qr_review **out, qr_err *e) {
  qr_review *r = NULL;
  int rc = !p->config || (p->config->n_passes == 0 && !p->config->rules.enabled)
               ? qr_err_set(e, QR_E_CONFIG, "no review passes are configured (see README: Configuration)")
           : !(r = qr_calloc(1, sizeof *r)) ? qr_err_set(e, QR_E_NOMEM, "out of memory")
                                            : QR_OK;
  if (rc) {
    qr_snapshot_free(p->snapshot);
    qr_snapshot_free_omitted(p->omitted);
    return rc;
  }
  r->snap = p->snapshot;
  r->omitted_snapshot = p->omitted;
  r->loop = loop;
  r->http = http;
  r->cfg = p->config;
  r->done = done;
  r->progress = progress;
  r->allow_context = p->allow_context;
  r->staged = p->staged;
  r->data = data;
  qr_finding_list_init(&r->found);
  qr_finding_list_init(&r->merged);
  qr_finding_list_init(&r->shown);
  qr_judge_rejections_init(&r->rejected);
  r->root = qr_strdup(p->root ? p->root : ".");
  rc = r->root ? qr_review_prepare(r, p, e) : qr_err_set(e, QR_E_NOMEM, "out of memory");
  if (!rc) {
    /* Start on the next loop turn so `done` is never called from inside this function. */
    uv_timer_init(loop, &r->timer);
    uv_timer_init(loop, &r->deadline);
    r->timer.data = r->deadline.data = r;
    r->open_timers = 2;
    uv_timer_start(&r->timer, on_start, 0, 0);
    if (r->cfg->limits.deadline_ms > 0)
      uv_timer_start(&r->deadline, on_deadline, (uint64_t)r->cfg->limits.deadline_ms, 0);
  } else {
    review_free(r);
    return rc;
  }
  if (out) *out = r;
  return QR_OK;
}

const qr_snapshot_file *qr_review_file(const qr_review *r, const char *path) {
  return r->snap ? qr_snapshot_find(r->snap, path) : NULL;
}

void qr_review_cancel(qr_review *r) {
  if (r->canceled) return;
  r->canceled = true;
  if (r->judge_slot.call) qr_provider_cancel(r->judge_slot.call);
  stop_running(r, QR_E_CANCELED, "canceled");
}
