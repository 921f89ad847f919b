/* budget.h — spending limits checked before each model call: limits.max_usd_per_review and
 * limits.max_usd_per_day. A call's cost is estimated before it is sent (its known input tokens
 * at the model's input price plus max_output_tokens at the output price); a call that would
 * take the review's or the day's spend past its limit is not sent.
 *
 * Pure bookkeeping, no I/O: the day's spend so far comes from the ledger at review start
 * (qr_ledger_spent_since(path, qr_budget_day_start(now), …)). Calls run concurrently, so an
 * allowed call holds its estimate until it finishes; qr_budget_allows counts what is held. */
#ifndef QR_BUDGET_H
#define QR_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config/config.h"
#include "review/prompt.h"

typedef struct qr_budget {
  double max_review, max_day; /* USD; <= 0: no limit */
  double spent_review;        /* actual cost of this review's finished calls */
  double spent_day;           /* the day's spend before this review, plus spent_review */
  double held;                /* estimates of calls sent and not finished */
} qr_budget;

/* Starts a review's budget; spent_today is what the ledger holds for today. */
void qr_budget_init(qr_budget *b, double max_review, double max_day, double spent_today);

/* The estimated cost in USD of sending p to m: qr_estimate_tokens of the system and user text
 * at price_in_per_mtok, plus max_output_tokens at price_out_per_mtok. 0 when the model's
 * prices are unknown (0), so such calls are never stopped. */
double qr_budget_estimate(const qr_config_model *m, const qr_prompt *p);

/* Whether a call estimated at `estimate` fits both limits, counting what is spent and held.
 * When not, `why` (may be NULL) receives one sentence naming the limit, e.g.
 * "the estimated $0.0300 would take this review to $1.0100, past limits.max_usd_per_review ($1.00)". */
bool qr_budget_allows(const qr_budget *b, double estimate, char *why, size_t why_len);
/* Records that a call estimated at `estimate` was sent. */
void qr_budget_hold(qr_budget *b, double estimate);
/* Records that a held call finished: releases its estimate and adds what it really cost. */
void qr_budget_charge(qr_budget *b, double estimate, double actual);

/* The start of the local calendar day containing `now` — the day max_usd_per_day covers. */
time_t qr_budget_day_start(time_t now);

#endif
