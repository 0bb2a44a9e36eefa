/* The audit log of reads of callers' data (NEN 7513): who (user, role),
 * which caller key, what (action, subject), when, from which address.
 * A read is answered only after its audit rows are committed: no audit,
 * no read (-32050 when storage cannot take them). */
#ifndef AUDIT_H
#define AUDIT_H

#include "conn.h"
#include "pg.h"

/* Adds to job the statement that records these reads by c's session:
 * one row per caller key (NULL keys are skipped). */
void audit_add(PgJob *job, const Conn *c, const char *action, const char *const *caller_keys,
               const char *const *subjects, size_t n);

#endif
