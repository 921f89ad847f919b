/* redact_tokens.c — the redactor's service-token rules (see redact_scan.h): every prefixed
 * format of gitleaks' default rule set as one table indexed by first byte, and the token shapes
 * without a prefix. Each rule rejects on its first bytes and reads a bounded run. */
#include "local/redact_scan.h"

#include <pthread.h>

/* ---- service tokens: a fixed prefix and a body (gitleaks' prefixed rules) ---- */

/* EXACT: the body is exactly `min` long; INSIDE: may start mid-word (a URL's host part) */
enum { NEED_DIGIT = 1, EXACT = 2, INSIDE = 4 };

static const struct service {
  const char *prefix;
  bool (*body)(char);
  unsigned short min;
  unsigned char flags;
  qr_secret_rule rule;
  const char *label;
} services[] = {
    {"ghp_", is_alnum, 36, 0, QR_SECRET_GITHUB_TOKEN, NULL},
    {"gho_", is_alnum, 36, 0, QR_SECRET_GITHUB_TOKEN, NULL},
    {"ghu_", is_alnum, 36, 0, QR_SECRET_GITHUB_TOKEN, NULL},
    {"ghs_", is_alnum, 36, 0, QR_SECRET_GITHUB_TOKEN, NULL},
    {"ghr_", is_alnum, 36, 0, QR_SECRET_GITHUB_TOKEN, NULL},
    {"github_pat_", is_word, 22, 0, QR_SECRET_GITHUB_TOKEN, NULL},
    {"xoxa-", is_b64url, 10, 0, QR_SECRET_SLACK_TOKEN, NULL},
    {"xoxb-", is_b64url, 10, 0, QR_SECRET_SLACK_TOKEN, NULL},
    {"xoxe-", is_b64url, 10, 0, QR_SECRET_SLACK_TOKEN, NULL},
    {"xoxe.xox", is_b64url, 10, 0, QR_SECRET_SLACK_TOKEN, NULL},
    {"xoxo-", is_b64url, 10, 0, QR_SECRET_SLACK_TOKEN, NULL},
    {"xoxp-", is_b64url, 10, 0, QR_SECRET_SLACK_TOKEN, NULL},
    {"xoxr-", is_b64url, 10, 0, QR_SECRET_SLACK_TOKEN, NULL},
    {"xoxs-", is_b64url, 10, 0, QR_SECRET_SLACK_TOKEN, NULL},
    {"xapp-", is_b64url, 10, 0, QR_SECRET_SLACK_TOKEN, NULL},
    {"hooks.slack.com/", is_b64, 30, INSIDE, QR_SECRET_SLACK_TOKEN, "slack-webhook"},
    {"sk_live_", is_alnum, 10, 0, QR_SECRET_SERVICE_TOKEN, "stripe-key"},
    {"sk_test_", is_alnum, 10, 0, QR_SECRET_SERVICE_TOKEN, "stripe-key"},
    {"sk_prod_", is_alnum, 10, 0, QR_SECRET_SERVICE_TOKEN, "stripe-key"},
    {"rk_live_", is_alnum, 10, 0, QR_SECRET_SERVICE_TOKEN, "stripe-key"},
    {"rk_test_", is_alnum, 10, 0, QR_SECRET_SERVICE_TOKEN, "stripe-key"},
    {"rk_prod_", is_alnum, 10, 0, QR_SECRET_SERVICE_TOKEN, "stripe-key"},
    {"whsec_", is_alnum, 24, 0, QR_SECRET_SERVICE_TOKEN, "stripe-key"},
    {"AIza", is_b64url, 35, 0, QR_SECRET_SERVICE_TOKEN, "google-api-key"},
    {"SG.", is_wordish, 60, 0, QR_SECRET_SERVICE_TOKEN, "sendgrid-key"},
    {"xkeysib-", is_b64url, 64, 0, QR_SECRET_SERVICE_TOKEN, "sendinblue-key"},
    {"glpat-", is_b64url, 20, 0, QR_SECRET_SERVICE_TOKEN, "gitlab-token"},
    {"glcbt-", is_b64url, 20, 0, QR_SECRET_SERVICE_TOKEN, "gitlab-token"},
    {"gldt-", is_b64url, 20, 0, QR_SECRET_SERVICE_TOKEN, "gitlab-token"},
    {"glffct-", is_b64url, 20, 0, QR_SECRET_SERVICE_TOKEN, "gitlab-token"},
    {"glft-", is_b64url, 20, 0, QR_SECRET_SERVICE_TOKEN, "gitlab-token"},
    {"glimt-", is_b64url, 25, 0, QR_SECRET_SERVICE_TOKEN, "gitlab-token"},
    {"glagent-", is_b64url, 50, 0, QR_SECRET_SERVICE_TOKEN, "gitlab-token"},
    {"gloas-", is_b64url, 64, 0, QR_SECRET_SERVICE_TOKEN, "gitlab-token"},
    {"glptt-", is_hex, 40, 0, QR_SECRET_SERVICE_TOKEN, "gitlab-token"},
    {"glrt-", is_b64url, 20, 0, QR_SECRET_SERVICE_TOKEN, "gitlab-token"},
    {"glsoat-", is_b64url, 20, 0, QR_SECRET_SERVICE_TOKEN, "gitlab-token"},
    {"GR1348941", is_b64url, 20, 0, QR_SECRET_SERVICE_TOKEN, "gitlab-token"},
    {"_gitlab_session=", is_alnum, 32, 0, QR_SECRET_SERVICE_TOKEN, "gitlab-token"},
    {"glc_", is_b64, 32, 0, QR_SECRET_SERVICE_TOKEN, "grafana-token"},
    {"glsa_", is_word, 41, 0, QR_SECRET_SERVICE_TOKEN, "grafana-token"},
    {"eyJrIjoi", is_b64, 70, 0, QR_SECRET_SERVICE_TOKEN, "grafana-token"},
    {"npm_", is_alnum, 36, 0, QR_SECRET_SERVICE_TOKEN, "npm-token"},
    {"pypi-AgEIcHlwaS5vcmc", is_b64url, 50, 0, QR_SECRET_SERVICE_TOKEN, "pypi-token"},
    {"rubygems_", is_hex, 48, 0, QR_SECRET_SERVICE_TOKEN, "rubygems-token"},
    {"CLOJARS_", is_alnum, 60, 0, QR_SECRET_SERVICE_TOKEN, "clojars-token"},
    {"hf_", is_alnum, 34, 0, QR_SECRET_SERVICE_TOKEN, "huggingface-token"},
    {"api_org_", is_alnum, 34, 0, QR_SECRET_SERVICE_TOKEN, "huggingface-token"},
    {"dop_v1_", is_hex, 64, 0, QR_SECRET_SERVICE_TOKEN, "digitalocean-token"},
    {"doo_v1_", is_hex, 64, 0, QR_SECRET_SERVICE_TOKEN, "digitalocean-token"},
    {"dor_v1_", is_hex, 64, 0, QR_SECRET_SERVICE_TOKEN, "digitalocean-token"},
    {"dapi", is_hex, 32, NEED_DIGIT, QR_SECRET_SERVICE_TOKEN, "databricks-token"},
    {"dp.pt.", is_alnum, 43, 0, QR_SECRET_SERVICE_TOKEN, "doppler-token"},
    {"dt0c01.", is_wordish, 89, 0, QR_SECRET_SERVICE_TOKEN, "dynatrace-token"},
    {"duffel_test_", is_wordish, 43, 0, QR_SECRET_SERVICE_TOKEN, "duffel-token"},
    {"duffel_live_", is_wordish, 43, 0, QR_SECRET_SERVICE_TOKEN, "duffel-token"},
    {"EZAK", is_alnum, 54, 0, QR_SECRET_SERVICE_TOKEN, "easypost-token"},
    {"EZTK", is_alnum, 54, 0, QR_SECRET_SERVICE_TOKEN, "easypost-token"},
    {"EAAM", is_alnum, 100, 0, QR_SECRET_SERVICE_TOKEN, "facebook-token"},
    {"EAAC", is_alnum, 100, 0, QR_SECRET_SERVICE_TOKEN, "facebook-token"},
    {"EAAA", is_b64url, 22, NEED_DIGIT, QR_SECRET_SERVICE_TOKEN, "square-token"},
    {"sq0atp-", is_b64url, 22, 0, QR_SECRET_SERVICE_TOKEN, "square-token"},
    {"sq0csp-", is_b64url, 22, 0, QR_SECRET_SERVICE_TOKEN, "square-token"},
    {"FLWSECK_TEST-", is_b64url, 12, 0, QR_SECRET_SERVICE_TOKEN, "flutterwave-key"},
    {"FLWSECK-", is_b64url, 12, 0, QR_SECRET_SERVICE_TOKEN, "flutterwave-key"},
    {"FLWPUBK_TEST-", is_b64url, 32, 0, QR_SECRET_SERVICE_TOKEN, "flutterwave-key"},
    {"fo1_", is_b64url, 43, 0, QR_SECRET_SERVICE_TOKEN, "flyio-token"},
    {"fm1a_", is_b64, 100, 0, QR_SECRET_SERVICE_TOKEN, "flyio-token"},
    {"fm1r_", is_b64, 100, 0, QR_SECRET_SERVICE_TOKEN, "flyio-token"},
    {"fm2_", is_b64, 100, 0, QR_SECRET_SERVICE_TOKEN, "flyio-token"},
    {"fio-u-", is_wordish, 64, 0, QR_SECRET_SERVICE_TOKEN, "frameio-token"},
    {"ops_eyJ", is_b64, 200, 0, QR_SECRET_SERVICE_TOKEN, "1password-token"},
    {"p8e-", is_alnum, 32, 0, QR_SECRET_SERVICE_TOKEN, "adobe-secret"},
    {"AGE-SECRET-KEY-1", is_alnum, 58, 0, QR_SECRET_SERVICE_TOKEN, "age-key"},
    {"LTAI", is_alnum, 20, NEED_DIGIT, QR_SECRET_SERVICE_TOKEN, "alibaba-key"},
    {"ATATT3", is_wordish, 150, 0, QR_SECRET_SERVICE_TOKEN, "atlassian-token"},
    {"4b1d", is_alnum, 38, 0, QR_SECRET_SERVICE_TOKEN, "clickhouse-key"},
    {"v1.0-", is_hexdash, 170, 0, QR_SECRET_SERVICE_TOKEN, "cloudflare-key"},
    {"ico-", is_alnum, 32, NEED_DIGIT, QR_SECRET_SERVICE_TOKEN, "infracost-token"},
    {"s-s4t2ud-", is_hex, 64, 0, QR_SECRET_SERVICE_TOKEN, "intra42-secret"},
    {"s-s4t2af-", is_hex, 64, 0, QR_SECRET_SERVICE_TOKEN, "intra42-secret"},
    {"lin_api_", is_alnum, 40, 0, QR_SECRET_SERVICE_TOKEN, "linear-key"},
    {"API-", is_upper_digit, 26, EXACT | NEED_DIGIT, QR_SECRET_SERVICE_TOKEN, "octopus-key"},
    {"sha256~", is_b64url, 43, 0, QR_SECRET_SERVICE_TOKEN, "openshift-token"},
    {"pscale_tkn_", is_wordish, 32, 0, QR_SECRET_SERVICE_TOKEN, "planetscale-token"},
    {"pscale_oauth_", is_wordish, 32, 0, QR_SECRET_SERVICE_TOKEN, "planetscale-token"},
    {"pscale_pw_", is_wordish, 32, 0, QR_SECRET_SERVICE_TOKEN, "planetscale-token"},
    {"PMAK-", is_hexdash, 59, 0, QR_SECRET_SERVICE_TOKEN, "postman-key"},
    {"pnu_", is_alnum, 36, 0, QR_SECRET_SERVICE_TOKEN, "prefect-token"},
    {"pul-", is_hex, 40, 0, QR_SECRET_SERVICE_TOKEN, "pulumi-token"},
    {"rdme_", is_alnum, 70, 0, QR_SECRET_SERVICE_TOKEN, "readme-token"},
    {"tk-us-", is_b64url, 48, 0, QR_SECRET_SERVICE_TOKEN, "scalingo-token"},
    {"sntrys_eyJ", is_b64, 60, 0, QR_SECRET_SERVICE_TOKEN, "sentry-token"},
    {"sntryu_", is_hex, 64, 0, QR_SECRET_SERVICE_TOKEN, "sentry-token"},
    {"sm_aat_", is_alnum, 16, 0, QR_SECRET_SERVICE_TOKEN, "settlemint-token"},
    {"sm_pat_", is_alnum, 16, 0, QR_SECRET_SERVICE_TOKEN, "settlemint-token"},
    {"sm_sat_", is_alnum, 16, 0, QR_SECRET_SERVICE_TOKEN, "settlemint-token"},
    {"shippo_live_", is_hex, 40, 0, QR_SECRET_SERVICE_TOKEN, "shippo-token"},
    {"shippo_test_", is_hex, 40, 0, QR_SECRET_SERVICE_TOKEN, "shippo-token"},
    {"shpat_", is_hex, 32, 0, QR_SECRET_SERVICE_TOKEN, "shopify-token"},
    {"shpca_", is_hex, 32, 0, QR_SECRET_SERVICE_TOKEN, "shopify-token"},
    {"shppa_", is_hex, 32, 0, QR_SECRET_SERVICE_TOKEN, "shopify-token"},
    {"shpss_", is_hex, 32, 0, QR_SECRET_SERVICE_TOKEN, "shopify-token"},
    {"sgp_", is_word, 40, 0, QR_SECRET_SERVICE_TOKEN, "sourcegraph-token"},
    {"SK", is_hex, 32, EXACT | NEED_DIGIT, QR_SECRET_SERVICE_TOKEN, "twilio-key"},
    {"hvs.", is_b64url, 90, 0, QR_SECRET_SERVICE_TOKEN, "vault-token"},
    {"hvb.", is_b64url, 138, 0, QR_SECRET_SERVICE_TOKEN, "vault-token"},
    {"s.", is_alnum, 24, EXACT | NEED_DIGIT, QR_SECRET_SERVICE_TOKEN, "vault-token"},
    {"tfp_", is_wordish, 59, 0, QR_SECRET_SERVICE_TOKEN, "typeform-token"},
    {"AQVN", is_b64url, 35, NEED_DIGIT, QR_SECRET_SERVICE_TOKEN, "yandex-key"},
    {"t1.", is_wordish, 86, 0, QR_SECRET_SERVICE_TOKEN, "yandex-token"},
    {"dnkey-", is_wordish, 70, 0, QR_SECRET_SERVICE_TOKEN, "defined-networking-token"},
    {"NRAK-", is_alnum, 27, 0, QR_SECRET_SERVICE_TOKEN, "newrelic-key"},
    {"NRII-", is_b64url, 32, 0, QR_SECRET_SERVICE_TOKEN, "newrelic-key"},
    {"NRJS-", is_hex, 19, 0, QR_SECRET_SERVICE_TOKEN, "newrelic-key"},
    {"key-", is_hex, 32, EXACT | NEED_DIGIT, QR_SECRET_SERVICE_TOKEN, "mailgun-key"},
    {"pubkey-", is_hex, 32, EXACT | NEED_DIGIT, QR_SECRET_SERVICE_TOKEN, "mailgun-key"},
    {"test_pub_", is_hex, 31, EXACT, QR_SECRET_SERVICE_TOKEN, "lob-key"},
    {"test_", is_hex, 35, EXACT | NEED_DIGIT, QR_SECRET_SERVICE_TOKEN, "lob-key"},
    {"pk.eyJ", is_wordish, 80, 0, QR_SECRET_SERVICE_TOKEN, "mapbox-token"},
    {"sk.eyJ", is_wordish, 80, 0, QR_SECRET_SERVICE_TOKEN, "mapbox-token"},
    {"ZXlK", is_b64, 40, 0, QR_SECRET_JWT, NULL},
    {"sc_", is_wordish, 50, NEED_DIGIT, QR_SECRET_SERVICE_TOKEN, "authress-key"},
    {"authress_", is_wordish, 50, NEED_DIGIT, QR_SECRET_SERVICE_TOKEN, "authress-key"},
    {"webhook.office.com/webhookb2/", is_teams, 40, INSIDE, QR_SECRET_SERVICE_TOKEN,
     "teams-webhook"},
};

/* services[] indexed by first byte, built once. */
static struct {
  pthread_once_t once;
  unsigned short start[257], order[QR_ARRAY_LEN(services)];
} by_first = {PTHREAD_ONCE_INIT, {0}, {0}};

static void index_services(void) {
  for (size_t k = 0; k < QR_ARRAY_LEN(services); k++)
    by_first.start[(unsigned char)services[k].prefix[0] + 1]++;
  for (size_t c = 1; c <= 256; c++) by_first.start[c] += by_first.start[c - 1];
  unsigned short next[256];
  memcpy(next, by_first.start, sizeof next);
  for (size_t k = 0; k < QR_ARRAY_LEN(services); k++)
    by_first.order[next[(unsigned char)services[k].prefix[0]]++] = (unsigned short)k;
}

static bool service_token(const qr_redact_scan *s, size_t i, const struct service *sv, qr_redact_match *m) {
  if (!has_prefix(s, i, sv->prefix) || (!(sv->flags & INSIDE) && !at_boundary(s, i)))
    return false;
  size_t p = i + strlen(sv->prefix), n = run(s, p, sv->body, MAX_TOKEN);
  if (n < sv->min || ((sv->flags & EXACT) && (n != sv->min || (p + n < s->len &&
                                                              is_word(s->t[p + n])))))
    return false;
  if ((sv->flags & NEED_DIGIT) && !has_digit(s->t + p, n)) return false;
  *m = (qr_redact_match){sv->rule, i, p + n, sv->label, false};
  return true;
}

static bool match_service(const qr_redact_scan *s, size_t i, qr_redact_match *m) {
  unsigned char c = (unsigned char)s->t[i];
  for (unsigned k = by_first.start[c]; k < by_first.start[c + 1]; k++)
    if (service_token(s, i, &services[by_first.order[k]], m)) return true;
  return false;
}

/* ---- tokens without a prefix ---- */

static bool is_azure_char(char c) { return is_alnum(c) || c == '_' || c == '~' || c == '.'; }
static bool is_azure_body(char c) { return is_azure_char(c) || c == '-'; }

/* An Azure AD client secret: three characters, a digit, "Q~", then 31 to 34 more. */
static bool match_azure_ad(const qr_redact_scan *s, size_t i, qr_redact_match *m) {
  if (s->len - i < 40 || s->t[i + 4] != 'Q' || s->t[i + 5] != '~' || !is_digit(s->t[i + 3]) ||
      run(s, i, is_azure_char, 3) != 3 || (i > 0 && i != s->fresh && is_azure_body(s->t[i - 1])))
    return false;
  size_t n = run(s, i + 6, is_azure_body, 40);
  if (n < 31) return false;
  *m = (qr_redact_match){QR_SECRET_SERVICE_TOKEN, i, i + 6 + n, "azure-ad-secret", false};
  return true;
}

/* Digits first: a Telegram bot token ("123456789:AA…") or a Facebook access token
 * ("1234567890123456|…"). */
static bool match_digits(const qr_redact_scan *s, size_t i, qr_redact_match *m) {
  if (!is_digit(s->t[i]) || !at_boundary(s, i)) return false;
  size_t d = run(s, i, is_digit, 17), p = i + d;
  if (p + 1 >= s->len) return false;
  if (d >= 5 && d <= 16 && s->t[p] == ':' && s->t[p + 1] == 'A') {
    size_t n = run(s, p + 2, is_b64url, MAX_VALUE);
    if (n >= 34) {
      *m = (qr_redact_match){QR_SECRET_SERVICE_TOKEN, i, p + 2 + n, "telegram-token", false};
      return true;
    }
  }
  if ((d == 15 || d == 16) && (s->t[p] == '|' || s->t[p] == '%')) {
    size_t n = run(s, p + 1, is_b64url, MAX_VALUE);
    if (n >= 27) {
      *m = (qr_redact_match){QR_SECRET_SERVICE_TOKEN, i, p + 1 + n, "facebook-token", false};
      return true;
    }
  }
  return false;
}

/* Words of a fixed shape: Terraform's "<14>.atlasv1.<60+>" and MaxMind's "<6>_<29>_mmk". */
static bool match_shaped(const qr_redact_scan *s, size_t i, qr_redact_match *m) {
  if (!is_alnum(s->t[i]) || !at_boundary(s, i)) return false;
  if (has_prefix(s, i + 14, ".atlasv1.") && run(s, i, is_alnum, 14) == 14) {
    size_t n = run(s, i + 23, is_wordish, MAX_VALUE);
    if (n >= 60) {
      *m = (qr_redact_match){QR_SECRET_SERVICE_TOKEN, i, i + 23 + n, "terraform-token", false};
      return true;
    }
  }
  if (has_prefix(s, i + 36, "_mmk") && s->t[i + 6] == '_' && run(s, i, is_alnum, 6) == 6 &&
      run(s, i + 7, is_alnum, 29) == 29) {
    *m = (qr_redact_match){QR_SECRET_SERVICE_TOKEN, i, i + 40, "maxmind-key", false};
    return true;
  }
  return false;
}

bool qr_redact_match_token(const qr_redact_scan *s, size_t i, qr_redact_match *m) {
  pthread_once(&by_first.once, index_services);
  return match_service(s, i, m) || match_azure_ad(s, i, m) || match_digits(s, i, m) ||
         match_shaped(s, i, m);
}
