/* reserve.h — the day budget shared by every review on the machine (limits.max_usd_per_day).
 *
 * Before a call is sent its estimate is reserved; after it finished (and its record is in the
 * ledger) the reservation is released. A reservation is granted only while the day's ledger
 * spend plus every live reservation plus the new estimate stays within the limit, checked and
 * written under an exclusive lock (flock) on one small file next to the ledger,
 * "<ledger>.reservations", so two reviews started together — two CLI runs, or two reviews in
 * one language server — cannot both spend the same remaining dollars. The file holds one line
 * per reservation: "<pid> <id> <usd> <unix time>"; lines of processes that are gone (they
 * crashed holding one) or older than a day are dropped. */
#ifndef QR_RESERVE_H
#define QR_RESERVE_H

#include <stdint.h>
#include <time.h>

#include "common.h"

typedef struct qr_reserve qr_reserve;

/* Opens the reservations kept beside the ledger at `ledger_path` (NULL: the default), creating
 * the file (0600). *out is new; close with qr_reserve_close. QR_E_IO names the file. */
int qr_reserve_open(const char *ledger_path, qr_reserve **out, qr_err *e);
void qr_reserve_close(qr_reserve *rs); /* NULL is a no-op */

/* Reserves `usd` against `max_day` for the day that began at `day_start`. Sets *id (never 0)
 * when granted; when the limit would be passed sets *id to 0 and writes one sentence to `why`.
 * Returns QR_E_IO / QR_E_NOMEM when the files cannot be read or written. */
int qr_reserve_take(qr_reserve *rs, time_t day_start, double max_day, double usd, uint64_t *id,
                    char *why, size_t why_len, qr_err *e);
/* Drops reservation `id` (0 is a no-op); its spend is in the ledger by now. Errors are logged. */
void qr_reserve_release(qr_reserve *rs, uint64_t id);

#endif
