/* output.h — renders a review result (the JSON built by review.c) for people and tools.
 * The JSON format is the result itself; this module adds the others. */
#ifndef QR_OUTPUT_H
#define QR_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "findings.h"

/* `file:line:col: severity: message [category, votes/passes]` lines, then a summary line
 * (findings by severity, passes ok/total, cost, omitted files, degraded reasons). */
int qr_output_text(FILE *out, const json_t *result, bool color);
/* The result as indented JSON. */
int qr_output_json(FILE *out, const json_t *result);
/* The highest severity among the result's findings (0 when none). */
qr_severity qr_output_max_severity(const json_t *result);

#endif
