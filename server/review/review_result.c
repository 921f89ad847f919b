/* review_result.c — the result of a review as JSON (README: The JSON output): findings with
 * their agreement, passes with their tokens, cost and drops, omitted files, notes, errors. */
#include <string.h>

#include "review/review_internal.h"

/* 1-based column of the first non-blank byte of `line` in `file` (1 when unknown). */
static int first_column(const qr_snapshot *snap, const char *file, int line) {
  const qr_snapshot_file *f = qr_snapshot_find(snap, file);
  const char *text;
  size_t len, i = 0;
  if (!f || !qr_snapshot_line(f, line, &text, &len)) return 1;
  while (i < len && (text[i] == ' ' || text[i] == '\t')) i++;
  return i < len ? (int)i + 1 : 1;
}

/* How many passes read `file` (the denominator of a finding's votes); 0 when unknown. */
static int seen_by(const qr_review *r, const char *file) {
  for (size_t i = 0; r->cov && i < r->snap->n_files; i++)
    if (!strcmp(r->cov[i].file, file)) return r->cov[i].passes;
  return 0;
}

/* A finding as the result lists it; NULL when out of memory (never a finding with parts missing). */
static json_t *finding_json(const qr_review *r, const qr_finding *f) {
  json_t *sources = json_array();
  bool ok = sources != NULL;
  for (size_t i = 0; ok && i < f->n_sources; i++)
    ok = !json_array_append_new(sources, json_pack("{s:s, s:s}", "model", f->sources[i].model,
                                                   "strategy", f->sources[i].strategy));
  if (!ok) {
    json_decref(sources);
    return NULL;
  }
  json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:s, s:s, s:s, s:i, s:i, s:f, s:o, s:s}", "file",
                        f->file, "start_line", f->start_line, "end_line", f->end_line,
                        "start_column", first_column(r->snap, f->file, f->start_line),
                        "severity", qr_severity_name(f->severity), "category", f->category,
                        "message", f->message, "votes", f->votes, "models", f->models,
                        "confidence", f->confidence, "sources", sources, "fingerprint",
                        f->fingerprint);
  if (!o || json_object_set_new(o, "seen", json_integer(QR_MAX(seen_by(r, f->file), f->votes))) ||
      (f->rule && json_object_set_new(o, "rule", json_string(f->rule))) ||
      (f->merge && json_object_set(o, "merge", f->merge)) ||
      (f->fix && json_object_set_new(o, "fix", json_pack("{s:i, s:i, s:s}", "start_line",
                                                         f->fix->start_line, "end_line",
                                                         f->fix->end_line, "replacement",
                                                         f->fix->replacement)))) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* Adds the pass's drop reasons to its entry (when it dropped any): "drop_reasons" [{file?,
 * line?, reason}] and "drop_reasons_omitted", the drops beyond those. Non-zero when out of memory. */
static int drop_reasons_json(json_t *o, const qr_drops *d) {
  if (!d->total) return 0;
  json_t *a = json_array();
  int rc = a ? json_object_set_new(o, "drop_reasons", a) : -1;
  for (size_t i = 0; !rc && i < d->n; i++) {
    const qr_drop *k = &d->items[i];
    json_t *x = json_object();
    rc = !x || (k->file && json_object_set_new(x, "file", json_string(k->file))) ||
         (k->line && json_object_set_new(x, "line", json_integer(k->line))) ||
         json_object_set_new(x, "reason", json_string(k->reason));
    if (json_array_append_new(a, x)) rc = -1;
  }
  if (!rc && d->total > (int)d->n)
    rc = json_object_set_new(o, "drop_reasons_omitted", json_integer(d->total - (int)d->n));
  return rc;
}

static json_t *pass_json(const pass_state *ps) {
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:i, s:i}", "role", "pass",
                        "model", ps->model, "strategy", ps->strategy, "status",
                        ps->review->finishing || ps->finished >= ps->requests ? ps->status : "running",
                        "latency_ms", (json_int_t)(ps->t_last > ps->t_first ? ps->t_last - ps->t_first : 0), "input_tokens",
                        (json_int_t)ps->input_tokens, "output_tokens",
                        (json_int_t)ps->output_tokens, "cached_tokens",
                        (json_int_t)ps->cached_tokens, "cost_usd", ps->cost_usd, "findings",
                        ps->findings, "dropped", ps->drops.total);
  if (!o || (ps->error && json_object_set_new(o, "error", json_string(ps->error))) ||
      (ps->requests > 1 && json_object_set_new(o, "requests", json_integer(ps->requests))) ||
      (ps->cached && json_object_set_new(o, "cached", json_boolean(ps->cached == ps->requests))) ||
      (ps->not_needed && json_object_set_new(o, "not_needed", json_integer(ps->not_needed))) ||
      (ps->usage_estimated &&
       json_object_set_new(o, "usage_estimated", json_integer(ps->usage_estimated))) ||
      drop_reasons_json(o, &ps->drops) ||
      (ps->drops.cut && json_object_set_new(o, "cut", json_integer(ps->drops.cut)))) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* A model pass that answered for some chunks and failed for others is partial, not failed:
 * what it found stands (for --fail-on and the hook) and its error names the chunks that got
 * no answer. Non-zero when out of memory. */
static int mark_partial(qr_review *r, size_t p) {
  pass_state *ps = &r->passes[p];
  size_t answered = 0, failed = 0;
  if (ps->local || !ps->failed || !r->plan || !r->finishing) return 0; /* final results only */
  for (size_t i = 0; i < r->plan->n_requests; i++)
    if ((size_t)r->plan->requests[i].pass == p) {
      answered += r->slots[i].ok;
      failed += r->slots[i].failed;
    }
  if (!answered || !failed || !strcmp(ps->status, "skipped") ||
      !strcmp(ps->status, "partial"))
    return 0;
  qr_buf b;
  qr_buf_init(&b, 8192);
  int rc = qr_buf_printf(&b, "partial: %zu of %zu chunks got no answer (", failed, answered + failed);
  size_t listed = 0;
  for (size_t i = 0; !rc && i < r->plan->n_requests; i++) {
    const qr_plan_request *req = &r->plan->requests[i];
    if ((size_t)req->pass != p || !r->slots[i].failed) continue;
    const qr_context_chunk *ch = &r->ctx->chunks[req->chunk];
    if (listed++ == 3) {
      rc = qr_buf_puts(&b, "; …");
      break;
    }
    rc = qr_buf_printf(&b, "%schunk %d: %s%s", listed > 1 ? "; " : "", req->chunk + 1,
                       ch->n_files ? ch->files[0] : "?", ch->n_files > 1 ? " …" : "");
  }
  if (!rc) rc = qr_buf_printf(&b, "): %.2000s", ps->error ? ps->error : "failed");
  if (!rc) {
    qr_free(ps->error);
    ps->error = b.data; /* the buffer's storage becomes the string */
    ps->status = "partial";
    return 0;
  }
  qr_buf_free(&b);
  return rc;
}

/* Whether the context's entry "path: reason" names a file the snapshot already left out with
 * its real reason (the context then only saw no text for it). */
static bool told_already(char **snapshot_omitted, const char *entry) {
  const char *tail = strstr(entry, ": " QR_CONTEXT_NO_TEXT);
  if (!tail || strcmp(tail + 2, QR_CONTEXT_NO_TEXT)) return false;
  size_t n = (size_t)(tail - entry) + 2; /* "path: " */
  for (char **o = snapshot_omitted; o && *o; o++)
    if (!strncmp(*o, entry, n)) return true;
  return false;
}

/* Builds the result JSON; NULL when any part of it could not be allocated, so that the done
 * callback reports QR_E_NOMEM instead of a result with findings, passes or errors missing. */
json_t *qr_review_build_result(qr_review *r, int *failed_all) {
  json_t *findings = json_array(), *passes = json_array(), *rejected = json_array();
  json_t *errors = json_array(), *omitted = json_array();
  bool ok = findings && passes && rejected && errors && omitted;
  for (size_t i = 0; ok && i < r->merged.n; i++)
    if (r->merged.items[i].severity >= r->repo->min_severity)
      ok = !json_array_append_new(findings, finding_json(r, &r->merged.items[i]));
  for (size_t i = 0; ok && i < r->rejected.n; i++) {
    json_t *o = finding_json(r, &r->rejected.items[i].finding);
    if (o && json_object_set_new(o, "reason", json_string(r->rejected.items[i].reason))) {
      json_decref(o);
      o = NULL;
    }
    ok = !json_array_append_new(rejected, o);
  }
  double cost = 0;
  int n_answered = 0, ran = 0;
  for (size_t i = 0; ok && i < r->n_passes; i++) {
    pass_state *ps = &r->passes[i];
    if (ps->requests == 0) continue; /* nothing to review for this pass */
    ok = !mark_partial(r, i) && !json_array_append_new(passes, pass_json(ps));
    cost += ps->cost_usd;
    if (!strcmp(ps->status, "skipped")) continue; /* a missing analyzer degrades nothing */
    /* "every pass failed" means no model answered: local passes do not count. */
    ran += !ps->local;
    n_answered += !ps->local && (!strcmp(ps->status, "ok") || !strcmp(ps->status, "partial"));
    if (ok && strcmp(ps->status, "ok"))
      ok = !json_array_append_new(errors,
                                  json_sprintf("%s × %s: %s", ps->model, ps->strategy, ps->error));
    if (ok && ps->drops.cut)
      ok = !json_array_append_new(
          errors, json_sprintf("%s × %s: %d least severe findings left out (over %d in one answer)",
                               ps->model, ps->strategy, ps->drops.cut, QR_FINDINGS_MAX_PER_ANSWER));
  }
  if (r->judge_asked && !r->judge_pass) ok = false;
  if (ok && r->judge_pass) {
    cost += json_real_value(json_object_get(r->judge_pass, "cost_usd"));
    ok = !json_array_append(passes, r->judge_pass);
  }
  if (ok && r->judge_error)
    ok = !json_array_append_new(errors, json_sprintf("judge: %s", r->judge_error));
  if (ok && r->budget_stopped)
    ok = !json_array_append_new(errors, json_sprintf("budget: %d requests not sent", r->budget_stopped));
  if (ok && r->cut) ok = !json_array_append_new(errors, json_string("deadline: the result is partial"));
  ok = ok && !r->problems_lost && !json_array_extend(errors, r->problems);
  if (ok && r->budget.max_review > 0 && r->budget.spent_review > r->budget.max_review)
    ok = !json_array_append_new(errors, json_sprintf("budget: this review cost $%.4f, past "
                                                     "limits.max_usd_per_review ($%.2f)",
                                                     r->budget.spent_review, r->budget.max_review));
  for (size_t i = 0; ok && r->omitted_snapshot && r->omitted_snapshot[i]; i++)
    ok = !json_array_append_new(omitted, json_string(r->omitted_snapshot[i]));
  for (size_t i = 0; ok && r->ctx && i < r->ctx->n_omitted; i++)
    if (!told_already(r->omitted_snapshot, r->ctx->omitted[i]))
      ok = !json_array_append_new(omitted, json_string(r->ctx->omitted[i]));
  *failed_all = ran > 0 && n_answered == 0;
  if (!ok) {
    json_decref(findings);
    json_decref(passes);
    json_decref(rejected);
    json_decref(errors);
    json_decref(omitted);
    return NULL;
  }
  return json_pack("{s:o, s:o, s:o, s:o, s:f, s:b, s:b, s:b, s:o, s:O}", "findings", findings,
                   "passes", passes, "rejected", rejected, "omitted_files", omitted, "cost_usd",
                   cost, "degraded", json_array_size(errors) > 0, "partial", r->cut || r->canceled,
                   "canceled", r->canceled, "errors", errors, "notes", r->notes);
}
