/* redact.c — finds secrets in text and replaces them with placeholders (see redact.h).
 *
 * The rules are hand-written matchers rather than regular expressions: each is tried at every
 * position, rejects on its first bytes and reads a bounded run, so a scan is linear in the text
 * (times a constant: the longest run a rule reads). Service formats follow gitleaks' default
 * rules: the prefixed tokens are one table; its keyword rules ("heroku … = value") are the
 * generic rule with the service names as secret names. False positives only cost a little
 * context; a miss sends a secret to a third party, so the rules err on the side of redacting. */
#include "local/redact.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "local/redact_scan.h"

#define MIN_KEY_RUN 40            /* base64 bytes in a row: key bodies have lines of 64 */
#define MAX_KEY_LABEL 100         /* "RSA ", "OPENSSH ", "ENCRYPTED " … before "PRIVATE KEY" */
#define MAX_IDENT 64              /* longer names are not checked (keeps the scan linear) */
#define MAX_LINE_LOOK 256         /* how far back a rule looks for its context on the line */
#define MIN_QUOTED 8               /* a quoted value shorter than this is not a secret */
#define MIN_BARE 12                /* an unquoted identifier needs more to tell it from code */
#define MIN_BARE_SYMBOLS 6         /* an unquoted value with digits or symbols */
#define QUOTED_ENTROPY 3.0         /* bits per byte; gitleaks' generic rule uses 3.5 */
#define PASSWORD_ENTROPY 2.5       /* values of password-like names: people pick weak ones */
#define BARE_ENTROPY 3.5
#define MIN_RANDOM_TOKEN 16        /* a token this long and random needs no digit or symbol */
#define MIN_REMEMBERED 8
#define MAX_REMEMBERED 512
#define N_REMEMBERED 16
#define MIN_FOUND 8                /* shorter found secrets are not scrubbed elsewhere */
#define N_FOUND 4096
#define FOUND_BITS 12
#define FOUND_BUCKETS (1u << FOUND_BITS)
#define MAX_CHAIN 8                /* found secrets sharing their first 4 bytes */

static const struct {
  const char *id, *kind;
} rules[QR_SECRET_N_RULES] = {
    [QR_SECRET_AWS_ACCESS_KEY] = {"aws-access-key", "AWS access key"},
    [QR_SECRET_GITHUB_TOKEN] = {"github-token", "GitHub token"},
    [QR_SECRET_ANTHROPIC_KEY] = {"anthropic-key", "Anthropic API key"},
    [QR_SECRET_OPENROUTER_KEY] = {"openrouter-key", "OpenRouter API key"},
    [QR_SECRET_OPENAI_KEY] = {"openai-key", "OpenAI API key"},
    [QR_SECRET_SLACK_TOKEN] = {"slack-token", "Slack token"},
    [QR_SECRET_PRIVATE_KEY] = {"private-key", "private key"},
    [QR_SECRET_JWT] = {"jwt", "JSON Web Token"},
    [QR_SECRET_GENERIC] = {"generic-secret", "password or secret"},
    [QR_SECRET_SERVICE_TOKEN] = {"service-token", "service API token"},
    [QR_SECRET_URL_CREDENTIAL] = {"url-credential", "password in a URL"},
    [QR_SECRET_AUTH_HEADER] = {"auth-header", "HTTP credential"},
    [QR_SECRET_CONFIGURED_KEY] = {"configured-key", "configured API key"},
};

const char *qr_redact_rule_id(qr_secret_rule rule) {
  return (unsigned)rule < QR_SECRET_N_RULES ? rules[rule].id : "unknown";
}

const char *qr_redact_rule_kind(qr_secret_rule rule) {
  return (unsigned)rule < QR_SECRET_N_RULES ? rules[rule].kind : "secret";
}

/* ---- remembered keys and secrets ----------------------------------------------------------- */

/* API keys quorum was configured with (matched whole or cut short at the end of a text). */
static struct {
  char *value[N_REMEMBERED];
  size_t len[N_REMEMBERED];
  size_t n;
} remembered;

/* Secrets found in earlier text, so that a finding or analyzer message quoting one out of its
 * context ("Conversion of string literal \"…\"") is redacted too; indexed by their first 4
 * bytes. Values never hold '[', ']' or a newline, so one can never straddle a placeholder, nor
 * a NUL. */
static struct {
  char *value[N_FOUND];
  unsigned short len[N_FOUND];
  unsigned char rule[N_FOUND];
  const char *label[N_FOUND]; /* static */
  int next[N_FOUND];       /* index + 1 of the next in the bucket; 0 ends it */
  int head[FOUND_BUCKETS]; /* index + 1 */
  size_t n;
} found;

void qr_redact_remember_key(const char *value) {
  size_t n = value ? strlen(value) : 0;
  if (n < MIN_REMEMBERED || n > MAX_REMEMBERED || remembered.n == N_REMEMBERED) return;
  for (size_t k = 0; k < remembered.n; k++)
    if (remembered.len[k] == n && !memcmp(remembered.value[k], value, n)) return;
  char *copy = qr_strndup(value, n);
  if (!copy) return; /* the format rules still apply */
  remembered.value[remembered.n] = copy;
  remembered.len[remembered.n++] = n;
}

static void forget_found(void) {
  for (size_t k = 0; k < found.n; k++) {
    memset(found.value[k], 0, found.len[k]);
    qr_free(found.value[k]);
  }
  memset(&found, 0, sizeof found);
}

void qr_redact_forget(void) {
  for (size_t k = 0; k < remembered.n; k++) {
    memset(remembered.value[k], 0, remembered.len[k]);
    qr_free(remembered.value[k]);
  }
  memset(&remembered, 0, sizeof remembered);
  forget_found();
}

static unsigned found_bucket(const char *p) {
  uint32_t h;
  memcpy(&h, p, sizeof h);
  return (h * 2654435761u) >> (32 - FOUND_BITS);
}

/* Remembers p[0..n) as a secret; whether it was new. When the table is full it starts over:
 * a long-lived server forgets old secrets rather than growing. */
static bool remember_found(const char *p, size_t n, qr_secret_rule rule, const char *label) {
  if (n < MIN_FOUND || n > MAX_VALUE || memchr(p, '[', n) || memchr(p, ']', n) ||
      memchr(p, '\n', n) || memchr(p, '\0', n))
    return false;
  unsigned b = found_bucket(p), chain = 0;
  for (int k = found.head[b]; k; k = found.next[k - 1], chain++)
    if (chain == MAX_CHAIN || (found.len[k - 1] == n && !memcmp(found.value[k - 1], p, n)))
      return false; /* known, or a bucket full: a scan compares at most MAX_CHAIN per byte */
  if (found.n == N_FOUND) {
    forget_found();
    b = found_bucket(p);
  }
  char *copy = qr_strndup(p, n); /* p holds no NUL: all n bytes are copied */
  if (!copy) return false;
  size_t k = found.n++;
  found.value[k] = copy;
  found.len[k] = (unsigned short)n;
  found.rule[k] = (unsigned char)rule;
  found.label[k] = label;
  found.next[k] = found.head[b];
  found.head[b] = (int)k + 1;
  return true;
}

static bool is_b64_char(char c) {
  return isalnum((unsigned char)c) || c == '+' || c == '/' || c == '=';
}

/* Remembers a secret that spans lines (a key block) line by line: its base64 body lines, as
 * a message quoting the block would quote them. */
static bool remember_lines(const char *p, size_t n, qr_secret_rule rule, const char *label) {
  bool learned = false;
  for (size_t a = 0; a < n;) {
    size_t b = a;
    while (b < n && p[b] != '\n' && !(p[b] == '\\' && b + 1 < n && p[b + 1] == 'n')) b++;
    size_t x = a, y = b;
    while (x < y && strchr(" \t\"'`", p[x])) x++;
    while (y > x && strchr(" \t\r\"'`,;+", p[y - 1])) y--;
    bool body = y - x >= 16;
    for (size_t k = x; body && k < y; k++) body = is_b64_char(p[k]);
    if (body) learned |= remember_found(p + x, y - x, rule, label);
    a = b + (b < n && p[b] == '\\' ? 2 : 1);
  }
  return learned;
}

/* ---- matchers ----------------------------------------------------------------------------- */

typedef qr_redact_scan scan;
typedef qr_redact_match match;

/* A token: `prefix` at a boundary, then at least `min` bytes of `body`. */
static bool token(const scan *s, size_t i, const char *prefix, bool (*body)(char), size_t min,
                  qr_secret_rule rule, match *m) {
  if (!has_prefix(s, i, prefix) || !at_boundary(s, i)) return false;
  size_t p = strlen(prefix), n = run(s, i + p, body, MAX_VALUE);
  if (n < min) return false;
  *m = (match){rule, i, i + p + n, NULL, false};
  return true;
}

/* A remembered key, whole or cut short by the end of the text. */
static bool match_remembered(const scan *s, size_t i, match *m) {
  for (size_t k = 0; k < remembered.n; k++) {
    size_t n = QR_MIN(remembered.len[k], s->len - i);
    if (s->t[i] == remembered.value[k][0] && (n == remembered.len[k] || n >= MIN_REMEMBERED) &&
        !memcmp(s->t + i, remembered.value[k], n)) {
      *m = (match){QR_SECRET_CONFIGURED_KEY, i, i + n, NULL, true};
      return true;
    }
  }
  return false;
}

/* A secret found earlier, wherever it appears again. */
static bool match_found(const scan *s, size_t i, match *m) {
  if (s->len - i < MIN_FOUND) return false;
  for (int k = found.head[found_bucket(s->t + i)]; k; k = found.next[k - 1])
    if (found.len[k - 1] <= s->len - i && !memcmp(s->t + i, found.value[k - 1], found.len[k - 1])) {
      *m = (match){(qr_secret_rule)found.rule[k - 1], i, i + found.len[k - 1], found.label[k - 1],
                   true};
      return true;
    }
  return false;
}

/* AKIA… and its siblings: 4 prefix characters and 16 more, upper case and digits. */
static bool match_aws(const scan *s, size_t i, match *m) {
  static const char *const prefixes[] = {"AKIA", "ASIA", "ABIA", "ACCA", "A3T"};
  if (s->t[i] != 'A' || !at_boundary(s, i)) return false;
  for (size_t k = 0; k < QR_ARRAY_LEN(prefixes); k++)
    if (has_prefix(s, i, prefixes[k]) && run(s, i, is_upper_digit, 21) == 20) {
      *m = (match){QR_SECRET_AWS_ACCESS_KEY, i, i + 20, NULL, false};
      return true;
    }
  return false;
}

/* sk-ant-…, sk-or-v1-… and the OpenAI formats (sk-…, sk-proj-…, sk-svcacct-…). */
static bool match_sk(const scan *s, size_t i, match *m) {
  if (s->t[i] != 's') return false;
  return token(s, i, "sk-ant-", is_b64url, 20, QR_SECRET_ANTHROPIC_KEY, m) ||
         token(s, i, "sk-or-v1-", is_b64url, 20, QR_SECRET_OPENROUTER_KEY, m) ||
         token(s, i, "sk-", is_b64url, 20, QR_SECRET_OPENAI_KEY, m);
}

/* header.payload.signature, both JSON parts starting with '{"' (base64 "eyJ"); the signature
 * may be empty (alg "none"). */
static bool match_jwt(const scan *s, size_t i, match *m) {
  if (s->t[i] != 'e' || !has_prefix(s, i, "eyJ") || !at_boundary(s, i)) return false;
  size_t a = run(s, i, is_b64url, MAX_TOKEN), p = i + a;
  if (a < 13 || p >= s->len || s->t[p] != '.' || !has_prefix(s, p + 1, "eyJ")) return false;
  size_t b = run(s, p + 1, is_b64url, MAX_TOKEN), q = p + 1 + b;
  if (b < 13 || q >= s->len || s->t[q] != '.') return false;
  *m = (match){QR_SECRET_JWT, i, q + 1 + run(s, q + 1, is_b64url, MAX_TOKEN), NULL, false};
  return true;
}

/* ---- private key blocks ---- */

/* "-----BEGIN … PRIVATE KEY-----" (or "… PRIVATE KEY BLOCK-----", PGP) at i: the length of
 * that marker, or 0. The label ("RSA ", "OPENSSH ") is upper case, digits, blanks, '_' and
 * '-', so one marker never reaches into the next. */
static size_t key_marker(const scan *s, size_t i, const char *begin_or_end) {
  if (!has_prefix(s, i, begin_or_end)) return 0;
  size_t p = i + strlen(begin_or_end);
  for (size_t k = 0; k <= MAX_KEY_LABEL && p + k < s->len; k++) {
    if (has_prefix(s, p + k, "PRIVATE KEY-----")) return p + k + strlen("PRIVATE KEY-----") - i;
    if (has_prefix(s, p + k, "PRIVATE KEY BLOCK-----"))
      return p + k + strlen("PRIVATE KEY BLOCK-----") - i;
    char c = s->t[p + k];
    if (!is_upper_digit(c) && c != ' ' && c != '_' && c != '-') return 0;
  }
  return 0;
}

/* An armor header inside a key block: "Proc-Type: 4,ENCRYPTED", "DEK-Info: …" (encrypted PEM),
 * "Version: …", "Comment: …" (PGP). A blank line may follow one. */
static bool header_line(const scan *s, size_t i) {
  size_t n = 0;
  while (i + n < s->len && n < 32 && (isalpha((unsigned char)s->t[i + n]) || s->t[i + n] == '-'))
    n++;
  return n >= 4 && i + n < s->len && s->t[i + n] == ':';
}

/* Whether the line [i, eol) can only be part of a key body: base64 wrapped in the
 * indentation, quotes and "\n" escapes of a string literal, or an armor header. */
static bool keyish_line(const scan *s, size_t i, size_t eol) {
  while (i < eol && strchr(" \t\"'`", s->t[i])) i++;
  if (header_line(s, i)) return true;
  while (eol > i && strchr(" \t\r\"'`,;+", s->t[eol - 1])) eol--;
  if (eol - i >= 2 && s->t[eol - 2] == '\\' && s->t[eol - 1] == 'n') eol -= 2;
  return eol > i && run(s, i, is_b64, eol - i) == eol - i;
}

static bool blank_line(const scan *s, size_t i, size_t eol) {
  while (i < eol && strchr(" \t\r\"'`", s->t[i])) i++;
  return i == eol || (eol - i == 2 && s->t[i] == '\\' && s->t[i + 1] == 'n');
}

/* The end of an END marker within [p, eol), or 0. */
static size_t find_end(const scan *s, size_t p, size_t eol) {
  for (; p < eol; p++) {
    size_t n = s->t[p] == '-' ? key_marker(s, p, "-----END ") : 0;
    if (n) return p + n;
  }
  return 0;
}

/* From BEGIN through END, line by line: the BEGIN line, then body lines (a blank line only
 * after armor headers). Without an END (a cut or mangled block), through the body lines, so
 * the body never leaks. Each line is looked at once, which keeps the scan linear however many
 * BEGIN markers a file holds. */
static bool match_private_key(const scan *s, size_t i, match *m) {
  size_t begin = s->t[i] == '-' ? key_marker(s, i, "-----BEGIN ") : 0;
  if (!begin) return false;
  size_t p = i + begin, last = p, end = 0;
  bool after_header = false;
  for (bool first = true; !end; first = false) {
    size_t eol = p;
    while (eol < s->len && s->t[eol] != '\n') eol++;
    if ((end = find_end(s, p, eol))) break;
    if (!first) {
      bool blank = blank_line(s, p, eol);
      if (blank ? !after_header : !keyish_line(s, p, eol)) break;
      after_header = !blank && header_line(s, p);
    }
    last = eol;
    if (eol >= s->len) break;
    p = eol + 1;
  }
  end = end ? end : last;
  for (p = i + begin; p < end; p++) /* a key body has long base64 runs; a marker in code has none */
    if (run(s, p, is_b64, MIN_KEY_RUN) == MIN_KEY_RUN) {
      *m = (match){QR_SECRET_PRIVATE_KEY, i, end, NULL, false};
      return true;
    }
  return false;
}

/* ---- credentials in context: URLs, headers, .netrc, curl, XML settings, Kubernetes ---- */

/* Templates and references are not secrets: "${DB_PASSWORD}", "{{ token }}", "%(pw)s",
 * "$DB_PASSWORD", "<your-password>", "%PW%", "****", "settings.secret" (a property path),
 * placeholders already there. A value that
 * only starts with '$' or '<' ("$uperS3cret!") is not one. */
static bool is_reference(const char *p, size_t n) {
  static const char *const marks[] = {"${", "{{", "%(", "%s", "$(", "[REDACTED:"};
  for (size_t k = 0; k < QR_ARRAY_LEN(marks); k++)
    if (memmem(p, n, marks[k], strlen(marks[k]))) return true;
  static const char *const placeholders[] = {"password", "pass", "passwd", "pwd", "secret",
                                             "token", "changeme", "changeit", "example"};
  for (size_t k = 0; k < QR_ARRAY_LEN(placeholders); k++)
    if (n == strlen(placeholders[k]) && !strncasecmp(p, placeholders[k], n)) return true;
  size_t stars = 0, same = 0, dots = 0, letters = 0;
  for (size_t k = 0; k < n; k++) {
    stars += p[k] == '*' || p[k] == 'x' || p[k] == 'X';
    same += p[k] == p[0]; /* "aaaaaaaa", "0000": a dummy (one character may be a password) */
    dots += p[k] == '.' && k && k + 1 < n && p[k - 1] != '.';
    letters += isalpha((unsigned char)p[k]) || p[k] == '_';
  }
  if (dots && dots + letters == n) return true; /* a property path: "consumer.secret" */
  size_t name = 1;
  while (name < n && (is_word(p[name]) || p[name] == '.')) name++;
  return n == 0 || stars == n || (same == n && n >= 4) || (p[0] == '<' && p[n - 1] == '>') ||
         (p[0] == '$' && name == n) || (p[0] == '%' && p[n - 1] == '%');
}

/* Names, templates and references are not secrets: "quoted-string", "_RSAPrivateKey". A
 * secret has a digit or a symbol. */
static bool looks_like_code(const char *p, size_t n) {
  if (is_reference(p, n)) return true;
  for (size_t k = 0; k < n; k++)
    if (isdigit((unsigned char)p[k]) || strchr("!@#$%^&*+/=?~", p[k])) return false;
  return true;
}

static bool url_stop(char c) {
  return isspace((unsigned char)c) || strchr("/\"'`<>\\?#", c) || !c;
}

/* scheme://user:password@host — the password (the last '@' ends it). */
static bool match_url_credential(const scan *s, size_t i, match *m) {
  if (s->t[i] != ':' || !has_prefix(s, i, "://") || i == 0 || !is_alnum(s->t[i - 1])) return false;
  size_t u = i + 3, colon = u;
  while (colon < s->len && colon - u < MAX_IDENT * 4 && !url_stop(s->t[colon]) &&
         s->t[colon] != ':' && s->t[colon] != '@')
    colon++;
  if (colon >= s->len || s->t[colon] != ':') return false;
  size_t q = colon + 1, at = 0;
  for (size_t p = q; p < s->len && p - q <= MAX_VALUE && !url_stop(s->t[p]); p++)
    if (s->t[p] == '@') at = p;
  if (!at || at == q || at + 1 >= s->len || !(is_alnum(s->t[at + 1]) || s->t[at + 1] == '['))
    return false;
  if (is_reference(s->t + q, at - q)) return false;
  *m = (match){QR_SECRET_URL_CREDENTIAL, q, at, NULL, false};
  return true;
}

static bool match_specific(const scan *s, size_t i, match *m);

static double entropy(const char *p, size_t n);

static bool is_header_token(char c) { return is_b64url(c) || (c && strchr(".~+/=", c)); }

/* The line before i (at most MAX_LINE_LOOK bytes) holds `word`, case-insensitively. */
static bool line_has(const scan *s, size_t i, const char *word) {
  size_t a = i, n = strlen(word);
  while (a > 0 && i - a < MAX_LINE_LOOK && s->t[a - 1] != '\n') a--;
  for (size_t p = a; p + n <= i; p++)
    if (!strncasecmp(s->t + p, word, n)) return true;
  return false;
}

/* "Bearer <token>" anywhere; "Basic <base64>" after "Authorization". */
static bool match_auth_header(const scan *s, size_t i, match *m) {
  char c = (char)tolower((unsigned char)s->t[i]);
  if ((c != 'b') || !at_boundary(s, i)) return false;
  size_t p;
  if (has_prefix_nocase(s, i, "bearer") && i + 6 < s->len && is_blank(s->t[i + 6]))
    p = i + 7;
  else if (has_prefix_nocase(s, i, "basic") && i + 5 < s->len && is_blank(s->t[i + 5]) &&
           line_has(s, i, "authorization"))
    p = i + 6;
  else
    return false;
  size_t n = run(s, p, is_header_token, MAX_TOKEN);
  match inner;
  /* A long random token may be letters only; a short one must hold a digit or a symbol. */
  bool random = n >= MIN_RANDOM_TOKEN && entropy(s->t + p, n) >= BARE_ENTROPY;
  if (n < 8 || (random ? is_reference(s->t + p, n) : looks_like_code(s->t + p, n)) ||
      match_specific(s, p, &inner))
    return false;
  *m = (match){QR_SECRET_AUTH_HEADER, p, p + n, NULL, false};
  return true;
}

static bool is_value_char(char c) { return c && !isspace((unsigned char)c) && !strchr("\"'`", c); }

/* curl -u user:password / --user=user:password — the password. */
static bool match_curl_user(const scan *s, size_t i, match *m) {
  if (s->t[i] != '-' || i == 0 || !is_blank(s->t[i - 1])) return false;
  size_t p = has_prefix(s, i, "--user") ? i + 6 : has_prefix(s, i, "-u") ? i + 2 : 0;
  if (!p || p >= s->len || !(is_blank(s->t[p]) || s->t[p] == '=') || !line_has(s, i, "curl"))
    return false;
  p++;
  while (p < s->len && (is_blank(s->t[p]) || s->t[p] == '"' || s->t[p] == '\'')) p++;
  size_t n = run(s, p, is_value_char, MAX_VALUE);
  const char *colon = memchr(s->t + p, ':', n);
  if (!colon) return false;
  size_t q = (size_t)(colon - s->t) + 1, end = p + n;
  if (end - q < 3 || is_reference(s->t + q, end - q)) return false;
  *m = (match){QR_SECRET_AUTH_HEADER, q, end, NULL, false};
  return true;
}

/* .netrc: "machine h login u password p" (on one line or several). */
static bool match_netrc(const scan *s, size_t i, match *m) {
  if (s->t[i] != 'p' || !has_prefix(s, i, "password") || !at_boundary(s, i) ||
      i + 8 >= s->len || !is_blank(s->t[i + 8]))
    return false;
  size_t a = i;
  while (a > 0 && is_blank(s->t[a - 1])) a--;
  if (a > 0 && s->t[a - 1] != '\n' && !line_has(s, i, "login ") && !line_has(s, i, "machine "))
    return false;
  size_t p = i + 8;
  while (p < s->len && is_blank(s->t[p])) p++;
  size_t n = run(s, p, is_value_char, MAX_VALUE);
  /* After "machine" (the entry may span lines) the value is a password whatever it holds. */
  size_t from = i > MAX_LINE_LOOK * 2 ? i - MAX_LINE_LOOK * 2 : 0;
  bool entry = memmem(s->t + from, i - from, "machine ", 8) != NULL;
  if (n < 4 || (entry ? is_reference(s->t + p, n) : looks_like_code(s->t + p, n))) return false;
  *m = (match){QR_SECRET_GENERIC, p, p + n, NULL, false};
  return true;
}

static bool secret_name(const char *name, size_t n, bool *service, bool *strong);

/* <add key="DbPassword" value="…"/> (.NET settings, NuGet.config). */
static bool match_xml_setting(const scan *s, size_t i, match *m) {
  if (s->t[i] != '<' || !has_prefix(s, i, "<add key=\"")) return false;
  size_t k = i + 10, kn = 0;
  while (k + kn < s->len && kn <= MAX_IDENT && s->t[k + kn] != '"') kn++;
  bool service, strong;
  if (k + kn >= s->len || kn > MAX_IDENT || !secret_name(s->t + k, kn, &service, &strong))
    return false;
  size_t p = k + kn + 1;
  while (p < s->len && is_blank(s->t[p])) p++;
  if (!has_prefix(s, p, "value=\"")) return false;
  p += 7;
  size_t n = 0;
  while (p + n < s->len && n <= MAX_VALUE && s->t[p + n] != '"' && s->t[p + n] != '\n') n++;
  if (p + n >= s->len || s->t[p + n] != '"' || n < 4 || is_reference(s->t + p, n)) return false;
  *m = (match){QR_SECRET_GENERIC, p, p + n, NULL, false};
  return true;
}

/* In a Kubernetes Secret, an indented "name: <base64>" line: the value. */
static bool match_k8s_data(const scan *s, size_t i, match *m) {
  if (!s->k8s || !is_blank(s->t[i]) || (i > 0 && s->t[i - 1] != '\n')) return false;
  size_t p = i;
  while (p < s->len && is_blank(s->t[p])) p++;
  size_t n = run(s, p, is_b64url, MAX_IDENT);
  p += n;
  if (!n || p + 1 >= s->len || s->t[p] != ':' || !is_blank(s->t[p + 1])) return false;
  while (p + 1 < s->len && is_blank(s->t[p + 1])) p++;
  size_t v = p + 1, quote = v < s->len && (s->t[v] == '"' || s->t[v] == '\'');
  v += quote;
  size_t len = run(s, v, is_b64, MAX_TOKEN), e = v + len + quote;
  while (e < s->len && (is_blank(s->t[e]) || s->t[e] == '\r')) e++;
  bool encoded = has_digit(s->t + v, len) || strpbrk_n(s->t + v, len, "+/=");
  if (len < 10 || !encoded || (e < s->len && s->t[e] != '\n') || is_reference(s->t + v, len))
    return false;
  *m = (match){QR_SECRET_GENERIC, v, v + len, NULL, false};
  return true;
}

static bool (*const specific[])(const scan *, size_t, match *) = {
    match_remembered, match_found, match_private_key, match_aws, match_sk, match_jwt,
    qr_redact_match_token, match_url_credential, match_auth_header, match_curl_user, match_netrc,
    match_xml_setting, match_k8s_data};

static bool match_specific(const scan *s, size_t i, match *m) {
  for (size_t k = 0; k < QR_ARRAY_LEN(specific); k++)
    if (specific[k](s, i, m)) return true;
  return false;
}

/* ---- the generic rule: NAME = "value" ------------------------------------------------------- */

static bool is_name(char c) { return is_word(c) || c == '-' || c == '.'; }

static bool in_list(const char *w, const char *const *list, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (!strcmp(w, list[k])) return true;
  return false;
}

/* Whether a name such as DB_PASSWORD, clientSecret, AccountKey or HEROKU_API names a secret
 * (words split at _ - . and lower→upper case changes): a word is a secret word, "key" follows
 * a word that makes it one, or a word names a service with tokens (gitleaks' keyword rules;
 * *service is set, and the value must look more random). A last word naming something else
 * ("token_type", "API_KEY_ENV", "password_length", "secret_name") rules it out. *strong: the
 * last word itself is a secret ("DB_PASSWORD", "apiKey", "SECRET_KEY"), so a literal value
 * is one whatever its characters. */
static bool secret_name(const char *name, size_t n, bool *service, bool *strong) {
  static const char *const words[] = {
      "password", "passwd", "pwd", "pw", "pass", "passphrase", "secret", "secrets", "token",
      "apikey", "credential", "credentials", "creds", "privatekey", "accesskey", "secretkey",
      "authkey", "authtoken", "accesstoken", "auth", "sig"};
  static const char *const key_owners[] = {
      "api", "access", "private", "secret", "auth", "signing", "encryption", "master", "client",
      "account", "app", "service", "storage", "license", "consumer", "webhook", "session", "jwt",
      "hmac", "admin", "root", "deploy", "subscription", "shared", "aes", "cipher", "crypto"};
  static const char *const service_names[] = {
      "adafruit", "adobe", "airtable", "algolia", "alibaba", "asana", "atlassian", "confluence",
      "jira", "beamer", "bitbucket", "bittrex", "meraki", "cloudflare", "codecov", "cohere",
      "coinbase", "confluent", "contentful", "datadog", "dnkey", "discord", "droneci", "dropbox",
      "etsy", "facebook", "fastly", "finicity", "finnhub", "flickr", "freshbooks", "gitter",
      "gocardless", "heroku", "hubspot", "intercom", "jfrog", "artifactory", "bintray",
      "kraken", "kucoin", "launchdarkly", "linkedin", "mailchimp", "mailgun", "mapbox",
      "mattermost", "messagebird", "netlify", "newrelic", "nytimes", "okta", "plaid",
      "privateai", "rapidapi", "sendbird", "sentry", "snyk", "sonar", "squarespace", "sumo",
      "telegram", "travis", "twitch", "twitter", "typeform", "yandex", "zendesk", "sourcegraph",
      "twilio", "contribsys", "stripe", "sendgrid", "gitlab", "slack"};
  static const char *const strong_owners[] = {"api",     "access",     "private", "secret", "auth",
                                              "signing", "encryption", "master",  "client"};
  static const char *const not_values[] = {
      "id", "ids", "name", "names", "url", "uri", "endpoint", "file", "path", "type", "length",
      "len", "size", "env", "var", "count", "ttl", "expiry", "expires", "header", "field",
      "prefix", "hint", "label", "format", "kind", "mode", "dir", "enabled", "required",
      "policy", "regex", "pattern", "version", "region", "host", "domain", "user", "username",
      "email", "reset", "hash", "hashed", "salt", "rounds", "min", "max", "validator", "ref", "refs",
      "source", "store", "provider", "location", "manager", "arn"};
  char prev[16] = "", last[16] = "";
  bool secret = false, owned_key = false, named_service = false;
  for (size_t a = 0; a < n;) {
    size_t b = a;
    while (b < n && is_alnum(name[b]) &&
           !(b > a && islower((unsigned char)name[b - 1]) && isupper((unsigned char)name[b])))
      b++;
    if (b == a) { /* a separator */
      a++;
      continue;
    }
    memcpy(prev, last, sizeof prev);
    memset(last, 0, sizeof last);
    for (size_t k = 0; b - a < sizeof last && k < b - a; k++)
      last[k] = (char)tolower((unsigned char)name[a + k]);
    a = b;
    secret |= in_list(last, words, QR_ARRAY_LEN(words));
    owned_key |= !strcmp(last, "key") && in_list(prev, key_owners, QR_ARRAY_LEN(key_owners));
    named_service |= in_list(last, service_names, QR_ARRAY_LEN(service_names));
  }
  if (!*last || in_list(last, not_values, QR_ARRAY_LEN(not_values))) return false;
  *service = named_service && !secret && !owned_key;
  *strong = (in_list(last, words, QR_ARRAY_LEN(words)) && strcmp(last, "sig")) ||
            (!strcmp(last, "key") && in_list(prev, strong_owners, QR_ARRAY_LEN(strong_owners)));
  return secret || owned_key || named_service;
}

/* Shannon entropy of p[0..n) in bits per byte. */
static double entropy(const char *p, size_t n) {
  size_t count[256] = {0};
  for (size_t i = 0; i < n; i++) count[(unsigned char)p[i]]++;
  double h = 0;
  for (size_t c = 0; c < 256; c++)
    if (count[c]) {
      double f = (double)count[c] / (double)n;
      h -= f * log2(f);
    }
  return h;
}

static bool skip_blanks(const scan *s, size_t *p);
static bool rest_of_line_blank(const scan *s, size_t p);

static bool is_bare_value(char c) { return is_alnum(c) || (c && strchr("+/=_.~!@#$%^&*-:", c)); }
static bool is_identifier(char c) { return is_word(c) || c == '.'; }

/* Where an unquoted value may end: blanks, separators, a closing quote or bracket. */
static bool bare_end(char c) {
  return isspace((unsigned char)c) || strchr(",;#\"'`)]}&<", c);
}

/* The value after an assignment operator at v: quoted (the quotes stay) or bare. Values of
 * password-like names may be weaker; those of a service's name must be token-like. A literal
 * of a strong name (quoted, or `literal`: a config file's value running to the end of its
 * line) is a secret whatever its characters, unless it is a reference or a placeholder. */
static bool secret_value(const scan *s, size_t v, bool service, bool strong, bool literal,
                         match *m) {
  if (v >= s->len) return false;
  char q = s->t[v];
  size_t a, n;
  double min_entropy = service ? BARE_ENTROPY - 0.5 : QUOTED_ENTROPY;
  bool quoted = q == '"' || q == '\'' || q == '`';
  if (quoted) {
    a = v + 1;
    for (n = 0; a + n < s->len && n <= MAX_VALUE && s->t[a + n] != q; n++)
      if (isspace((unsigned char)s->t[a + n])) return false;
    if (a + n >= s->len || s->t[a + n] != q || n < MIN_QUOTED) return false;
    if (!service) min_entropy = PASSWORD_ENTROPY;
  } else {
    a = v;
    n = run(s, a, is_bare_value, MAX_VALUE + 1);
    if (n > MAX_VALUE || (a + n < s->len && !bare_end(s->t[a + n]))) return false;
    literal = literal && rest_of_line_blank(s, a + n);
    bool identifier = run(s, a, is_identifier, n) == n && !isdigit((unsigned char)s->t[a]);
    size_t min = identifier ? MIN_BARE : MIN_BARE_SYMBOLS;
    if (n < (strong && literal ? QR_MIN(min, MIN_QUOTED) : min) || s->t[a] == '$') return false;
    if (identifier) min_entropy = BARE_ENTROPY;
  }
  if (service && (n < 16 || !has_digit(s->t + a, n))) return false;
  match inner;
  if (match_specific(s, a, &inner)) return false; /* reported under its own rule */
  bool any = strong && !service && (quoted || literal);
  if (any ? is_reference(s->t + a, n)
          : looks_like_code(s->t + a, n) || entropy(s->t + a, n) < min_entropy)
    return false;
  *m = (match){QR_SECRET_GENERIC, a, a + n, NULL, false};
  return true;
}

static bool skip_blanks(const scan *s, size_t *p) {
  while (*p < s->len && is_blank(s->t[*p])) (*p)++;
  return *p < s->len;
}

/* Only blanks (or a " #" comment) from p to the end of its line. */
static bool rest_of_line_blank(const scan *s, size_t p) {
  while (p < s->len && (is_blank(s->t[p]) || s->t[p] == '\r')) {
    if (s->t[p] == ' ' && p + 1 < s->len && s->t[p + 1] == '#') return true;
    p++;
  }
  return p >= s->len || s->t[p] == '\n';
}

/* Whether the name at i opens its line, after indentation, "export " or a YAML "- ". */
static bool opens_line(const scan *s, size_t i) {
  size_t a = i;
  while (a > 0 && is_blank(s->t[a - 1])) a--;
  if (a >= 7 && !memcmp(s->t + a - 7, "export ", 7)) a -= 7;
  else if (a >= 2 && !memcmp(s->t + a - 2, "- ", 2)) a -= 2;
  while (a > 0 && is_blank(s->t[a - 1])) a--;
  return a == 0 || s->t[a - 1] == '\n';
}

/* Whether the name at i follows "#define" (C's assignment is a blank). */
static bool after_define(const scan *s, size_t i) {
  size_t p = i;
  while (p > 0 && is_blank(s->t[p - 1])) p--;
  return p < i && p >= 7 && !memcmp(s->t + p - 7, "#define", 7);
}

/* NAME, an optional closing quote (JSON, dict keys), then = : := => ?= or '>' after "<NAME"
 * (XML), blanks after "#define", or ", " and a quoted value after a quoted name (PHP's
 * define('DB_PASSWORD', '…'), setters); then the value. An unquoted value is a literal in a
 * configuration file (NAME: value, NAME = value on a line of its own) and in .env style
 * (NAME=value, no blank before '=', opening its line). */
static bool match_generic(const scan *s, size_t i, match *m) {
  if (!(isalpha((unsigned char)s->t[i]) || s->t[i] == '_') || !at_boundary(s, i)) return false;
  size_t n = run(s, i, is_name, MAX_IDENT + 1);
  bool service = false, strong = false;
  if (n > MAX_IDENT || !secret_name(s->t + i, n, &service, &strong)) return false;
  size_t p = i + n;
  bool quoted_name = i > 0 && p < s->len && strchr("\"'`", s->t[p]) && s->t[i - 1] == s->t[p];
  if (p < s->len && strchr("\"'`", s->t[p])) p++;
  if (after_define(s, i) && p < s->len && is_blank(s->t[p])) {
    skip_blanks(s, &p);
    return secret_value(s, p, service, strong, false, m);
  }
  bool literal = opens_line(s, i) && (s->config || (p < s->len && s->t[p] == '='));
  if (!skip_blanks(s, &p)) return false;
  if (has_prefix(s, p, ":=") || has_prefix(s, p, "=>") || has_prefix(s, p, "?=")) p += 2;
  else if ((s->t[p] == '=' && !has_prefix(s, p, "==")) || s->t[p] == ':') p++;
  else if (s->t[p] == '>' && i > 0 && s->t[i - 1] == '<') p++;
  else if (s->t[p] == ',' && quoted_name) {
    p++;
    return skip_blanks(s, &p) && strchr("\"'`", s->t[p]) &&
           secret_value(s, p, service, strong, false, m);
  } else return false;
  return skip_blanks(s, &p) && secret_value(s, p, service, strong, literal, m);
}

/* ---- the scan ------------------------------------------------------------------------------ */

static size_t count_lines(const char *p, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += p[i] == '\n';
  return k;
}

static int add_item(qr_redacted *r, size_t *alloc, qr_redaction item) {
  if (r->n == *alloc) {
    size_t a = *alloc ? *alloc * 2 : 8;
    qr_redaction *items = qr_realloc(r->items, a * sizeof *items);
    if (!items) return QR_E_NOMEM;
    r->items = items;
    *alloc = a;
  }
  r->items[r->n++] = item;
  r->counts[item.rule]++;
  return QR_OK;
}

/* Writes the placeholder for text[m->start, m->end): the rule id (or the match's label), then
 * every newline the secret spanned. */
static int put_placeholder(qr_buf *out, const scan *s, const match *m) {
  int rc = qr_buf_printf(out, "[REDACTED:%s]", m->label ? m->label : rules[m->rule].id);
  for (size_t k = m->start; !rc && k < m->end; k++)
    if (s->t[k] == '\n') rc = qr_buf_append(out, "\n", 1);
  return rc;
}

/* One pass over s into *out (zeroed first); *learned tells whether a secret was seen for the
 * first time (then an earlier mention of it, out of context, may have been passed over). */
static int scan_text(scan *s, qr_redacted *out, bool *learned) {
  memset(out, 0, sizeof *out);
  s->fresh = 0;
  qr_buf buf;
  qr_buf_init(&buf, SIZE_MAX / 2);
  size_t copied = 0, line = 1, alloc = 0;
  int rc = qr_buf_append(&buf, "", 0);
  /* A generic match starts at its name but replaces only the value; the name is scanned for
   * the other rules first, the value waiting as `pending` until the scan reaches it. */
  match pending = {0};
  for (size_t i = 0; !rc && i < s->len;) {
    match m;
    if (pending.end && i == pending.start) {
      m = pending;
    } else if (!match_specific(s, i, &m) && (pending.end || !match_generic(s, i, &m))) {
      line += s->t[i++] == '\n';
      continue;
    } else if (m.start > i) {
      pending = m;
      line += s->t[i++] == '\n';
      continue;
    }
    if (m.end > pending.start) pending = (match){0}; /* applied, or overlapped by m */
    size_t span = count_lines(s->t + m.start, m.end - m.start);
    if (!m.recalled)
      *learned |= span ? remember_lines(s->t + m.start, m.end - m.start, m.rule, m.label)
                       : remember_found(s->t + m.start, m.end - m.start, m.rule, m.label);
    rc = qr_buf_append(&buf, s->t + copied, m.start - copied);
    if (!rc) rc = put_placeholder(&buf, s, &m);
    qr_redaction item = {m.rule, (int)line, (int)(line + span), m.start, m.end};
    if (!rc) rc = add_item(out, &alloc, item);
    line += span;
    copied = i = s->fresh = m.end;
  }
  if (!rc) rc = qr_buf_append(&buf, s->t + copied, s->len - copied);
  if (!rc) out->text = qr_buf_detach(&buf, &out->len);
  qr_buf_free(&buf);
  if (!rc && !out->text) rc = QR_E_NOMEM;
  if (rc) qr_redacted_clear(out);
  return rc;
}

/* Whether `path` names a configuration file, whose unquoted values are literals: .env files,
 * YAML, INI, TOML, properties, .netrc-like dotfiles. */
static bool config_path(const char *path) {
  static const char *const ext[] = {".env", ".yml", ".yaml", ".ini", ".cfg", ".conf", ".toml",
                                    ".properties", ".netrc", ".pgpass", ".npmrc", ".pypirc"};
  const char *base = path ? strrchr(path, '/') : NULL;
  base = base ? base + 1 : path;
  if (!base) return false;
  if (!strncmp(base, ".env", 4)) return true; /* .env, .env.local, .env.production */
  size_t n = strlen(base);
  for (size_t k = 0; k < QR_ARRAY_LEN(ext); k++) {
    size_t e = strlen(ext[k]);
    if (n >= e && !strcasecmp(base + n - e, ext[k])) return true;
  }
  return false;
}

int qr_redact(const char *text, size_t len, qr_redacted *out, qr_err *e) {
  return qr_redact_file(NULL, text, len, out, e);
}

int qr_redact_file(const char *path, const char *text, size_t len, qr_redacted *out, qr_err *e) {
  scan s = {text ? text : "", text ? len : 0, 0, false, config_path(path)};
  s.k8s = memmem(s.t, s.len, "kind: Secret", 12) || memmem(s.t, s.len, "kind: \"Secret\"", 14);
  bool learned = false;
  int rc = scan_text(&s, out, &learned);
  if (!rc && learned) { /* once more, now that every secret of the text is known */
    qr_redacted_clear(out);
    rc = scan_text(&s, out, &learned);
  }
  if (rc) return qr_err_set(e, rc, "redacting secrets: %s", qr_strerror(rc));
  return QR_OK;
}

void qr_redacted_clear(qr_redacted *r) {
  qr_free(r->text);
  qr_free(r->items);
  memset(r, 0, sizeof *r);
}

/* ---- JSON documents and messages ------------------------------------------------------------ */

/* Which strings are redacted: all (keys NULL), or those under a member named in keys[] (text). */
typedef struct {
  const char *const *keys;
  size_t n_keys;
} json_scope;

static int redact_json_value(json_t *j, const json_scope *sc, bool text, int *count, int depth,
                             qr_err *e) {
  if (depth > 64) return QR_OK; /* request bodies are a few levels deep; deeper is not ours */
  if (json_is_string(j) && text) {
    qr_redacted r;
    int rc = qr_redact(json_string_value(j), json_string_length(j), &r, e);
    /* whole characters are replaced by ASCII, so the text stays UTF-8 */
    if (!rc && r.n && json_string_setn_nocheck(j, r.text, r.len))
      rc = qr_err_set(e, QR_E_NOMEM, "redacting secrets: out of memory");
    *count += (int)r.n;
    qr_redacted_clear(&r);
    return rc;
  }
  int rc = QR_OK;
  if (json_is_array(j))
    for (size_t k = 0; !rc && k < json_array_size(j); k++)
      rc = redact_json_value(json_array_get(j, k), sc, text, count, depth + 1, e);
  const char *key;
  json_t *v;
  if (json_is_object(j))
    json_object_foreach(j, key, v) {
      if (rc) break;
      bool named = false;
      for (size_t k = 0; !text && k < sc->n_keys; k++) named |= !strcmp(key, sc->keys[k]);
      rc = redact_json_value(v, sc, text || named, count, depth + 1, e);
    }
  return rc;
}

int qr_redact_json(json_t *j, int *count, qr_err *e) {
  return qr_redact_json_text(j, NULL, 0, count, e);
}

int qr_redact_json_text(json_t *j, const char *const *keys, size_t n_keys, int *count, qr_err *e) {
  json_scope sc = {keys, n_keys};
  int n = 0, rc = redact_json_value(j, &sc, keys == NULL, &n, 0, e);
  if (count) *count = n;
  return rc;
}

void qr_redact_message(char *msg, size_t cap) {
  if (!msg || !cap) return;
  qr_redacted r;
  if (qr_redact(msg, strnlen(msg, cap - 1), &r, NULL)) {
    snprintf(msg, cap, "(message withheld: out of memory while removing secrets)");
    return;
  }
  if (r.n) snprintf(msg, cap, "%s", r.text);
  qr_redacted_clear(&r);
}

int qr_redact_snapshot(const qr_snapshot *s, qr_snapshot **out, int counts[QR_SECRET_N_RULES],
                       qr_err *e) {
  if (counts) memset(counts, 0, QR_SECRET_N_RULES * sizeof *counts);
  qr_snapshot *clean = qr_snapshot_new();
  int rc = clean ? QR_OK : qr_err_set(e, QR_E_NOMEM, "redacting secrets: out of memory");
  for (size_t i = 0; !rc && i < s->n_files; i++) {
    qr_redacted r;
    rc = qr_redact_file(s->files[i].path, s->files[i].text, s->files[i].len, &r, e);
    if (rc) break;
    rc = qr_snapshot_add(clean, s->files[i].path, r.text, r.len);
    if (rc) qr_err_set(e, rc, "redacting secrets: %s", qr_strerror(rc));
    for (int k = 0; counts && k < QR_SECRET_N_RULES; k++) counts[k] += r.counts[k];
    qr_redacted_clear(&r);
  }
  if (rc) {
    qr_snapshot_free(clean);
    return rc;
  }
  *out = clean;
  return QR_OK;
}
