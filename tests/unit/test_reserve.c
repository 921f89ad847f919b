/* Unit tests for reserve.c: the shared day budget grants while ledger spend plus live
 * reservations fit, releases, and ignores reservations of processes that are gone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/ledger.h"
#include "store/reserve.h"
#include "test.h"

static char *scratch_ledger(void) {
  char dir[] = "/tmp/qr-reserve-XXXXXX";
  ASSERT(mkdtemp(dir) != NULL);
  char *p = qr_asprintf("%s/ledger.jsonl", dir);
  ASSERT(p != NULL);
  return p;
}

TEST(reserve_grants_within_the_day_and_releases) {
  char *ledger = scratch_ledger();
  qr_ledger *l = NULL;
  ASSERT_OK(qr_ledger_open(ledger, &l, NULL));
  qr_ledger_record rec = {.role = "pass", .status = "ok", .cost_usd = 0.5};
  ASSERT_OK(qr_ledger_append(l, &rec, NULL));
  qr_ledger_close(l);
  qr_reserve *a = NULL, *b = NULL;
  ASSERT_OK(qr_reserve_open(ledger, &a, NULL));
  ASSERT_OK(qr_reserve_open(ledger, &b, NULL)); /* a second review */
  uint64_t id1, id2, id3;
  char why[256] = "";
  time_t day = time(NULL) - 60;
  ASSERT_OK(qr_reserve_take(a, day, 1.0, 0.3, &id1, why, sizeof why, NULL));
  ASSERT(id1 != 0);
  ASSERT_OK(qr_reserve_take(b, day, 1.0, 0.3, &id2, why, sizeof why, NULL));
  ASSERT_EQ(id2, 0); /* 0.5 spent + 0.3 held + 0.3 > 1.0 */
  ASSERT(strstr(why, "max_usd_per_day") && strstr(why, "$0.3000 held"));
  qr_reserve_release(a, id1);
  ASSERT_OK(qr_reserve_take(b, day, 1.0, 0.3, &id3, why, sizeof why, NULL));
  ASSERT(id3 != 0);
  qr_reserve_close(a);
  qr_reserve_close(b);
  qr_free(ledger);
}

TEST(reserve_ignores_gone_processes_and_damage) {
  char *ledger = scratch_ledger();
  char *path = qr_asprintf("%s.reservations", ledger);
  FILE *f = fopen(path, "w");
  ASSERT(f != NULL);
  /* pid 2^22+1 is above Linux's pid_max default: that process is gone */
  fprintf(f, "4194305 abc 5.0 %lld\nnot a reservation\n", (long long)time(NULL));
  for (int i = 0; i < 40000; i++) fprintf(f, "%d damaged line of a file far too big\n", i);
  fclose(f);
  qr_reserve *rs = NULL;
  ASSERT_OK(qr_reserve_open(ledger, &rs, NULL));
  uint64_t id;
  char why[256];
  ASSERT_OK(qr_reserve_take(rs, time(NULL) - 60, 1.0, 0.9, &id, why, sizeof why, NULL));
  ASSERT(id != 0);
  qr_reserve_release(rs, id);
  char *text = NULL;
  size_t len = 0;
  ASSERT_OK(qr_read_file(path, 4096, &text, &len, NULL));
  ASSERT_EQ(len, 0); /* released, and the stale lines are gone */
  qr_free(text);
  qr_reserve_close(rs);
  qr_free(path);
  qr_free(ledger);
}
