/* Unit tests for budget.c: the cost estimate, the per-review and per-day limits with calls in
 * flight, and the start of the day. */
#include "review/budget.h"
#include "test.h"

TEST(budget_estimate_uses_prices_and_max_output) {
  qr_config_model m = {.price_in_per_mtok = 2.0, .price_out_per_mtok = 10.0,
                       .max_output_tokens = 1000};
  char sys[401], user[401];
  memset(sys, 's', 400);
  memset(user, 'u', 400);
  sys[400] = user[400] = '\0';
  qr_prompt p = {.system = sys, .user = user};
  /* 800 bytes ≈ 200 tokens at $2/M, plus 1000 output tokens at $10/M */
  double want = 200 * 2.0 / 1e6 + 1000 * 10.0 / 1e6;
  double got = qr_budget_estimate(&m, &p);
  ASSERT(got > want - 1e-12 && got < want + 1e-12);
  qr_config_model free_model = {.max_output_tokens = 1000};
  ASSERT(qr_budget_estimate(&free_model, &p) == 0);
}

TEST(budget_review_limit_counts_calls_in_flight) {
  qr_budget b;
  qr_budget_init(&b, 0.05, 0, 0);
  char why[256] = "";
  ASSERT(qr_budget_allows(&b, 0.02, why, sizeof why));
  qr_budget_hold(&b, 0.02);
  ASSERT(qr_budget_allows(&b, 0.02, why, sizeof why));
  qr_budget_hold(&b, 0.02);
  /* two held estimates (0.04) + 0.02 would cross 0.05 */
  ASSERT(!qr_budget_allows(&b, 0.02, why, sizeof why));
  ASSERT(strstr(why, "limits.max_usd_per_review") != NULL);
  ASSERT(strstr(why, "$0.0600") != NULL);
  /* the calls cost less than estimated: room again */
  qr_budget_charge(&b, 0.02, 0.001);
  qr_budget_charge(&b, 0.02, 0.001);
  ASSERT(b.held == 0);
  ASSERT(qr_budget_allows(&b, 0.02, NULL, 0));
  ASSERT(!qr_budget_allows(&b, 0.049, NULL, 0));
}

TEST(budget_day_limit_includes_earlier_spend) {
  qr_budget b;
  qr_budget_init(&b, 10, 1.0, 0.75); /* binary fractions: the sums below are exact */
  char why[256] = "";
  ASSERT(qr_budget_allows(&b, 0.25, why, sizeof why));
  ASSERT(!qr_budget_allows(&b, 0.5, why, sizeof why));
  ASSERT(strstr(why, "limits.max_usd_per_day") != NULL);
  qr_budget_hold(&b, 0.125);
  qr_budget_charge(&b, 0.125, 0.25);
  ASSERT(b.spent_review == 0.25);
  ASSERT(b.spent_day == 1.0);
  ASSERT(!qr_budget_allows(&b, 0.001, NULL, 0));
}

TEST(budget_no_limits) {
  qr_budget b;
  qr_budget_init(&b, 0, 0, 1e9);
  ASSERT(qr_budget_allows(&b, 1e9, NULL, 0));
}

TEST(budget_day_start_is_local_midnight) {
  time_t now = 1714560000; /* 2024-05-01T10:40:00Z */
  time_t start = qr_budget_day_start(now);
  struct tm tm;
  localtime_r(&start, &tm);
  ASSERT_EQ(tm.tm_hour, 0);
  ASSERT_EQ(tm.tm_min, 0);
  ASSERT_EQ(tm.tm_sec, 0);
  ASSERT(start <= now && now - start < 25 * 3600);
  ASSERT_EQ(qr_budget_day_start(start), start);
}
