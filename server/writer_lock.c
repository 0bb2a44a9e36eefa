/* The writer's lock on its database (writer_lock.h). */
#include "writer_lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kictime.h"
#include "writer.h"

/* 1802068836 is "kicd" in ASCII; PostgreSQL scopes advisory locks to the
 * database, so kicds of other databases on one server do not meet. */
#define LOCK_CLASS "1802068836"
#define LOCK_KEY LOCK_CLASS ", 0"
/* pg_locks shows a lock of two int4 keys as classid, objid, objsubid 2 */
#define LOCK_ROWS                                                                              \
    "l.locktype = 'advisory' AND l.granted AND l.classid = " LOCK_CLASS " AND l.objid = 0"     \
    " AND l.objsubid = 2"                                                                      \
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"

/* Refusals further apart than this are not one streak: something else
 * (PostgreSQL unreachable, say) came between them. Back-off tops out at
 * 5 s and a connection attempt at 10 (pg.c). */
#define STREAK_GAP_S 20

/* The grace is measured on a clock no one sets. */
static KicTime monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (KicTime)ts.tv_sec * KIC_USEC + ts.tv_nsec / 1000;
}

void writer_lock_prepare(Server *s, int previous_pid)
{
    /* A session of this kicd that lost its client (a network that broke
     * between them) holds the lock until the server notices, which
     * without keepalives can take hours: the kicd ends it, waiting up to
     * 5 s, and takes the lock. */
    int n = snprintf(s->writer_lock_sql, sizeof(s->writer_lock_sql),
                     "DO $kicd$\n"
                     "DECLARE\n"
                     "    holder text;\n"
                     "BEGIN\n"
                     "    IF pg_try_advisory_lock(" LOCK_KEY ") THEN\n"
                     "        RETURN;\n"
                     "    END IF;\n"
                     "    IF %d > 0 AND EXISTS (SELECT 1 FROM pg_locks l WHERE " LOCK_ROWS " AND l.pid = %d) THEN\n"
                     "        PERFORM pg_terminate_backend(%d, 5000);\n"
                     "        IF pg_try_advisory_lock(" LOCK_KEY ") THEN\n"
                     "            RETURN;\n"
                     "        END IF;\n"
                     "    END IF;\n"
                     "    SELECT string_agg(CASE WHEN a.backend_start IS NULL\n"
                     "                 THEN format('session %%s of role %%s, whose details this role may not see',\n"
                     "                             a.pid, a.usename)\n"
                     "                 ELSE format('session %%s from %%s since %%s', a.pid,\n"
                     "                             coalesce(host(a.client_addr), 'a local socket'),\n"
                     "                             to_char(a.backend_start AT TIME ZONE 'UTC',\n"
                     "                                     'YYYY-MM-DD HH24:MI:SS \"UTC\"')) END, ', ')\n"
                     "      INTO holder\n"
                     "      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid\n"
                     "     WHERE " LOCK_ROWS ";\n"
                     "    RAISE EXCEPTION USING ERRCODE = '" WRITER_LOCK_SQLSTATE "',\n"
                     "        MESSAGE = format('another kicd writes to this database (%%s)',\n"
                     "                         coalesce(holder, 'its session is not visible to this role'));\n"
                     "END\n"
                     "$kicd$",
                     previous_pid, previous_pid, previous_pid);
    if (n < 0 || (size_t)n >= sizeof(s->writer_lock_sql))
        abort(); /* the buffer is sized for the statement: a cut one would not parse */
}

void writer_lock_refused(Server *s, const char *message)
{
    KicTime now = monotonic_now();
    if (s->writer_refused_since == KIC_TIME_NONE ||
        now - s->writer_refused_last > STREAK_GAP_S * KIC_USEC)
        s->writer_refused_since = now;
    s->writer_refused_last = now;
    writer_locked_out(s->writer, true);
    if (now - s->writer_refused_since < WRITER_LOCK_GRACE_S * KIC_USEC)
        return;
    srv_log(s, LOG_ERROR, "%s: stopping after %d s of trying (one kicd writes a database)",
            message, WRITER_LOCK_GRACE_S);
    server_shutdown(s, 1);
}

void writer_lock_taken(Server *s)
{
    s->writer_refused_since = KIC_TIME_NONE;
    writer_locked_out(s->writer, false);
}
