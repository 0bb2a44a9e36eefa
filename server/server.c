/* Server-wide helpers: role names, the clock, logging, orderly shutdown. */
#include "server.h"

#include <event2/listener.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "conn.h"
#include "http.h"
#include "logins.h"
#include "listener.h"

static const char *const role_names[] = {
#define ROLE_NAME(name, text) text,
    ROLES(ROLE_NAME)
#undef ROLE_NAME
};

const char *role_name(Role r)
{
    return r >= 0 && r < ROLE_COUNT ? role_names[r] : "none";
}

bool role_parse(const char *name, Role *out)
{
    for (int i = 0; i < ROLE_COUNT; i++) {
        if (strcmp(name, role_names[i]) == 0) {
            *out = (Role)i;
            return true;
        }
    }
    return false;
}

KicTime server_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (KicTime)tv.tv_sec * KIC_USEC + tv.tv_usec;
}

void srv_log(const Server *s, LogLevel level, const char *fmt, ...)
{
    if (level > s->log_level)
        return;
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_write(level, NULL, "%s", msg);
}

void server_end_user(Server *s, int64_t tenant_id, int64_t user_id, const char *why)
{
    http_forget_user(s->http, tenant_id, user_id);
    logins_forget_user(s->logins, tenant_id, user_id);
    for (Conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        /* reads nothing more; answers already due (to the user's own
         * revoke, say) still go out, then it closes */
        if (c->sess.authenticated && c->sess.tenant_id == tenant_id && c->sess.user_id == user_id)
            conn_close_after_flush(c, "%s", why);
    }
}
