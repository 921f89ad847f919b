/* output_common.h — the helpers every output format shares: reading a result's members, counting
 * the passes that ran, a finding's vote denominator, the one-line summary and the highest
 * severity. The formats (output.c, outputs_ci.c, outputs_github.c) use it; it uses none of them. */
#ifndef QR_OUTPUT_COMMON_H
#define QR_OUTPUT_COMMON_H

#include <jansson.h>
#include <stdbool.h>

#include "judge/findings.h"

/* The string member `key` of `o`, or `def`. Borrowed. */
const char *qr_output_str(const json_t *o, const char *key, const char *def);
/* The integer member `key` of `o`, or 0. */
long long qr_output_int(const json_t *o, const char *key);
/* Whether the pass entry `p` of a result is a review pass (role "pass"). */
bool qr_output_is_pass(const json_t *p);
/* How many passes ran (role "pass", any status but skipped). */
int qr_output_passes_ran(const json_t *result);
/* The denominator of a finding's votes: its "seen" (passes that read its file) when the engine
 * gave one, else `ran`. */
long long qr_output_seen(const json_t *finding, int ran);
/* "N findings (… errors, …); ok/ran passes ok; $cost" — new string (qr_free), NULL: no memory. */
char *qr_output_summary_line(const json_t *result);
/* The highest severity among the result's findings (0 when none). */
qr_severity qr_output_max_severity(const json_t *result);

#endif
