/* budget.c — the per-review and per-day spending limits (pure arithmetic on estimates). */
#include "review/budget.h"

#include <stdio.h>
#include <string.h>

#include "change/context.h"

void qr_budget_init(qr_budget *b, double max_review, double max_day, double spent_today) {
  *b = (qr_budget){.max_review = max_review, .max_day = max_day, .spent_day = spent_today};
}

static double text_tokens(const char *s) { return s ? qr_estimate_tokens(s, strlen(s)) : 0; }

double qr_budget_estimate(const qr_config_model *m, const qr_prompt *p) {
  double in = text_tokens(p->system) + text_tokens(p->user);
  return (in * m->price_in_per_mtok + (double)m->max_output_tokens * m->price_out_per_mtok) / 1e6;
}

/* Whether `spent` + estimate stays within `max`; else writes why. */
static bool within(double max, double spent, double estimate, const char *what, const char *key,
                   char *why, size_t why_len) {
  if (max <= 0 || spent + estimate <= max) return true;
  if (why && why_len)
    snprintf(why, why_len, "the estimated $%.4f would take %s to $%.4f, past limits.%s ($%.2f)",
             estimate, what, spent + estimate, key, max);
  return false;
}

bool qr_budget_allows(const qr_budget *b, double estimate, char *why, size_t why_len) {
  return within(b->max_review, b->spent_review + b->held, estimate, "this review",
                "max_usd_per_review", why, why_len) &&
         within(b->max_day, b->spent_day + b->held, estimate, "today's spend", "max_usd_per_day",
                why, why_len);
}

void qr_budget_hold(qr_budget *b, double estimate) { b->held += estimate; }

void qr_budget_charge(qr_budget *b, double estimate, double actual) {
  b->held = b->held > estimate ? b->held - estimate : 0;
  b->spent_review += actual;
  b->spent_day += actual;
}

time_t qr_budget_day_start(time_t now) {
  struct tm tm;
  localtime_r(&now, &tm);
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_isdst = -1; /* let mktime work out DST at midnight */
  return mktime(&tm);
}
