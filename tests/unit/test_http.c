/* Unit tests for http.c against a real HTTP/1.1 server on 127.0.0.1: a small python3 stdlib
 * server (below) started per test, which records when each request arrived and how many were
 * in flight at once; tests read those records back from POST /stats. */
#include <jansson.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "providers/http.h"
#include "test.h"

static const char SERVER_PY[] =
    "import http.server, json, socket, struct, sys, threading, time\n"
    "lock = threading.Lock()\n"
    "hits = {}\n"
    "state = {'active': 0, 'max_active': 0}\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def log_message(self, *a): pass\n"
    "    def reply(self, code, body=b'', headers=()):\n"
    "        self.send_response(code)\n"
    "        for k, v in headers: self.send_header(k, v)\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def do_POST(self):\n"
    "        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))\n"
    "        p = self.path\n"
    "        with lock:\n"
    "            hits.setdefault(p, []).append(time.monotonic())\n"
    "            n = len(hits[p])\n"
    "        if p == '/echo':\n"
    "            self.reply(200, json.dumps({'body': body.decode(),\n"
    "                'x_test': self.headers.get('X-Test')}).encode())\n"
    "        elif p == '/big': self.reply(200, b'x' * 100000)\n"
    "        elif p == '/429':\n"
    "            if n == 1: self.reply(429, b'{\"error\":\"slow\"}', [('Retry-After', '1')])\n"
    "            else: self.reply(200, b'after 429')\n"
    "        elif p == '/500once':\n"
    "            if n == 1: self.reply(500, b'oops')\n"
    "            else: self.reply(200, b'after 500')\n"
    "        elif p == '/503': self.reply(503, b'down')\n"
    "        elif p == '/400': self.reply(400, b'{\"error\":\"bad\"}')\n"
    "        elif p == '/hang': time.sleep(30)\n"
    "        elif p == '/reset':\n"
    "            if n == 1:\n"
    "                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,\n"
    "                                           struct.pack('ii', 1, 0))\n"
    "                self.connection.close()\n"
    "                self.close_connection = True\n"
    "                return\n"
    "            self.reply(200, b'after reset')\n"
    "        elif p == '/stream':\n"
    "            self.send_response(200)\n"
    "            self.send_header('Transfer-Encoding', 'chunked')\n"
    "            self.end_headers()\n"
    "            for i in range(5):\n"
    "                d = ('data: %d\\n\\n' % i).encode()\n"
    "                self.wfile.write(b'%x\\r\\n%s\\r\\n' % (len(d), d))\n"
    "                self.wfile.flush()\n"
    "            self.wfile.write(b'0\\r\\n\\r\\n')\n"
    "        elif p == '/conc':\n"
    "            with lock:\n"
    "                state['active'] += 1\n"
    "                state['max_active'] = max(state['max_active'], state['active'])\n"
    "            end = time.monotonic() + 10\n"
    "            while time.monotonic() < end and state['max_active'] < 16: time.sleep(0.01)\n"
    "            with lock: state['active'] -= 1\n"
    "            self.reply(200, b'conc')\n"
    "        elif p == '/stats':\n"
    "            self.reply(200, json.dumps({'hits': hits, 'max_active': state['max_active']}).encode())\n"
    "        else: self.reply(404, b'no')\n"
    "class S(http.server.ThreadingHTTPServer):\n"
    "    daemon_threads = True\n"
    "    request_queue_size = 64\n"
    "    def handle_error(self, request, addr): pass\n"
    "s = S(('127.0.0.1', 0), H)\n"
    "print(s.server_address[1], flush=True)\n"
    "s.serve_forever()\n";

typedef struct server {
  pid_t pid;
  int port;
} server;

static server server_start(void) {
  int fds[2];
  ASSERT_OK(pipe(fds));
  fflush(NULL);
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* no stray server when a test dies */
    dup2(fds[1], 1);
    close(fds[0]);
    execlp("python3", "python3", "-c", SERVER_PY, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char line[32] = {0};
  size_t n = 0;
  while (n < sizeof line - 1 && read(fds[0], line + n, 1) == 1 && line[n] != '\n') n++;
  close(fds[0]);
  server s = {pid, atoi(line)};
  ASSERT(s.port > 0);
  return s;
}

static void server_stop(server *s) {
  kill(s->pid, SIGKILL);
  waitpid(s->pid, NULL, 0);
}

/* What a completion callback saw. */
typedef struct got {
  int calls;
  int status;
  long code;
  char *body;
  size_t body_len;
  int attempts;
  long retry_after_s;
  char message[256];
  qr_buf chunks;
  int chunk_calls;
  int *done_counter; /* incremented on completion when set */
} got;

static void on_done(const qr_http_result *r, void *data) {
  got *g = data;
  g->calls++;
  g->status = r->status;
  g->code = r->http_code;
  g->body = qr_strndup(r->body, r->body_len);
  g->body_len = r->body_len;
  g->attempts = r->attempts;
  g->retry_after_s = r->retry_after_s;
  snprintf(g->message, sizeof g->message, "%s", r->message);
  if (g->done_counter) ++*g->done_counter;
}

static int on_chunk(const char *p, size_t n, void *data) {
  got *g = data;
  g->chunk_calls++;
  return qr_buf_append(&g->chunks, p, n);
}

typedef struct fixture {
  uv_loop_t loop;
  qr_http *h;
  server srv;
} fixture;

static void fixture_start(fixture *f) {
  f->srv = server_start();
  ASSERT_OK(uv_loop_init(&f->loop));
  ASSERT_OK(qr_http_new(&f->loop, &f->h, NULL));
  qr_http_set_backoff_base(f->h, 10);
}

/* Closes the client and checks that it left no handle behind. */
static void fixture_stop(fixture *f) {
  qr_http_close(f->h);
  ASSERT_OK(uv_run(&f->loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&f->loop));
  server_stop(&f->srv);
}

static qr_http_request request(fixture *f, const char *path, got *g, char *url, size_t url_size) {
  snprintf(url, url_size, "http://127.0.0.1:%d%s", f->srv.port, path);
  qr_buf_init(&g->chunks, 1 << 20);
  return (qr_http_request){.url = url, .body = "{}", .body_len = 2, .timeout_ms = 20000,
                           .max_response_bytes = 1 << 20, .max_retries = 3,
                           .on_done = on_done, .data = g};
}

static void run_until(fixture *f, const int *counter, int n) {
  while (*counter < n) uv_run(&f->loop, UV_RUN_ONCE);
}

/* POSTs and runs the loop until the callback ran. */
static void post(fixture *f, qr_http_request *req) {
  got *g = req->data;
  ASSERT_OK(qr_http_send(f->h, req, NULL, NULL));
  ASSERT_EQ(g->calls, 0); /* never called synchronously */
  run_until(f, &g->calls, 1);
}

static void got_free(got *g) {
  qr_free(g->body);
  qr_buf_free(&g->chunks);
}

/* The server's records: new reference, caller decrefs. */
static json_t *stats(fixture *f) {
  got g = {0};
  char url[128];
  qr_http_request req = request(f, "/stats", &g, url, sizeof url);
  post(f, &req);
  ASSERT_OK(g.status);
  json_t *j = json_loads(g.body, 0, NULL);
  ASSERT(j);
  got_free(&g);
  return j;
}

static double hit_time(json_t *st, const char *path, size_t i) {
  json_t *t = json_array_get(json_object_get(json_object_get(st, "hits"), path), i);
  ASSERT(json_is_number(t));
  return json_number_value(t);
}

static size_t hit_count(json_t *st, const char *path) {
  return json_array_size(json_object_get(json_object_get(st, "hits"), path));
}

TEST(http_success_sends_body_and_headers) {
  fixture f;
  fixture_start(&f);
  got g = {0};
  char url[128];
  qr_http_request req = request(&f, "/echo", &g, url, sizeof url);
  const char *headers[] = {"X-Test: yes", "Content-Type: application/json"};
  req.headers = headers;
  req.n_headers = 2;
  req.body = "{\"q\":1}";
  req.body_len = strlen(req.body);
  post(&f, &req);
  ASSERT_EQ(g.calls, 1);
  ASSERT_OK(g.status);
  ASSERT_EQ(g.code, 200);
  ASSERT_EQ(g.attempts, 1);
  ASSERT_STR_EQ(g.body, "{\"body\": \"{\\\"q\\\":1}\", \"x_test\": \"yes\"}");
  got_free(&g);
  fixture_stop(&f);
}

TEST(http_body_cap) {
  fixture f;
  fixture_start(&f);
  got g = {0};
  char url[128];
  qr_http_request req = request(&f, "/big", &g, url, sizeof url);
  req.max_response_bytes = 1000;
  post(&f, &req);
  ASSERT_EQ(g.status, QR_E_TOOBIG);
  ASSERT_STR_EQ(g.message, "response larger than 1000 bytes");
  ASSERT_EQ(g.attempts, 1);
  got_free(&g);
  fixture_stop(&f);
}

TEST(http_429_honours_retry_after) {
  fixture f;
  fixture_start(&f);
  got g = {0};
  char url[128];
  qr_http_request req = request(&f, "/429", &g, url, sizeof url);
  post(&f, &req);
  ASSERT_OK(g.status);
  ASSERT_EQ(g.code, 200);
  ASSERT_EQ(g.attempts, 2);
  ASSERT_EQ(g.retry_after_s, 1);
  ASSERT_STR_EQ(g.body, "after 429");
  json_t *st = stats(&f);
  ASSERT_EQ(hit_count(st, "/429"), 2);
  /* the server's own receive times: the retry came no sooner than Retry-After */
  ASSERT(hit_time(st, "/429", 1) - hit_time(st, "/429", 0) >= 1.0);
  json_decref(st);
  got_free(&g);
  fixture_stop(&f);
}

TEST(http_500_retried_then_success) {
  fixture f;
  fixture_start(&f);
  got g = {0};
  char url[128];
  qr_http_request req = request(&f, "/500once", &g, url, sizeof url);
  post(&f, &req);
  ASSERT_OK(g.status);
  ASSERT_EQ(g.attempts, 2);
  ASSERT_STR_EQ(g.body, "after 500");
  got_free(&g);
  fixture_stop(&f);
}

TEST(http_retries_exhausted) {
  fixture f;
  fixture_start(&f);
  got g = {0};
  char url[128];
  qr_http_request req = request(&f, "/503", &g, url, sizeof url);
  req.max_retries = 2;
  post(&f, &req);
  ASSERT_EQ(g.status, QR_E_HTTP);
  ASSERT_EQ(g.code, 503);
  ASSERT_EQ(g.attempts, 3);
  ASSERT_STR_EQ(g.body, "down");
  json_t *st = stats(&f);
  ASSERT_EQ(hit_count(st, "/503"), 3);
  json_decref(st);
  got_free(&g);
  fixture_stop(&f);
}

TEST(http_400_not_retried) {
  fixture f;
  fixture_start(&f);
  got g = {0};
  char url[128];
  qr_http_request req = request(&f, "/400", &g, url, sizeof url);
  req.on_chunk = on_chunk; /* error bodies are never streamed */
  post(&f, &req);
  ASSERT_EQ(g.status, QR_E_HTTP);
  ASSERT_EQ(g.code, 400);
  ASSERT_EQ(g.attempts, 1);
  ASSERT_EQ(g.chunk_calls, 0);
  ASSERT_STR_EQ(g.body, "{\"error\":\"bad\"}");
  json_t *st = stats(&f);
  ASSERT_EQ(hit_count(st, "/400"), 1);
  json_decref(st);
  got_free(&g);
  fixture_stop(&f);
}

TEST(http_timeout) {
  fixture f;
  fixture_start(&f);
  got g = {0};
  char url[128];
  qr_http_request req = request(&f, "/hang", &g, url, sizeof url);
  req.timeout_ms = 300;
  post(&f, &req);
  ASSERT_EQ(g.status, QR_E_TIMEOUT);
  ASSERT_EQ(g.attempts, 1);
  ASSERT_EQ(g.code, 0);
  got_free(&g);
  fixture_stop(&f);
}

TEST(http_connection_reset_retried) {
  fixture f;
  fixture_start(&f);
  got g = {0};
  char url[128];
  qr_http_request req = request(&f, "/reset", &g, url, sizeof url);
  post(&f, &req);
  ASSERT_OK(g.status);
  ASSERT_EQ(g.attempts, 2);
  ASSERT_STR_EQ(g.body, "after reset");
  got_free(&g);
  fixture_stop(&f);
}

TEST(http_connection_refused) {
  fixture f;
  fixture_start(&f);
  got g = {0};
  char url[128];
  qr_http_request req = request(&f, "/ok", &g, url, sizeof url);
  snprintf(url, sizeof url, "http://127.0.0.1:1/ok"); /* nobody listens on port 1 */
  req.max_retries = 1;
  post(&f, &req);
  ASSERT_EQ(g.status, QR_E_HTTP);
  ASSERT_EQ(g.code, 0);
  ASSERT_EQ(g.attempts, 2);
  got_free(&g);
  fixture_stop(&f);
}

TEST(http_stream_chunks) {
  fixture f;
  fixture_start(&f);
  got g = {0};
  char url[128];
  qr_http_request req = request(&f, "/stream", &g, url, sizeof url);
  req.on_chunk = on_chunk;
  post(&f, &req);
  ASSERT_OK(g.status);
  ASSERT(g.chunk_calls >= 1);
  ASSERT_STR_EQ(g.chunks.data, "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n");
  ASSERT_EQ(g.body_len, 0);
  got_free(&g);
  fixture_stop(&f);
}

static int chunk_fails(const char *p, size_t n, void *data) { return QR_E_PARSE; }

TEST(http_stream_consumer_error) {
  fixture f;
  fixture_start(&f);
  got g = {0};
  char url[128];
  qr_http_request req = request(&f, "/stream", &g, url, sizeof url);
  req.on_chunk = chunk_fails;
  post(&f, &req);
  ASSERT_EQ(g.status, QR_E_PARSE);
  ASSERT_EQ(g.attempts, 1);
  got_free(&g);
  fixture_stop(&f);
}

TEST(http_cancel) {
  fixture f;
  fixture_start(&f);
  got g = {0};
  char url[128];
  qr_http_request req = request(&f, "/hang", &g, url, sizeof url);
  qr_http_xfer *x;
  ASSERT_OK(qr_http_send(f.h, &req, &x, NULL));
  /* let the request reach the server, then cancel (twice: one callback) */
  for (int i = 0; i < 20 && !g.calls; i++) uv_run(&f.loop, UV_RUN_NOWAIT);
  qr_http_cancel(x);
  qr_http_cancel(x);
  ASSERT_EQ(g.calls, 0);
  run_until(&f, &g.calls, 1);
  ASSERT_EQ(g.status, QR_E_CANCELED);
  uv_run(&f.loop, UV_RUN_NOWAIT);
  ASSERT_EQ(g.calls, 1);
  got_free(&g);
  fixture_stop(&f);
}

TEST(http_close_cancels_pending) {
  fixture f;
  fixture_start(&f);
  got g = {0};
  char url[128];
  qr_http_request req = request(&f, "/503", &g, url, sizeof url);
  req.max_retries = 100;
  ASSERT_OK(qr_http_send(f.h, &req, NULL, NULL));
  uv_run(&f.loop, UV_RUN_NOWAIT);
  fixture_stop(&f); /* runs the loop to the end */
  ASSERT_EQ(g.calls, 1);
  ASSERT_EQ(g.status, QR_E_CANCELED);
  got_free(&g);
}

TEST(http_concurrent_16) {
  fixture f;
  fixture_start(&f);
  got g[16] = {{0}};
  char url[16][128];
  int done = 0;
  for (int i = 0; i < 16; i++) {
    qr_http_request req = request(&f, "/conc", &g[i], url[i], sizeof url[i]);
    g[i].done_counter = &done;
    ASSERT_OK(qr_http_send(f.h, &req, NULL, NULL));
  }
  run_until(&f, &done, 16);
  for (int i = 0; i < 16; i++) {
    ASSERT_OK(g[i].status);
    ASSERT_STR_EQ(g[i].body, "conc");
    got_free(&g[i]);
  }
  json_t *st = stats(&f);
  ASSERT_EQ(json_integer_value(json_object_get(st, "max_active")), 16);
  json_decref(st);
  fixture_stop(&f);
}

TEST(http_invalid_request) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  qr_http *h;
  ASSERT_OK(qr_http_new(&loop, &h, NULL));
  got g = {0};
  qr_http_request req = {.url = "not a url", .on_done = on_done, .data = &g};
  qr_err e;
  ASSERT_EQ(qr_http_send(h, &req, NULL, &e), QR_E_INVAL);
  qr_http_close(h);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_EQ(g.calls, 0);
}

TEST(http_backoff_bounds) {
  /* full jitter: the delay is the random value modulo the ceiling + 1 */
  ASSERT_EQ(qr_http_backoff_ms(500, 0, 0, 501), 0);
  ASSERT_EQ(qr_http_backoff_ms(500, 0, 0, 500), 500);
  ASSERT_EQ(qr_http_backoff_ms(500, 2, 0, 2000), 2000);
  ASSERT_EQ(qr_http_backoff_ms(500, 2, 0, 2001), 0);
  ASSERT_EQ(qr_http_backoff_ms(500, 20, 0, 30000), 30000); /* capped */
  ASSERT_EQ(qr_http_backoff_ms(500, 20, 0, 30001), 0);
  ASSERT_EQ(qr_http_backoff_ms(500, 0, 3000, 7), 3000); /* the server's wait is a floor */
}

TEST(http_duration_parse) {
  /* OpenAI's x-ratelimit-reset-* values are Go durations */
  static const struct { const char *s; long ms; } ok[] = {
      {"20s", 20000}, {"6m0s", 360000}, {"1ms", 1}, {"1h2m3.5s", 3723500}, {"0.5s", 500},
      {"250us", 1}, {"0s", 0}, {"17ms", 17}, {"1m30s", 90000}};
  for (size_t i = 0; i < QR_ARRAY_LEN(ok); i++) {
    long ms = -1;
    if (!qr_http_duration_ms(ok[i].s, &ms) || ms != ok[i].ms)
      QR__FAIL("%s: got %ld, want %ld", ok[i].s, ms, ok[i].ms);
  }
  static const char *const bad[] = {"", "s", "20", "-1s", "20 s", "1d", "1s2", "abc", "1e999s"};
  for (size_t i = 0; i < QR_ARRAY_LEN(bad); i++) {
    long ms = -1;
    if (qr_http_duration_ms(bad[i], &ms)) QR__FAIL("\"%s\" parsed as %ld", bad[i], ms);
  }
  long ms;
  ASSERT(!qr_http_duration_ms(NULL, &ms));
}
