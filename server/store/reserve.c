/* reserve.c — see reserve.h. Every operation holds flock(LOCK_EX) on the reservations file
 * while it reads the file (and the ledger) and rewrites it. */
#include "store/reserve.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include "log.h"
#include "store/ledger.h"
#include "store/xdg.h"

#define MAX_FILE (1u << 20) /* reservations are a few lines; a bigger file is damaged */
#define MAX_AGE_S (24 * 3600)

struct qr_reserve {
  int fd;
  char *ledger; /* the ledger's path */
  char *path;   /* the reservations file */
};

int qr_reserve_open(const char *ledger_path, qr_reserve **out, qr_err *e) {
  qr_reserve *rs = qr_calloc(1, sizeof *rs);
  if (!rs) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  rs->fd = -1;
  int rc = ledger_path ? ((rs->ledger = qr_strdup(ledger_path)) ? QR_OK : QR_E_NOMEM)
                       : qr_ledger_default_path(&rs->ledger, e);
  if (rc == QR_E_NOMEM) qr_err_set(e, rc, "out of memory");
  if (!rc && !(rs->path = qr_asprintf("%s.reservations", rs->ledger)))
    rc = qr_err_set(e, QR_E_NOMEM, "out of memory");
  if (!rc) rc = qr_xdg_make_parents(rs->path, e);
  if (!rc && (rs->fd = open(rs->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
    rc = qr_err_set(e, QR_E_IO, "cannot open %s: %s", rs->path, strerror(errno));
  if (rc) {
    qr_reserve_close(rs);
    return rc;
  }
  *out = rs;
  return QR_OK;
}

void qr_reserve_close(qr_reserve *rs) {
  if (!rs) return;
  if (rs->fd >= 0) close(rs->fd); /* also drops a lock, were one held */
  qr_free(rs->ledger);
  qr_free(rs->path);
  qr_free(rs);
}

static int lock(qr_reserve *rs, qr_err *e) {
  int rc;
  do rc = flock(rs->fd, LOCK_EX);
  while (rc && errno == EINTR);
  return rc ? qr_err_set(e, QR_E_IO, "cannot lock %s: %s", rs->path, strerror(errno)) : QR_OK;
}

static void unlock(qr_reserve *rs) { flock(rs->fd, LOCK_UN); }

/* The file's live lines, without `drop` (0: none), into b; *held is what they reserve. */
static int read_live(qr_reserve *rs, uint64_t drop, qr_buf *b, double *held, qr_err *e) {
  char *text = NULL;
  size_t len = 0;
  qr_err re = {0};
  int rc = qr_read_file(rs->path, MAX_FILE, &text, &len, &re);
  if (rc == QR_E_TOOBIG) { /* not what this file holds: start afresh rather than fail forever */
    QR_WARN("budget: %s; its reservations are dropped", re.msg);
    rc = QR_OK;
  }
  if (rc) return qr_err_set(e, rc, "%s", re.msg);
  time_t now = time(NULL);
  *held = 0;
  for (char *line = text, *next; !rc && line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = '\0';
    long pid;
    unsigned long long id;
    double usd;
    long long when;
    if (sscanf(line, "%ld %llx %lf %lld", &pid, &id, &usd, &when) != 4 || id == drop ||
        now - when > MAX_AGE_S || (kill((pid_t)pid, 0) && errno == ESRCH))
      continue; /* released, stale, or not a reservation */
    *held += usd;
    rc = qr_buf_printf(b, "%s\n", line);
  }
  qr_free(text);
  return rc == QR_E_NOMEM ? qr_err_set(e, rc, "out of memory") : rc;
}

static int rewrite(qr_reserve *rs, const qr_buf *b, qr_err *e) {
  if (ftruncate(rs->fd, 0) || pwrite(rs->fd, b->data ? b->data : "", b->len, 0) != (ssize_t)b->len)
    return qr_err_set(e, QR_E_IO, "cannot write %s: %s", rs->path, strerror(errno));
  return QR_OK;
}

static uint64_t new_id(void) {
  uint64_t v = 0;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
    v = qr_now_ms() ^ ((uint64_t)getpid() << 32);
  return v ? v : 1;
}

int qr_reserve_take(qr_reserve *rs, time_t day_start, double max_day, double usd, uint64_t *id,
                    char *why, size_t why_len, qr_err *e) {
  *id = 0;
  int rc = lock(rs, e);
  if (rc) return rc;
  qr_buf b;
  qr_buf_init(&b, MAX_FILE);
  double held = 0, spent = 0;
  rc = read_live(rs, 0, &b, &held, e);
  if (!rc) rc = qr_ledger_spent_since(rs->ledger, day_start, &spent, e);
  if (!rc && spent + held + usd > max_day) {
    snprintf(why, why_len,
             "the estimated $%.4f would take today's spend to $%.4f ($%.4f recorded, $%.4f held "
             "by calls in flight), past limits.max_usd_per_day ($%.2f)",
             usd, spent + held + usd, spent, held, max_day);
  } else if (!rc) {
    uint64_t v = new_id();
    rc = qr_buf_printf(&b, "%ld %llx %.9f %lld\n", (long)getpid(), (unsigned long long)v, usd,
                       (long long)time(NULL));
    if (rc) rc = qr_err_set(e, rc, "out of memory");
    if (!rc) rc = rewrite(rs, &b, e);
    if (!rc) *id = v;
  }
  unlock(rs);
  qr_buf_free(&b);
  return rc;
}

void qr_reserve_release(qr_reserve *rs, uint64_t id) {
  if (!rs || !id) return;
  qr_err e = {0};
  qr_buf b;
  qr_buf_init(&b, MAX_FILE);
  double held;
  int rc = lock(rs, &e);
  if (!rc) {
    rc = read_live(rs, id, &b, &held, &e);
    if (!rc) rc = rewrite(rs, &b, &e);
    unlock(rs);
  }
  if (rc) QR_WARN("budget: %s", e.msg);
  qr_buf_free(&b);
}
