/* test_redact.c — secret redaction: every rule, line structure, look-alikes that must stay,
 * the corpus in tests/data/redact, the local "hard-coded credential" findings and the code
 * context never holding a secret. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "change/context.h"
#include "local/redact.h"
#include "test.h"

static size_t newlines(const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += s[i] == '\n';
  return k;
}

/* Redacts `in` and checks it became `want` exactly. */
static void expect(const char *in, const char *want) {
  qr_redacted r;
  ASSERT_OK(qr_redact(in, strlen(in), &r, NULL));
  ASSERT_STR_EQ(r.text, want);
  ASSERT_EQ(r.len, strlen(want));
  qr_redacted_clear(&r);
}

TEST(redact_each_provider_format) {
  static const struct {
    const char *in, *want;
    qr_secret_rule rule;
  } cases[] = {
      {"key = AKIAIOSFODNN7EXAMPLE;", "key = [REDACTED:aws-access-key];", QR_SECRET_AWS_ACCESS_KEY},
      {"t='ghp_Q8xZ2mT7bR4kN9vL1sW6yP3cF5hJ0dGaEe1X'", "t='[REDACTED:github-token]'",
       QR_SECRET_GITHUB_TOKEN},
      {"gho_Q8xZ2mT7bR4kN9vL1sW6yP3cF5hJ0dGaEe1X ghs_Q8xZ2mT7bR4kN9vL1sW6yP3cF5hJ0dGaEe1X",
       "[REDACTED:github-token] [REDACTED:github-token]", QR_SECRET_GITHUB_TOKEN},
      {"github_pat_11ABCDEFG0abcdefghijKL_mnopqrstuv", "[REDACTED:github-token]",
       QR_SECRET_GITHUB_TOKEN},
      {"(sk-proj-Zx81kQw3Er5Ty7Ui9Op1As3Df5Gh7Jk9)", "([REDACTED:openai-key])", QR_SECRET_OPENAI_KEY},
      {"sk-a1B2c3D4e5F6g7H8i9J0k1L2", "[REDACTED:openai-key]", QR_SECRET_OPENAI_KEY},
      {"\"sk-ant-api03-Qm9xW2eR4tY6uI8oP0aS2dF4g\"", "\"[REDACTED:anthropic-key]\"",
       QR_SECRET_ANTHROPIC_KEY},
      {"sk-or-v1-8f3a9c2e7b1d4f6a0c5e9b3d7f1a", "[REDACTED:openrouter-key]", QR_SECRET_OPENROUTER_KEY},
      {"xoxb-2401938475-5823749102-Kf8sLq2W", "[REDACTED:slack-token]", QR_SECRET_SLACK_TOKEN},
      {"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3In0.dBjftJeZ4CVPmB92K27uhbUJU1p1",
       "Bearer [REDACTED:jwt]", QR_SECRET_JWT},
      {"pw = \"Xk9#qL2v!Rm7@pZ4\"", "pw = \"[REDACTED:generic-secret]\"", QR_SECRET_GENERIC},
      {"k = 'sk_live_FAKE51Hfake0123456789'", "k = '[REDACTED:stripe-key]'", QR_SECRET_SERVICE_TOKEN},
      {"AIzaSyFAKE-fake_0123456789abcdefghijklm;", "[REDACTED:google-api-key];",
       QR_SECRET_SERVICE_TOKEN},
      {"mysql://root:R00tFakePw@db:3306/app", "mysql://root:[REDACTED:url-credential]@db:3306/app",
       QR_SECRET_URL_CREDENTIAL},
      {"-H 'Authorization: Bearer fAkE0123456789abcdef'",
       "-H 'Authorization: Bearer [REDACTED:auth-header]'", QR_SECRET_AUTH_HEADER},
      {"#define DB_PASSWORD \"Fake-Db-Pass-2026!x\"",
       "#define DB_PASSWORD \"[REDACTED:generic-secret]\"", QR_SECRET_GENERIC},
      {"\"host=db user=app password=LibPqFake#4471\"",
       "\"host=db user=app password=[REDACTED:generic-secret]\"", QR_SECRET_GENERIC},
      {"machine h login bob password N3trcFake!pw\n",
       "machine h login bob password [REDACTED:generic-secret]\n", QR_SECRET_GENERIC},
      {"AccountName=a;AccountKey=Zm9vYmFyYmF6cXV4ZmFrZWtleTEyMzQ1Njc4OTA=;EndpointSuffix=x",
       "AccountName=a;AccountKey=[REDACTED:generic-secret];EndpointSuffix=x", QR_SECRET_GENERIC},
      {"bot 1234567890:AAFakeTelegramToken0123456789abcdefgh",
       "bot [REDACTED:telegram-token]", QR_SECRET_SERVICE_TOKEN},
  };
  for (size_t i = 0; i < QR_ARRAY_LEN(cases); i++) {
    qr_redacted r;
    ASSERT_OK(qr_redact(cases[i].in, strlen(cases[i].in), &r, NULL));
    if (strcmp(r.text, cases[i].want)) QR__FAIL("case %zu: \"%s\"", i, r.text);
    ASSERT(r.n >= 1);
    ASSERT_EQ(r.items[0].rule, cases[i].rule);
    ASSERT_EQ(r.counts[cases[i].rule], (int)r.n);
    ASSERT_EQ(r.items[0].start_line, 1);
    qr_redacted_clear(&r);
  }
}

TEST(redact_generic_assignments) {
  expect("DB_PASSWORD=4fT9kQ2xW7mZ1rV8nB3c\n", "DB_PASSWORD=[REDACTED:generic-secret]\n");
  expect("  \"client_secret\": \"q8Vn3Kp1Wz6Tb9Yr\",", "  \"client_secret\": \"[REDACTED:generic-secret]\",");
  expect("apiKey := `Tq7mZ2xR9kW4vN1b`", "apiKey := `[REDACTED:generic-secret]`");
  expect("access_token => 'P3qR8sT1uV6wX9yZ'", "access_token => '[REDACTED:generic-secret]'");
  expect("password: Zq8!mK3@xW7#vR2p\n", "password: [REDACTED:generic-secret]\n");
}

TEST(redact_leaves_look_alikes) {
  static const char *const keep[] = {
      "password = \"hunter2\"",                    /* short */
      "password = \"aaaaaaaaaaaaaaaa\"",           /* no entropy */
      "tokenizer = \"bert-base-uncased-v2\"",      /* not a secret word */
      "password = \"${DB_PASSWORD}\"",             /* a template */
      "secret = os.environ[\"SECRET_KEY\"]",       /* a reference */
      "token = self.token",                        /* code */
      "if (password == \"Xk9#qL2v!Rm7@pZ4\")",     /* a comparison, not an assignment */
      "task-abcdefghijklmnopqrstuvwxyz0123",       /* sk- inside a word */
      "AKIAIOSFODNN7EXAMPLEXX",                    /* too long for an AWS key id */
      "password = \"correct horse battery staple\"", /* prose */
      "eyJhbGciOiJIUzI1NiJ9 alone",                /* one JWT part */
      "token_type = 'quoted-string'",              /* the name is not a secret's */
      "API_KEY_ENV = \"STANDIN_KEY\"",
      "private_key: _RSAPrivateKey",                /* a type, not a value */
      "consumer_secret=\"consumer.secret\"",
      "START = b\"-----BEGIN OPENSSH PRIVATE KEY-----\"\nEND = b\"-----END OPENSSH PRIVATE KEY-----\"",
      "#define MAX_PASSWORD_LEN 64",                /* a size, not a value */
      "#define PASSWORD_PROMPT \"Enter password: \"", /* prose */
      "url = \"postgres://localhost:5432/app\"",     /* no credentials */
      "git clone https://user@example.com/r.git",  /* a user, no password */
      "see scheme://user:password@host",            /* a placeholder */
      "headers = {\"Authorization\": \"Bearer \" + token}",
      "Authorization: Bearer $SERVICE_TOKEN",
      "password: ${DB_PASSWORD}\npassword_file: /run/secrets/db",
      "Password reset tokens expire after one hour.\npassword reset",
      "commit = \"3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39\"",
      "request_id = \"550e8400-e29b-41d4-a716-446655440000\"",
      "SKIP_TESTS=1 API-VERSION key-value s.toString()",
  };
  for (size_t i = 0; i < QR_ARRAY_LEN(keep); i++) {
    qr_redacted r;
    ASSERT_OK(qr_redact(keep[i], strlen(keep[i]), &r, NULL));
    if (r.n || strcmp(r.text, keep[i])) QR__FAIL("redacted \"%s\" into \"%s\"", keep[i], r.text);
    qr_redacted_clear(&r);
  }
}

/* Redacts `in` as the file `path` and checks it became `want` exactly. */
static void expect_file(const char *path, const char *in, const char *want) {
  qr_redacted r;
  ASSERT_OK(qr_redact_file(path, in, strlen(in), &r, NULL));
  if (strcmp(r.text, want)) QR__FAIL("%s: \"%s\" became \"%s\"", path, in, r.text);
  qr_redacted_clear(&r);
}

/* A literal of a secret's name is a secret whatever its characters (letters only, a leading
 * '$' or '<'); references, templates and placeholders stay, and so do types in code. */
TEST(redact_literals_of_secret_names) {
  static const char *const cases[][3] = {
      {"db.py", "DB_PASSWORD = \"CorrectHorseBatteryStaple\"\n", "DB_PASSWORD = \"[REDACTED:generic-secret]\"\n"},
      {"d.json", "{\"password\": \"correcthorsebatterystaple\"}", "{\"password\": \"[REDACTED:generic-secret]\"}"},
      {"app.js", "const apiKey = 'AbCdEfGhIjKlMnOpQrStUvWxYz';", "const apiKey = '[REDACTED:generic-secret]';"},
      {"db.py", "DB_PASSWORD = \"$uperS3cret!Passw0rd\"", "DB_PASSWORD = \"[REDACTED:generic-secret]\""},
      {"db.py", "DB_PASSWORD = \"<Xk9#qL2v!Rm7@pZ4\"", "DB_PASSWORD = \"[REDACTED:generic-secret]\""},
      {"wp-config.php", "define('DB_PASSWORD', 'x9!Lq2#Wm7Nx5R');", "define('DB_PASSWORD', '[REDACTED:generic-secret]');"},
      {"c.py", "creds = {'user': 'bob', 'password': 'CorrectHorseBatteryStaple'}",
       "creds = {'user': 'bob', 'password': '[REDACTED:generic-secret]'}"},
      {"conf.yml", "db:\n  password: CorrectHorseBatteryStaple\n", "db:\n  password: [REDACTED:generic-secret]\n"},
      {"s.yaml", "stringData:\n  password: GreenEggsAndHam # prod\n", "stringData:\n  password: [REDACTED:generic-secret] # prod\n"},
      {".env", "STRIPE_SECRET=dffxkVZQtqMnMcLRkBOzZUGxICGrcbxD\n", "STRIPE_SECRET=[REDACTED:generic-secret]\n"},
      {"run.sh", "export DB_PASSWORD=CorrectHorseBatteryStaple\n", "export DB_PASSWORD=[REDACTED:generic-secret]\n"},
      {".netrc", "machine api.example.com\n  login bob\n  password CorrectHorseBatteryStaple\n",
       "machine api.example.com\n  login bob\n  password [REDACTED:generic-secret]\n"},
      {"req.py", "h = {\"Authorization\": \"Bearer iKZWeqhFWCEPyYngFbyBMWXaSCrUZoLgubbbPIay\"}",
       "h = {\"Authorization\": \"Bearer [REDACTED:auth-header]\"}"},
      /* stay: references, templates, placeholders, code */
      {"db.py", "DB_PASSWORD = \"$DB_PASSWORD\"", NULL},
      {"db.py", "password = \"<your-password>\"", NULL},
      {"db.py", "password = \"changeme\"", NULL},
      {"db.py", "password = \"${DB_PASSWORD}\"", NULL},
      {"db.py", "password = os.environ[\"DB_PASSWORD\"]", NULL},
      {"db.py", "password = user_supplied_password\n", NULL},
      {"m.py", "class M:\n    password: SecretStr\n    token: AccessTokenType\n", NULL},
      {"conf.yml", "password: ${DB_PASSWORD}\n", NULL},
      {".env", "DB_PASSWORD=\n", NULL},
      {"a.md", "password protected files\n", NULL},
      {"a.ts", "private readonly tokenStorageKey = \"authenticationTokenStorage\";", NULL},
      {"a.py", "secret_question: str = \"WhatIsYourFavouriteColour\"", NULL},
  };
  for (size_t i = 0; i < QR_ARRAY_LEN(cases); i++)
    expect_file(cases[i][0], cases[i][1], cases[i][2] ? cases[i][2] : cases[i][1]);
}

TEST(redact_private_key_keeps_lines) {
  const char *in = "a\nkey = \"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAA\n"
                   "QyNTUxOQAAACB5Z2VuZXJhdGVkIGJ5IHRlc3Rz\n-----END OPENSSH PRIVATE KEY-----\"\nz\n";
  qr_redacted r;
  ASSERT_OK(qr_redact(in, strlen(in), &r, NULL));
  ASSERT_STR_EQ(r.text, "a\nkey = \"[REDACTED:private-key]\n\n\n\"\nz\n");
  ASSERT_EQ(newlines(r.text, r.len), newlines(in, strlen(in)));
  ASSERT_EQ(r.n, 1);
  ASSERT_EQ(r.items[0].start_line, 2);
  ASSERT_EQ(r.items[0].end_line, 5);
  qr_redacted_clear(&r);
}

TEST(redact_private_key_without_end) {
  /* A block cut short (or with a mangled END) still loses its body, and only that. */
  expect("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEA\n  \"AoIBAQC7VJTUt9Us8cKjMzEfYyji\\n\"\n\nint x;\n",
         "[REDACTED:private-key]\n\n\n\nint x;\n");
}

TEST(redact_line_numbers_after_a_multiline_secret) {
  const char *in = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49\n"
                   "-----END EC PRIVATE KEY-----\n"
                   "x = 1\ntoken = \"P3qR8sT1uV6wX9yZ\"\n";
  qr_redacted r;
  ASSERT_OK(qr_redact(in, strlen(in), &r, NULL));
  ASSERT_EQ(r.n, 2);
  ASSERT_EQ(r.items[1].rule, QR_SECRET_GENERIC);
  ASSERT_EQ(r.items[1].start_line, 5);
  ASSERT_EQ(r.items[1].end_line, 5);
  qr_redacted_clear(&r);
}

TEST(redact_is_idempotent_and_binary_safe) {
  const char in[] = "x\0AKIAIOSFODNN7EXAMPLE\xff\xfe";
  qr_redacted r, again;
  ASSERT_OK(qr_redact(in, sizeof in - 1, &r, NULL));
  ASSERT_EQ(r.n, 1);
  ASSERT_MEM_EQ(r.text, "x\0[REDACTED:aws-access-key]\xff\xfe", r.len);
  ASSERT_OK(qr_redact(r.text, r.len, &again, NULL));
  ASSERT_EQ(again.n, 0);
  ASSERT_EQ(again.len, r.len);
  qr_redacted_clear(&again);
  qr_redacted_clear(&r);
  ASSERT_OK(qr_redact(NULL, 0, &r, NULL));
  ASSERT_STR_EQ(r.text, "");
  qr_redacted_clear(&r);
}

TEST(redact_encrypted_pem_and_pgp_blocks) {
  expect("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0FAKE01\n\n"
         "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
         "-----END RSA PRIVATE KEY-----\nint x;\n",
         "[REDACTED:private-key]\n\n\n\n\n\nint x;\n");
  expect("-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n"
         "lQOYBF0FAKEBCADVLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5A\n=FAKE\n"
         "-----END PGP PRIVATE KEY BLOCK-----\nx\n",
         "[REDACTED:private-key]\n\n\n\n\n\nx\n");
  /* a blank line ends a block whose previous line was body, not a header */
  expect("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEA\n\nint y = 1;\n",
         "[REDACTED:private-key]\n\n\nint y = 1;\n");
}

TEST(redact_kubernetes_secret_data) {
  expect("kind: Secret\ndata:\n  username: ZmFrZS1hZG1pbi0yMg==\n  password: \"UzNjcmV0LUZha2UtMjI=\"\n"
         "---\ndef f():\n    handler: RequestHandlerFactory = make()\n",
         "kind: Secret\ndata:\n  username: [REDACTED:generic-secret]\n"
         "  password: \"[REDACTED:generic-secret]\"\n---\ndef f():\n"
         "    handler: RequestHandlerFactory = make()\n");
}

TEST(redact_remembered_keys_whole_and_cut_short) {
  qr_redact_remember_key("plainkey-0FAKE-standin"); /* no known format */
  qr_redact_remember_key("short");                  /* too short to scrub: ignored */
  expect("Incorrect API key provided: plainkey-0FAKE-standin. See docs.",
         "Incorrect API key provided: [REDACTED:configured-key]. See docs.");
  expect("key: plainkey-0FA", "key: [REDACTED:configured-key]"); /* truncated at the end */
  expect("plainkey-0 and short", "plainkey-0 and short");        /* a prefix mid-text is not */
  qr_redact_forget();
  expect("plainkey-0FAKE-standin", "plainkey-0FAKE-standin");
}

TEST(redact_found_secrets_are_recalled_out_of_context) {
  qr_redact_forget();
  /* the earlier mention, before the scan met the assignment, goes too */
  expect("echo Fake-Db-Pass-2026!x\npassword = \"Fake-Db-Pass-2026!x\"\n",
         "echo [REDACTED:generic-secret]\npassword = \"[REDACTED:generic-secret]\"\n");
  /* later texts: a finding message or an analyzer's quoting it */
  expect("Conversion of string literal \"Fake-Db-Pass-2026!x\" to bool",
         "Conversion of string literal \"[REDACTED:generic-secret]\" to bool");
  /* a key block's body lines, quoted one at a time */
  expect("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEA\n-----END PRIVATE KEY-----\n",
         "[REDACTED:private-key]\n\n\n");
  expect("evidence: MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEA",
         "evidence: [REDACTED:private-key]");
  qr_redact_forget();
  expect("Conversion of string literal \"Fake-Db-Pass-2026!x\" to bool",
         "Conversion of string literal \"Fake-Db-Pass-2026!x\" to bool");
}

TEST(redact_message_in_place) {
  char msg[96] = "HTTP 401 from p: Incorrect API key provided: sk-FAKE0123456789abcdefXYZ.";
  qr_redact_message(msg, sizeof msg);
  ASSERT_STR_EQ(msg, "HTTP 401 from p: Incorrect API key provided: [REDACTED:openai-key].");
  char small[16] = "ghp_FAKE0123";
  qr_redact_message(small, sizeof small);
  ASSERT_STR_EQ(small, "ghp_FAKE0123"); /* too short to be a token */
}

TEST(redact_json_every_string) {
  json_t *j = json_pack("{s:s, s:[{s:s}, s, i], s:{s:s}}", "model", "m",
                        "messages", "content", "a cppcheck message: \"ghp_FAKE0123456789abcdefghijklmnopqrstuv\"",
                        "AKIAIOSFODNN7EXAMPLE", 3, "meta", "k", "plain");
  ASSERT(j);
  int n = -1;
  ASSERT_OK(qr_redact_json(j, &n, NULL));
  ASSERT_EQ(n, 2);
  char *text = json_dumps(j, JSON_COMPACT);
  ASSERT(text && !strstr(text, "ghp_FAKE") && !strstr(text, "AKIAIOSF"));
  ASSERT(strstr(text, "\"[REDACTED:aws-access-key]\"") && strstr(text, "\"plain\""));
  free(text);
  json_decref(j);
}

/* ---- the corpus -------------------------------------------------------------------------- */

/* Calls fn(path) for every regular file below dir. */
static void walk(const char *dir, void (*fn)(const char *path, void *), void *data) {
  DIR *d = opendir(dir);
  ASSERT(d);
  for (struct dirent *ent; (ent = readdir(d));) {
    if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, "..")) continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
    if (ent->d_type == DT_DIR) walk(path, fn, data);
    else fn(path, data);
  }
  closedir(d);
}

typedef struct corpus_case {
  char *secrets;
  int redactions;
} corpus_case;

static void check_file(const char *path, void *data) {
  corpus_case *c = data;
  char *text;
  size_t len;
  ASSERT_OK(qr_read_file(path, 1 << 20, &text, &len, NULL));
  qr_redacted r;
  ASSERT_OK(qr_redact(text, len, &r, NULL));
  ASSERT_EQ(newlines(r.text, r.len), newlines(text, len));
  for (char *line = c->secrets, *nl; *line; line = nl + 1) {
    nl = strchr(line, '\n');
    ASSERT(nl);
    if (memmem(r.text, r.len, line, (size_t)(nl - line)))
      QR__FAIL("%s: \"%.*s\" was not redacted", path, (int)(nl - line), line);
  }
  c->redactions += (int)r.n;
  qr_redacted_clear(&r);
  qr_free(text);
}

TEST(redact_corpus) {
  char root[512];
  snprintf(root, sizeof root, "%s/redact", qr_test_data_dir());
  DIR *d = opendir(root);
  ASSERT(d);
  int cases = 0;
  for (struct dirent *ent; (ent = readdir(d));) {
    if (ent->d_type != DT_DIR || ent->d_name[0] == '.') continue;
    char path[1024];
    corpus_case c = {0};
    snprintf(path, sizeof path, "%s/%s/secrets", root, ent->d_name);
    ASSERT_OK(qr_read_file(path, 1 << 16, &c.secrets, NULL, NULL));
    snprintf(path, sizeof path, "%s/%s/files", root, ent->d_name);
    walk(path, check_file, &c);
    /* a case without secrets holds look-alikes only: nothing may be redacted there */
    if (!*c.secrets && c.redactions) QR__FAIL("case %s: %d false positives", ent->d_name, c.redactions);
    if (*c.secrets && c.redactions == 0) QR__FAIL("case %s: nothing redacted", ent->d_name);
    qr_free(c.secrets);
    cases++;
  }
  closedir(d);
  ASSERT(cases >= 6);
}

/* ---- findings and the context ------------------------------------------------------------ */

/* lib/a.py: line 2 had a secret before the change; lines 3-4 are added, 4 with a key. */
static const char *const DIFF =
    "diff --git a/lib/a.py b/lib/a.py\n"
    "--- a/lib/a.py\n"
    "+++ b/lib/a.py\n"
    "@@ -1,2 +1,4 @@\n"
    " def f():\n"
    "     password = \"Zq8!mK3@xW7#vR2p\"\n"
    "+    x = 1\n"
    "+    return \"AKIAIOSFODNN7EXAMPLE\"\n";
static const char *const NEW_TEXT = "def f():\n    password = \"Zq8!mK3@xW7#vR2p\"\n    x = 1\n"
                                    "    return \"AKIAIOSFODNN7EXAMPLE\"\n";

static void setup(qr_diff **d, qr_snapshot **s) {
  ASSERT_OK(qr_diff_parse(DIFF, strlen(DIFF), 1 << 20, d, NULL));
  ASSERT((*s = qr_snapshot_new()));
  ASSERT_OK(qr_snapshot_add(*s, "lib/a.py", NEW_TEXT, strlen(NEW_TEXT)));
}

TEST(redact_findings_on_added_lines_only) {
  qr_diff *d;
  qr_snapshot *s;
  setup(&d, &s);
  qr_finding_list l;
  qr_finding_list_init(&l);
  ASSERT_OK(qr_redact_findings(d, s, &l, NULL));
  ASSERT_EQ(l.n, 1);
  const qr_finding *f = &l.items[0];
  ASSERT_STR_EQ(f->file, "lib/a.py");
  ASSERT_EQ(f->start_line, 4);
  ASSERT_EQ(f->end_line, 4);
  ASSERT_EQ(f->severity, QR_SEV_ERROR);
  ASSERT_STR_EQ(f->category, "security");
  ASSERT(strstr(f->message, "AWS access key"));
  ASSERT(!strstr(f->message, "AKIA"));
  ASSERT(!f->evidence);
  ASSERT_EQ(f->n_sources, 1);
  ASSERT_STR_EQ(f->sources[0].model, "rule:hardcoded-credential");
  qr_finding_list_free(&l);
  qr_snapshot_free(s);
  qr_diff_free(d);
}

/* Values a redaction replaces (when in doubt) but no finding may call a secret to revoke, and
 * real-looking ones, in a module (lines 8, 9, 13: error) and in a test (warning, but a token's
 * format stays an error). */
#define CL1 "URL = f\"http://{DB_USER}:{DB_PASSWORD}@db.internal/\""
#define CL2 "SHORT = \"https://u:p@mirror.internal/x\""
#define CL3 "HDR = {\"Authorization\": \"Basic YWxpY2U6\"}"
#define CL4 "DSN = \"postgres://app:%(pw)s@db/app\""
#define CL5 "ENV = \"http://bob:${BOB_PW}@proxy:3128\""
#define CL6 "DOC = \"http://bob:your_password_here@proxy\""
#define CL7 "ESC = \"http://bob:pass%20pass@proxy\""
#define CL8 "REAL = \"https://deploy:Vq7-rT9!pLm2@ci.internal/\""
#define CL9 "AUTH = {\"Authorization\": \"Basic c3ZjOkt4ODIhbVF6N0xw\"}"
#define CL10 "ONE = {\"Authorization\": \"Basic b3BzOng=\"}"
#define CL11 "FMT = \"http://%s:%s@%s/\" % (u, p, h)"
#define CL12 "PCT = \"http://%(user)s:%-8s@host/\""
#define CL13 "BRACES = \"http://svc:Kp{4}x!Q9w@host/\""
#define TL1 CL8
#define TL2 "KEY = \"AKIAZ3MHQ7RXLPW4N2VB\""
#define TL3 CL2
static const char *const CLIENT = CL1 "\n" CL2 "\n" CL3 "\n" CL4 "\n" CL5 "\n" CL6 "\n" CL7 "\n"
                                  CL8 "\n" CL9 "\n" CL10 "\n" CL11 "\n" CL12 "\n" CL13 "\n";
static const char *const CLIENT_TEST = TL1 "\n" TL2 "\n" TL3 "\n";
static const char *const CLIENT_DIFF =
    "diff --git a/lib/client.py b/lib/client.py\nnew file mode 100644\n--- /dev/null\n"
    "+++ b/lib/client.py\n@@ -0,0 +1,13 @@\n+" CL1 "\n+" CL2 "\n+" CL3 "\n+" CL4 "\n+" CL5
    "\n+" CL6 "\n+" CL7 "\n+" CL8 "\n+" CL9 "\n+" CL10 "\n+" CL11 "\n+" CL12 "\n+" CL13 "\n"
    "diff --git a/tests/test_client.py b/tests/test_client.py\nnew file mode 100644\n"
    "--- /dev/null\n+++ b/tests/test_client.py\n@@ -0,0 +1,3 @@\n+" TL1 "\n+" TL2 "\n+" TL3
    "\n";

TEST(redact_findings_only_for_values_that_can_be_secrets) {
  qr_diff *d;
  ASSERT_OK(qr_diff_parse(CLIENT_DIFF, strlen(CLIENT_DIFF), 1 << 20, &d, NULL));
  qr_snapshot *s = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(s, "lib/client.py", CLIENT, strlen(CLIENT)));
  ASSERT_OK(qr_snapshot_add(s, "tests/test_client.py", CLIENT_TEST, strlen(CLIENT_TEST)));
  qr_finding_list l;
  qr_finding_list_init(&l);
  ASSERT_OK(qr_redact_findings(d, s, &l, NULL));
  static const struct {
    const char *file;
    int line;
    qr_severity sev;
    const char *kind;
  } want[] = {{"lib/client.py", 8, QR_SEV_ERROR, "password in a URL"},
              {"lib/client.py", 9, QR_SEV_ERROR, "HTTP credential"},
              {"lib/client.py", 13, QR_SEV_ERROR, "password in a URL"},
              {"tests/test_client.py", 1, QR_SEV_WARNING, "password in a URL"},
              {"tests/test_client.py", 2, QR_SEV_ERROR, "AWS access key"}};
  for (size_t k = 0; k < l.n && k < QR_ARRAY_LEN(want); k++) {
    ASSERT_STR_EQ(l.items[k].file, want[k].file);
    ASSERT_EQ(l.items[k].start_line, want[k].line);
    ASSERT_EQ(l.items[k].severity, want[k].sev);
    ASSERT(strstr(l.items[k].message, want[k].kind));
  }
  ASSERT_EQ(l.n, QR_ARRAY_LEN(want));
  ASSERT(strstr(l.items[3].message, "in a test"));
  ASSERT(!strstr(l.items[3].message, "Vq7"));
  qr_finding_list_free(&l);

  /* what leaves the machine is still redacted: the finding is precise, the redaction is not */
  qr_redacted r;
  ASSERT_OK(qr_redact(CLIENT, strlen(CLIENT), &r, NULL));
  ASSERT(!strstr(r.text, "{DB_PASSWORD}") && !strstr(r.text, "u:p@") &&
         !strstr(r.text, "YWxpY2U6") && !strstr(r.text, "pass%20pass"));
  qr_redacted_clear(&r);
  qr_snapshot_free(s);
  qr_diff_free(d);
}

TEST(redact_snapshot_copy) {
  qr_diff *d;
  qr_snapshot *s, *clean;
  setup(&d, &s);
  int counts[QR_SECRET_N_RULES];
  ASSERT_OK(qr_redact_snapshot(s, &clean, counts, NULL));
  ASSERT_EQ(clean->n_files, 1);
  ASSERT_EQ(clean->files[0].n_lines, s->files[0].n_lines);
  ASSERT(clean->files[0].lang == s->files[0].lang);
  ASSERT(!strstr(clean->files[0].text, "AKIA") && !strstr(clean->files[0].text, "Zq8!"));
  ASSERT_EQ(counts[QR_SECRET_AWS_ACCESS_KEY], 1);
  ASSERT_EQ(counts[QR_SECRET_GENERIC], 1);
  qr_snapshot_free(clean);
  qr_snapshot_free(s);
  qr_diff_free(d);
}

TEST(redact_context_never_holds_a_secret) {
  qr_diff *d;
  qr_snapshot *s;
  setup(&d, &s);
  qr_context *c;
  ASSERT_OK(qr_context_build(d, s, 1000, &c, NULL));
  ASSERT_EQ(c->n_chunks, 1);
  const char *text = c->chunks[0].text;
  ASSERT(!strstr(text, "AKIAIOSFODNN7EXAMPLE") && !strstr(text, "Zq8!mK3@xW7#vR2p"));
  /* Line numbers are those of the real file. */
  ASSERT(strstr(text, "   4+|     return \"[REDACTED:aws-access-key]\"\n"));
  ASSERT(strstr(text, "   2 |     password = \"[REDACTED:generic-secret]\"\n"));
  ASSERT_EQ(c->redactions, 2);
  ASSERT_EQ(c->redactions_by_rule[QR_SECRET_AWS_ACCESS_KEY], 1);
  ASSERT_EQ(c->redactions_by_rule[QR_SECRET_GENERIC], 1);
  qr_context_free(c);
  qr_snapshot_free(s);
  qr_diff_free(d);
}
