/* The writer's lock on its database (writer_lock.h). */
#include "writer_lock.h"

#include "kictime.h"

/* 1802068836 is "kicd" in ASCII; PostgreSQL scopes advisory locks to the
 * database, so kicds of other databases on one server do not meet. */
const char WRITER_LOCK_SQL[] =
    "DO $kicd$\n"
    "DECLARE\n"
    "    holder text;\n"
    "BEGIN\n"
    "    IF pg_try_advisory_lock(1802068836, 0) THEN\n"
    "        RETURN;\n"
    "    END IF;\n"
    "    SELECT string_agg(format('session %s from %s since %s', a.pid,\n"
    "                             coalesce(host(a.client_addr), 'a local socket'),\n"
    "                             to_char(a.backend_start AT TIME ZONE 'UTC',\n"
    "                                     'YYYY-MM-DD HH24:MI:SS \"UTC\"')), ', ')\n"
    "      INTO holder\n"
    "      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid\n"
    "     WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 1802068836\n"
    "       AND l.objid = 0 AND l.objsubid = 2\n"
    "       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database());\n"
    "    RAISE EXCEPTION USING ERRCODE = '" WRITER_LOCK_SQLSTATE "',\n"
    "        MESSAGE = format('another kicd writes to this database (%s)',\n"
    "                         coalesce(holder, 'its session is not visible to this role'));\n"
    "END\n"
    "$kicd$";

void writer_lock_refused(Server *s, const char *message)
{
    KicTime now = server_now();
    if (s->writer_refused_since == KIC_TIME_NONE)
        s->writer_refused_since = now;
    if (now - s->writer_refused_since < WRITER_LOCK_GRACE_S * KIC_USEC)
        return;
    srv_log(s, LOG_ERROR, "%s: stopping after %d s of trying (one kicd writes a database)",
            message, WRITER_LOCK_GRACE_S);
    server_shutdown(s, 1);
}

void writer_lock_taken(Server *s)
{
    s->writer_refused_since = KIC_TIME_NONE;
}
