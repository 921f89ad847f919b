/* redact_scan.h — what the redactor's matchers share (redact.c, redact_tokens.c): the text
 * being scanned, a match, and byte-class and run helpers. Internal to server/local. */
#ifndef QR_REDACT_SCAN_H
#define QR_REDACT_SCAN_H

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "local/redact.h"

#define MAX_VALUE 512  /* the longest value or secret body read */
#define MAX_TOKEN 1024 /* the longest service token read (1Password's are ~800) */

/* A secret found at [start, end) of the text; label (static, may be NULL) names it in the
 * placeholder instead of the rule's id; recalled: it was remembered, not found by a rule. */
typedef struct qr_redact_match {
  qr_secret_rule rule;
  size_t start, end;
  const char *label;
  bool recalled;
} qr_redact_match;

typedef struct qr_redact_scan {
  const char *t;
  size_t len;
  size_t fresh; /* just past the last redaction: a boundary, as its placeholder ends in ']' */
  bool k8s;     /* the text declares a Kubernetes Secret: its data values are secrets */
  bool config;  /* a configuration file (.env, YAML, INI…): unquoted values are literals */
} qr_redact_scan;

static inline bool is_word(char c) { return isalnum((unsigned char)c) || c == '_'; }
static inline bool is_b64url(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-'; }
static inline bool is_alnum(char c) { return isalnum((unsigned char)c); }
static inline bool is_digit(char c) { return isdigit((unsigned char)c); }
static inline bool is_hex(char c) { return isxdigit((unsigned char)c); }
static inline bool is_upper_digit(char c) { return isupper((unsigned char)c) || isdigit((unsigned char)c); }
static inline bool is_b64(char c) { return is_alnum(c) || c == '+' || c == '/' || c == '='; }
static inline bool is_hexdash(char c) { return is_hex(c) || c == '-'; }
static inline bool is_wordish(char c) { return is_b64url(c) || c == '.' || c == '='; }
static inline bool is_blank(char c) { return c == ' ' || c == '\t'; }
static inline bool is_teams(char c) { return is_b64url(c) || c == '@' || c == '/'; }

/* Tokens must not start inside a longer word ("task-…" holds "sk-"). */
static inline bool at_boundary(const qr_redact_scan *s, size_t i) {
  return i == 0 || i == s->fresh || !is_word(s->t[i - 1]);
}

static inline bool has_prefix(const qr_redact_scan *s, size_t i, const char *p) {
  size_t n = strlen(p);
  return i <= s->len && n <= s->len - i && !memcmp(s->t + i, p, n);
}

static inline bool has_prefix_nocase(const qr_redact_scan *s, size_t i, const char *p) {
  size_t n = strlen(p);
  return i <= s->len && n <= s->len - i && !strncasecmp(s->t + i, p, n);
}

/* How many bytes from i satisfy `ok` (at most max). */
static inline size_t run(const qr_redact_scan *s, size_t i, bool (*ok)(char), size_t max) {
  size_t n = 0;
  while (i + n < s->len && n < max && ok(s->t[i + n])) n++;
  return n;
}

/* Whether p[0..n) holds one of the bytes of `set`. */
static inline bool strpbrk_n(const char *p, size_t n, const char *set) {
  for (size_t k = 0; k < n; k++)
    if (p[k] && strchr(set, p[k])) return true;
  return false;
}

static inline bool has_digit(const char *p, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (isdigit((unsigned char)p[k])) return true;
  return false;
}

/* A service token at i — a fixed prefix and a body (gitleaks' prefixed rules), or one of the
 * shapes without a prefix (Azure AD secrets, Telegram and Facebook tokens, Terraform, MaxMind)
 * — into *m. */
bool qr_redact_match_token(const qr_redact_scan *s, size_t i, qr_redact_match *m);

#endif
