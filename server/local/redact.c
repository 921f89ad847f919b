/* redact.c — finds secrets in code and replaces them with placeholders (see redact.h).
 *
 * The rules are hand-written matchers rather than regular expressions: each is tried at every
 * position and rejects on its first byte, so a scan is linear in the text. Provider formats
 * follow gitleaks' rules; a generic rule catches high-entropy values assigned to names such as
 * `password`, `client_secret` or `API_KEY`. False positives only cost a little context; a miss
 * sends a secret to a third party, so the rules err on the side of redacting. */
#include "local/redact.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#define MIN_KEY_RUN 40            /* base64 bytes in a row: key bodies have lines of 64 */
#define MAX_KEY_LABEL 64          /* "RSA ", "OPENSSH ", "ENCRYPTED " … before "PRIVATE KEY" */
#define MAX_IDENT 64              /* longer names are not checked (keeps the scan linear) */
#define MAX_VALUE 512
#define MIN_QUOTED 8               /* a quoted value shorter than this is not a secret */
#define MIN_BARE 12                /* an unquoted value needs more to tell it from code */
#define QUOTED_ENTROPY 3.0         /* bits per byte; gitleaks' generic rule uses 3.5 */
#define BARE_ENTROPY 3.5

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
};

const char *qr_redact_rule_id(qr_secret_rule rule) {
  return (unsigned)rule < QR_SECRET_N_RULES ? rules[rule].id : "unknown";
}

const char *qr_redact_rule_kind(qr_secret_rule rule) {
  return (unsigned)rule < QR_SECRET_N_RULES ? rules[rule].kind : "secret";
}

/* ---- matchers ----------------------------------------------------------------------------- */

/* A secret found at [start, end) of the text. */
typedef struct match {
  qr_secret_rule rule;
  size_t start, end;
} match;

typedef struct scan {
  const char *t;
  size_t len;
  size_t fresh; /* just past the last redaction: a boundary, as its placeholder ends in ']' */
} scan;

static bool is_word(char c) { return isalnum((unsigned char)c) || c == '_'; }
static bool is_b64url(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-'; }
static bool is_alnum(char c) { return isalnum((unsigned char)c); }
static bool is_upper_digit(char c) { return isupper((unsigned char)c) || isdigit((unsigned char)c); }

/* Tokens must not start inside a longer word ("task-…" holds "sk-"). */
static bool at_boundary(const scan *s, size_t i) {
  return i == 0 || i == s->fresh || !is_word(s->t[i - 1]);
}

static bool has_prefix(const scan *s, size_t i, const char *p) {
  size_t n = strlen(p);
  return n <= s->len - i && !memcmp(s->t + i, p, n);
}

/* How many bytes from i satisfy `ok` (at most max). */
static size_t run(const scan *s, size_t i, bool (*ok)(char), size_t max) {
  size_t n = 0;
  while (i + n < s->len && n < max && ok(s->t[i + n])) n++;
  return n;
}

/* A token: `prefix` at a boundary, then at least `min` bytes of `body`. */
static bool token(const scan *s, size_t i, const char *prefix, bool (*body)(char), size_t min,
                  qr_secret_rule rule, match *m) {
  if (!has_prefix(s, i, prefix) || !at_boundary(s, i)) return false;
  size_t p = strlen(prefix), n = run(s, i + p, body, MAX_VALUE);
  if (n < min) return false;
  *m = (match){rule, i, i + p + n};
  return true;
}

/* AKIA… and its siblings: 4 prefix characters and 16 more, upper case and digits. */
static bool match_aws(const scan *s, size_t i, match *m) {
  static const char *const prefixes[] = {"AKIA", "ASIA", "ABIA", "ACCA", "A3T"};
  if (s->t[i] != 'A' || !at_boundary(s, i)) return false;
  for (size_t k = 0; k < QR_ARRAY_LEN(prefixes); k++)
    if (has_prefix(s, i, prefixes[k]) && run(s, i, is_upper_digit, 21) == 20) {
      *m = (match){QR_SECRET_AWS_ACCESS_KEY, i, i + 20};
      return true;
    }
  return false;
}

static bool match_github(const scan *s, size_t i, match *m) {
  static const char *const prefixes[] = {"ghp_", "gho_", "ghs_", "ghu_", "ghr_"};
  if (s->t[i] != 'g') return false;
  for (size_t k = 0; k < QR_ARRAY_LEN(prefixes); k++)
    if (token(s, i, prefixes[k], is_alnum, 36, QR_SECRET_GITHUB_TOKEN, m)) return true;
  return token(s, i, "github_pat_", is_word, 22, QR_SECRET_GITHUB_TOKEN, m);
}

/* sk-ant-…, sk-or-v1-… and the OpenAI formats (sk-…, sk-proj-…, sk-svcacct-…). */
static bool match_sk(const scan *s, size_t i, match *m) {
  if (s->t[i] != 's') return false;
  return token(s, i, "sk-ant-", is_b64url, 20, QR_SECRET_ANTHROPIC_KEY, m) ||
         token(s, i, "sk-or-v1-", is_b64url, 20, QR_SECRET_OPENROUTER_KEY, m) ||
         token(s, i, "sk-", is_b64url, 20, QR_SECRET_OPENAI_KEY, m);
}

static bool is_slack_body(char c) { return is_alnum(c) || c == '-'; }

static bool match_slack(const scan *s, size_t i, match *m) {
  if (s->t[i] != 'x' || !has_prefix(s, i, "xox") || i + 4 >= s->len ||
      !strchr("baprs", s->t[i + 3]) || s->t[i + 4] != '-')
    return false;
  char prefix[6] = {'x', 'o', 'x', s->t[i + 3], '-', 0};
  return token(s, i, prefix, is_slack_body, 10, QR_SECRET_SLACK_TOKEN, m);
}

/* header.payload.signature, both JSON parts starting with '{"' (base64 "eyJ"); the signature
 * may be empty (alg "none"). */
static bool match_jwt(const scan *s, size_t i, match *m) {
  if (s->t[i] != 'e' || !has_prefix(s, i, "eyJ") || !at_boundary(s, i)) return false;
  size_t a = run(s, i, is_b64url, SIZE_MAX), p = i + a;
  if (a < 13 || p >= s->len || s->t[p] != '.' || !has_prefix(s, p + 1, "eyJ")) return false;
  size_t b = run(s, p + 1, is_b64url, SIZE_MAX), q = p + 1 + b;
  if (b < 13 || q >= s->len || s->t[q] != '.') return false;
  *m = (match){QR_SECRET_JWT, i, q + 1 + run(s, q + 1, is_b64url, SIZE_MAX)};
  return true;
}

/* "-----BEGIN … PRIVATE KEY-----" at i: the length of that marker, or 0. The label ("RSA ",
 * "OPENSSH ") is upper case, digits, blanks and '_', so one marker never reaches into the next. */
static size_t key_marker(const scan *s, size_t i, const char *begin_or_end) {
  if (!has_prefix(s, i, begin_or_end)) return 0;
  size_t p = i + strlen(begin_or_end);
  for (size_t k = 0; k <= MAX_KEY_LABEL && p + k < s->len; k++) {
    if (has_prefix(s, p + k, "PRIVATE KEY-----")) return p + k + strlen("PRIVATE KEY-----") - i;
    char c = s->t[p + k];
    if (!is_upper_digit(c) && c != ' ' && c != '_') return 0;
  }
  return 0;
}

static bool is_b64(char c) { return is_alnum(c) || c == '+' || c == '/' || c == '='; }

/* Whether the line at i can only be part of a key body: base64 wrapped in the indentation,
 * quotes and "\n" escapes of a string literal, or an encrypted key's header. */
static bool keyish_line(const scan *s, size_t i) {
  size_t eol = i;
  while (eol < s->len && s->t[eol] != '\n') eol++;
  if (has_prefix(s, i, "Proc-Type:") || has_prefix(s, i, "DEK-Info:")) return true;
  while (i < eol && strchr(" \t\"'`", s->t[i])) i++;
  while (eol > i && strchr(" \t\r\"'`,;+", s->t[eol - 1])) eol--;
  if (eol - i >= 2 && s->t[eol - 2] == '\\' && s->t[eol - 1] == 'n') eol -= 2;
  return eol > i && run(s, i, is_b64, eol - i) == eol - i;
}

/* The end of an END marker within [p, eol), or 0. */
static size_t find_end(const scan *s, size_t p, size_t eol) {
  for (; p < eol; p++) {
    size_t n = s->t[p] == '-' ? key_marker(s, p, "-----END ") : 0;
    if (n) return p + n;
  }
  return 0;
}

/* From BEGIN through END, line by line: the BEGIN line, then body lines. Without an END (a
 * cut or mangled block), through the body lines, so the body never leaks. Each line is looked
 * at once, which keeps the scan linear however many BEGIN markers a file holds. */
static bool match_private_key(const scan *s, size_t i, match *m) {
  size_t begin = s->t[i] == '-' ? key_marker(s, i, "-----BEGIN ") : 0;
  if (!begin) return false;
  size_t p = i + begin, last = p, end = 0;
  for (bool first = true; !end; first = false) {
    size_t eol = p;
    while (eol < s->len && s->t[eol] != '\n') eol++;
    if ((end = find_end(s, p, eol))) break;
    if (!first && !keyish_line(s, p)) break;
    last = eol;
    if (eol >= s->len) break;
    p = eol + 1;
  }
  end = end ? end : last;
  for (p = i + begin; p < end; p++) /* a key body has long base64 runs; a marker in code has none */
    if (run(s, p, is_b64, MIN_KEY_RUN) == MIN_KEY_RUN) {
      *m = (match){QR_SECRET_PRIVATE_KEY, i, end};
      return true;
    }
  return false;
}

static bool (*const specific[])(const scan *, size_t, match *) = {
    match_aws, match_github, match_sk, match_slack, match_jwt, match_private_key};

static bool match_specific(const scan *s, size_t i, match *m) {
  if (!strchr("Agsxe-", s->t[i]) || !s->t[i]) return false; /* no rule starts otherwise */
  for (size_t k = 0; k < QR_ARRAY_LEN(specific); k++)
    if (specific[k](s, i, m)) return true;
  return false;
}

/* ---- the generic rule: NAME = "value" ------------------------------------------------------- */

static bool is_name(char c) { return is_word(c) || c == '-' || c == '.'; }

/* Whether a name such as DB_PASSWORD, clientSecret or api-key names a secret: its last word
 * (words split at _ - . and lower→upper case changes) is a secret word, or is "key" after a
 * word that makes it one. Whole last words, so "tokenizer", "token_type" or "API_KEY_ENV"
 * (which name something else) do not count. */
static bool secret_name(const char *name, size_t n) {
  static const char *const words[] = {"password", "passwd", "pwd", "pw", "passphrase", "secret",
                                      "secrets", "token", "apikey", "credential", "credentials",
                                      "privatekey", "accesskey", "secretkey"};
  static const char *const key_owners[] = {"api", "access", "private", "secret", "auth",
                                           "signing", "encryption", "master", "client"};
  char prev[16] = "", last[16] = "";
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
  }
  for (size_t k = 0; *last && k < QR_ARRAY_LEN(words); k++)
    if (!strcmp(last, words[k])) return true;
  for (size_t k = 0; !strcmp(last, "key") && k < QR_ARRAY_LEN(key_owners); k++)
    if (!strcmp(prev, key_owners[k])) return true;
  return false;
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

/* Names, templates and references are not secrets: "quoted-string", "_RSAPrivateKey",
 * "${DB_PASSWORD}", "{{ token }}", "%(pw)s". A secret has a digit or a symbol. */
static bool looks_like_code(const char *p, size_t n) {
  static const char *const marks[] = {"${", "{{", "%(", "%s", "[REDACTED:"};
  for (size_t k = 0; k < QR_ARRAY_LEN(marks); k++)
    if (memmem(p, n, marks[k], strlen(marks[k]))) return true;
  for (size_t k = 0; k < n; k++)
    if (isdigit((unsigned char)p[k]) || strchr("!@#$%^&*+/=?~", p[k])) return false;
  return true;
}

static bool is_bare_value(char c) { return is_alnum(c) || (c && strchr("+/=_.~!@#$%^&*-", c)); }

/* The value after an assignment operator at v: quoted (the quotes stay) or bare. */
static bool secret_value(const scan *s, size_t v, match *m) {
  if (v >= s->len) return false;
  char q = s->t[v];
  size_t a, n;
  double min_entropy;
  if (q == '"' || q == '\'' || q == '`') {
    a = v + 1;
    for (n = 0; a + n < s->len && n <= MAX_VALUE && s->t[a + n] != q; n++)
      if (isspace((unsigned char)s->t[a + n])) return false;
    if (a + n >= s->len || s->t[a + n] != q || n < MIN_QUOTED) return false;
    min_entropy = QUOTED_ENTROPY;
  } else {
    a = v;
    n = run(s, a, is_bare_value, MAX_VALUE + 1);
    char after = a + n < s->len ? s->t[a + n] : '\n';
    if (n < MIN_BARE || n > MAX_VALUE || !(isspace((unsigned char)after) || after == ',' ||
                                           after == ';' || after == '#'))
      return false;
    bool digit = false, alpha = false;
    for (size_t k = 0; k < n; k++) {
      digit |= isdigit((unsigned char)s->t[a + k]) != 0;
      alpha |= isalpha((unsigned char)s->t[a + k]) != 0;
    }
    if (!digit || !alpha || s->t[a] == '$') return false;
    min_entropy = BARE_ENTROPY;
  }
  match inner;
  if (match_specific(s, a, &inner)) return false; /* reported under its own rule */
  if (looks_like_code(s->t + a, n) || entropy(s->t + a, n) < min_entropy) return false;
  *m = (match){QR_SECRET_GENERIC, a, a + n};
  return true;
}

static bool skip_blanks(const scan *s, size_t *p) {
  while (*p < s->len && (s->t[*p] == ' ' || s->t[*p] == '\t')) (*p)++;
  return *p < s->len;
}

/* NAME, an optional closing quote (JSON, dict keys), then = : := or =>, then the value. */
static bool match_generic(const scan *s, size_t i, match *m) {
  if (!(isalpha((unsigned char)s->t[i]) || s->t[i] == '_') || !at_boundary(s, i)) return false;
  size_t n = run(s, i, is_name, MAX_IDENT + 1);
  if (n > MAX_IDENT || !secret_name(s->t + i, n)) return false;
  size_t p = i + n;
  if (p < s->len && strchr("\"'`", s->t[p])) p++;
  if (!skip_blanks(s, &p)) return false;
  if (has_prefix(s, p, ":=") || has_prefix(s, p, "=>")) p += 2;
  else if ((s->t[p] == '=' && !has_prefix(s, p, "==")) || s->t[p] == ':') p++;
  else return false;
  return skip_blanks(s, &p) && secret_value(s, p, m);
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

/* Writes the placeholder for text[m->start, m->end): the rule id, then every newline the
 * secret spanned. */
static int put_placeholder(qr_buf *out, const scan *s, const match *m) {
  int rc = qr_buf_printf(out, "[REDACTED:%s]", rules[m->rule].id);
  for (size_t k = m->start; !rc && k < m->end; k++)
    if (s->t[k] == '\n') rc = qr_buf_append(out, "\n", 1);
  return rc;
}

int qr_redact(const char *text, size_t len, qr_redacted *out, qr_err *e) {
  memset(out, 0, sizeof *out);
  scan s = {text ? text : "", text ? len : 0, 0};
  qr_buf buf;
  qr_buf_init(&buf, SIZE_MAX / 2);
  size_t copied = 0, line = 1, alloc = 0;
  int rc = qr_buf_append(&buf, "", 0);
  /* A generic match starts at its name but replaces only the value; the name is scanned for
   * the other rules first, the value waiting as `pending` until the scan reaches it. */
  match pending = {0};
  for (size_t i = 0; !rc && i < s.len;) {
    match m;
    if (pending.end && i == pending.start) {
      m = pending;
    } else if (!match_specific(&s, i, &m) && (pending.end || !match_generic(&s, i, &m))) {
      line += s.t[i++] == '\n';
      continue;
    } else if (m.start > i) {
      pending = m;
      line += s.t[i++] == '\n';
      continue;
    }
    if (m.end > pending.start) pending = (match){0}; /* applied, or overlapped by m */
    size_t span = count_lines(s.t + m.start, m.end - m.start);
    rc = qr_buf_append(&buf, s.t + copied, m.start - copied);
    if (!rc) rc = put_placeholder(&buf, &s, &m);
    if (!rc) rc = add_item(out, &alloc, (qr_redaction){m.rule, (int)line, (int)(line + span)});
    line += span;
    copied = i = s.fresh = m.end;
  }
  if (!rc) rc = qr_buf_append(&buf, s.t + copied, s.len - copied);
  if (!rc) out->text = qr_buf_detach(&buf, &out->len);
  qr_buf_free(&buf);
  if (!rc && !out->text) rc = QR_E_NOMEM;
  if (rc) {
    qr_redacted_clear(out);
    return qr_err_set(e, rc, "redacting secrets: %s", qr_strerror(rc));
  }
  return QR_OK;
}

void qr_redacted_clear(qr_redacted *r) {
  qr_free(r->text);
  qr_free(r->items);
  memset(r, 0, sizeof *r);
}

int qr_redact_snapshot(const qr_snapshot *s, qr_snapshot **out, int counts[QR_SECRET_N_RULES],
                       qr_err *e) {
  if (counts) memset(counts, 0, QR_SECRET_N_RULES * sizeof *counts);
  qr_snapshot *clean = qr_snapshot_new();
  int rc = clean ? QR_OK : qr_err_set(e, QR_E_NOMEM, "redacting secrets: out of memory");
  for (size_t i = 0; !rc && i < s->n_files; i++) {
    qr_redacted r;
    rc = qr_redact(s->files[i].text, s->files[i].len, &r, e);
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

/* ---- findings about the secrets ------------------------------------------------------------ */

static bool touches_added(const qr_diff_file *df, const qr_redaction *r) {
  for (int line = r->start_line; line <= r->end_line; line++)
    if (qr_diff_line_added(df, line)) return true;
  return false;
}

static int secret_finding(const char *path, const qr_redaction *r, qr_finding_list *out) {
  qr_finding f = {.start_line = r->start_line, .end_line = r->end_line, .severity = QR_SEV_ERROR};
  f.file = qr_strdup(path);
  f.category = qr_strdup("security");
  f.message = qr_asprintf("Hard-coded credential: a %s is committed in the code. Load it from "
                          "the environment or a secret store, and revoke this one.",
                          rules[r->rule].kind);
  int rc = f.file && f.category && f.message ? QR_OK : QR_E_NOMEM;
  if (!rc) rc = qr_finding_add_source(&f, "rule:hardcoded-credential", "security", -1);
  if (!rc) rc = qr_finding_list_push(out, &f);
  qr_finding_clear(&f);
  return rc;
}

int qr_redact_findings(const qr_diff *d, const qr_snapshot *s, qr_finding_list *out, qr_err *e) {
  for (size_t i = 0; i < d->n_files; i++) {
    const qr_diff_file *df = &d->files[i];
    const qr_snapshot_file *f = qr_snapshot_find(s, df->path);
    if (!f || df->binary || df->status == QR_FILE_DELETED || !qr_diff_file_reviewable(df)) continue;
    qr_redacted r;
    int rc = qr_redact(f->text, f->len, &r, e);
    for (size_t k = 0; !rc && k < r.n; k++)
      if (touches_added(df, &r.items[k]) && (rc = secret_finding(df->path, &r.items[k], out)))
        qr_err_set(e, rc, "secret findings: %s", qr_strerror(rc));
    qr_redacted_clear(&r);
    if (rc) return rc;
  }
  return QR_OK;
}
