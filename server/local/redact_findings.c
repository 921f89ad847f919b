/* redact_findings.c — the local "hard-coded credential" findings made from the redactions (see
 * redact.h). Redaction replaces whatever may be a secret (a miss sends it away); a finding
 * tells the user to revoke a secret and blocks a commit at severity error, so it is made only
 * for a value that can be one. The judging here never changes what is redacted. */
#include "local/redact.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define MAX_JUDGED 512 /* bytes of a value decoded to be judged; a longer one is reported */

/* Rules that know a password by its context (a URL, a header, a name) rather than by a
 * provider's format: only their values can be a template or a placeholder. */
static bool contextual(qr_secret_rule rule) {
  return rule == QR_SECRET_GENERIC || rule == QR_SECRET_URL_CREDENTIAL ||
         rule == QR_SECRET_AUTH_HEADER;
}

/* A printf conversion ("%s", "%-8d", "%ld") at p[0] == '%', but not a URL escape ("%2F"). */
static bool conversion_at(const char *p, size_t n) {
  if (n >= 3 && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) return false;
  size_t k = 1;
  while (k < n && p[k] && strchr("-+ #0123456789.lhzjt", p[k])) k++;
  return k < n && p[k] && strchr("sdiufFeEgGxXcpq", p[k]);
}

/* "{name}" at p[0] == '{' (also "{{ name }}", "{cfg.pw}", "{user['pw']}"): a name in braces,
 * unlike a password's "{4}". */
static bool braced_name_at(const char *p, size_t n) {
  size_t k = 1;
  bool letter = false;
  for (; k < n && p[k] && (isalnum((unsigned char)p[k]) || strchr("_{ .[]'\"()-", p[k])); k++)
    letter |= isalpha((unsigned char)p[k]) || p[k] == '_';
  return k < n && p[k] == '}' && letter;
}

/* Whether p[0..n) is a shell variable: "$NAME", "$(cmd)", "${NAME}". */
static bool shell_variable(const char *p, size_t n) {
  if (n < 2 || p[0] != '$') return false;
  if (p[1] == '(' || p[1] == '{') return true;
  for (size_t k = 1; k < n; k++)
    if (!isalnum((unsigned char)p[k]) && p[k] != '_') return false;
  return !isdigit((unsigned char)p[1]);
}

/* A value filled in elsewhere: "{NAME}", "${NAME}", "{{ x }}", "#{x}", "%(name)s", "%s",
 * "<password>", "$NAME", "$(cmd)", "%NAME%", or an earlier placeholder. */
static bool is_template(const char *p, size_t n) {
  for (const char *c = memchr(p, '{', n); c; c = memchr(c + 1, '{', (size_t)(p + n - c - 1)))
    if (braced_name_at(c, (size_t)(p + n - c))) return true;
  if (memmem(p, n, "%(", 2) || memmem(p, n, "[REDACTED:", 10)) return true;
  for (const char *c = memchr(p, '%', n); c; c = memchr(c + 1, '%', (size_t)(p + n - c - 1)))
    if (conversion_at(c, (size_t)(p + n - c))) return true;
  return shell_variable(p, n) ||
         (n >= 2 && ((p[0] == '<' && p[n - 1] == '>') || (p[0] == '%' && p[n - 1] == '%')));
}

static int hex_value(char c) {
  return isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10);
}

/* p[0..n) with URL escapes ("%20") decoded into out (cap MAX_JUDGED); its length. */
static size_t url_decode(const char *p, size_t n, char *out) {
  size_t k = 0;
  for (size_t i = 0; i < n && k < MAX_JUDGED; i++, k++) {
    bool escape = p[i] == '%' && i + 2 < n && isxdigit((unsigned char)p[i + 1]) &&
                  isxdigit((unsigned char)p[i + 2]);
    out[k] = escape ? (char)(hex_value(p[i + 1]) * 16 + hex_value(p[i + 2])) : p[i];
    i += escape ? 2 : 0;
  }
  return k;
}

/* Standard base64 p[0..n) decoded into out (cap MAX_JUDGED); its length, or -1 if p is not
 * base64. */
static long b64_decode(const char *p, size_t n, char *out) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  while (n && p[n - 1] == '=') n--;
  if (n % 4 == 1 || n / 4 * 3 + 3 > MAX_JUDGED) return -1;
  unsigned bits = 0, acc = 0;
  long k = 0;
  for (size_t i = 0; i < n; i++) {
    const char *c = p[i] ? strchr(alphabet, p[i]) : NULL;
    if (!c) return -1;
    acc = (acc << 6 | (unsigned)(c - alphabet)) & 0xffffu;
    if ((bits += 6) >= 8) out[k++] = (char)(acc >> (bits -= 8));
  }
  return k;
}

/* The Basic credential "user:password" that base64 p[0..n) decodes to, into out (cap
 * MAX_JUDGED): its length, or -1 when p decodes to no such text (a bearer token, a password).
 * Not told by a "Basic " in front: a credential seen before is recalled without it. */
static long basic_credential(const char *p, size_t n, char *out) {
  long k = b64_decode(p, n, out);
  for (long i = 0; i < k; i++)
    if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f) return -1;
  return k > 0 && memchr(out, ':', (size_t)k) ? k : -1;
}

/* Words that make a password an example: "changeme", "your_password_here", "pass pass". */
static bool placeholder_word(const char *w, size_t n) {
  static const char *const words[] = {
      "password", "passwd", "pass", "pwd", "pw", "secret", "token", "key", "changeme",
      "changeit", "example", "sample", "test", "testing", "dummy", "fake", "placeholder", "foo",
      "bar", "baz", "qux", "user", "username", "redacted", "none", "null", "empty", "your",
      "my", "here", "goes", "some", "xxx"};
  for (size_t k = 0; k < QR_ARRAY_LEN(words); k++)
    if (n == strlen(words[k]) && !strncasecmp(w, words[k], n)) return true;
  return false;
}

/* A decoded password that is no secret: empty, one character, one character repeated
 * ("xxxxxx", "****"), or only placeholder words (split at symbols and lower→upper case). */
static bool is_placeholder(const char *p, size_t n) {
  size_t same = 0, words = 0;
  while (same < n && p[same] == p[0]) same++;
  if (n <= 1 || same == n) return true;
  for (size_t a = 0; a < n;) {
    size_t b = a;
    while (b < n && isalnum((unsigned char)p[b]) &&
           !(b > a && islower((unsigned char)p[b - 1]) && isupper((unsigned char)p[b])))
      b++;
    if (b > a && !placeholder_word(p + a, b - a)) return false;
    words += b > a;
    a = b > a ? b : a + 1;
  }
  return words > 0;
}

/* Whether the redacted bytes text[r->start, r->end) can be a real secret. Only contextual
 * rules are judged; a value too long to decode is reported. */
static bool can_be_secret(const char *text, const qr_redaction *r) {
  const char *v = text + r->start;
  size_t n = r->end - r->start;
  if (!contextual(r->rule) || n > MAX_JUDGED) return true;
  if (is_template(v, n)) return false;
  /* "<password>@host": a generic "<name>value" match glued to a URL's placeholder */
  if (r->rule == QR_SECRET_GENERIC && v[0] == '@' && r->start > 0 && text[r->start - 1] == '>')
    return false;
  char buf[MAX_JUDGED];
  long k = r->rule == QR_SECRET_AUTH_HEADER ? basic_credential(v, n, buf) : -1;
  if (k > 0) { /* the password after the user name */
    size_t skip = (size_t)((const char *)memchr(buf, ':', (size_t)k) - buf) + 1;
    return !is_placeholder(buf + skip, (size_t)k - skip);
  }
  return !is_placeholder(buf, url_decode(v, n, buf));
}

/* Whether the path is a test's: a folder such as tests/ or spec/, or a file named test_x.py,
 * x_test.go, x.test.js, x.spec.ts, XTest.java. */
static bool test_path(const char *path) {
  static const char *const dirs[] = {"test", "tests", "testing", "testdata", "spec", "specs",
                                     "__tests__", "fixtures"};
  static const char *const suffixes[] = {"_test", "_tests", ".test", "_spec", ".spec", "Test",
                                         "Tests", "-test"};
  const char *name = path;
  for (const char *slash; (slash = strchr(name, '/')); name = slash + 1)
    for (size_t k = 0; k < QR_ARRAY_LEN(dirs); k++)
      if ((size_t)(slash - name) == strlen(dirs[k]) && !strncasecmp(name, dirs[k], (size_t)(slash - name)))
        return true;
  const char *dot = strrchr(name, '.');
  size_t stem = dot && dot > name ? (size_t)(dot - name) : strlen(name);
  if (!strncmp(name, "test_", 5)) return true;
  for (size_t k = 0; k < QR_ARRAY_LEN(suffixes); k++) {
    size_t n = strlen(suffixes[k]);
    if (stem > n && !strncmp(name + stem - n, suffixes[k], n)) return true;
  }
  return false;
}

static int secret_finding(const char *path, const qr_redaction *r, qr_finding_list *out) {
  /* A password in a test's URL or header is most often a fixture: worth a look, not a block.
   * A provider's token format or a private key is as public in a test as anywhere. */
  bool in_test = contextual(r->rule) && test_path(path);
  qr_finding f = {.start_line = r->start_line, .end_line = r->end_line,
                  .severity = in_test ? QR_SEV_WARNING : QR_SEV_ERROR};
  f.file = qr_strdup(path);
  f.category = qr_strdup("security");
  f.message = in_test ? qr_asprintf("Hard-coded credential: a %s is committed in a test. If it "
                                    "is a real one, revoke it; a fixture reads better with an "
                                    "obvious placeholder.", qr_redact_rule_kind(r->rule))
                      : qr_asprintf("Hard-coded credential: a %s is committed in the code. Load "
                                    "it from the environment or a secret store, and revoke this "
                                    "one.", qr_redact_rule_kind(r->rule));
  int rc = f.file && f.category && f.message ? QR_OK : QR_E_NOMEM;
  if (!rc) rc = qr_finding_add_source(&f, "rule:hardcoded-credential", "security", -1);
  if (!rc) rc = qr_finding_list_push(out, &f);
  qr_finding_clear(&f);
  return rc;
}

static bool touches_added(const qr_diff_file *df, const qr_redaction *r) {
  for (int line = r->start_line; line <= r->end_line; line++)
    if (qr_diff_line_added(df, line)) return true;
  return false;
}

int qr_redact_findings(const qr_diff *d, const qr_snapshot *s, qr_finding_list *out, qr_err *e) {
  for (size_t i = 0; i < d->n_files; i++) {
    const qr_diff_file *df = &d->files[i];
    const qr_snapshot_file *f = qr_snapshot_find(s, df->path);
    if (!f || df->binary || df->status == QR_FILE_DELETED || !qr_diff_file_reviewable(df)) continue;
    qr_redacted r;
    int rc = qr_redact_file(df->path, f->text, f->len, &r, e);
    for (size_t k = 0; !rc && k < r.n; k++)
      if (touches_added(df, &r.items[k]) && can_be_secret(f->text, &r.items[k]) &&
          (rc = secret_finding(df->path, &r.items[k], out)))
        qr_err_set(e, rc, "secret findings: %s", qr_strerror(rc));
    qr_redacted_clear(&r);
    if (rc) return rc;
  }
  return QR_OK;
}
