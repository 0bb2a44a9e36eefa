/* Every method handler, grouped by the file that implements it. The
 * dispatch table in dispatch.c is the only caller. */
#ifndef METHODS_H
#define METHODS_H

#include "dispatch.h"

/* session.c */
void method_auth_login(Conn *c, Reply *r, json_t *params, const Method *m);
void method_auth_logout(Conn *c, Reply *r, json_t *params, const Method *m);
void method_server_info(Conn *c, Reply *r, json_t *params, const Method *m);
void method_server_ping(Conn *c, Reply *r, json_t *params, const Method *m);

/* events.c: every telephony event method (role bridge) */
void method_event(Conn *c, Reply *r, json_t *params, const Method *m);

/* agents.c */
void method_agent_state_set(Conn *c, Reply *r, json_t *params, const Method *m);
void method_agents_list(Conn *c, Reply *r, json_t *params, const Method *m);

/* wrapup.c */
void method_call_wrapup(Conn *c, Reply *r, json_t *params, const Method *m);
void method_categories_list(Conn *c, Reply *r, json_t *params, const Method *m);

/* callbacks.c */
void method_callback_create(Conn *c, Reply *r, json_t *params, const Method *m);
void method_callback_list(Conn *c, Reply *r, json_t *params, const Method *m);
void method_callback_claim(Conn *c, Reply *r, json_t *params, const Method *m);
void method_callback_complete(Conn *c, Reply *r, json_t *params, const Method *m);
void method_callbacks_summary(Conn *c, Reply *r, json_t *params, const Method *m);

/* history.c */
void method_caller_history(Conn *c, Reply *r, json_t *params, const Method *m);

/* report.c */
void method_report_query(Conn *c, Reply *r, json_t *params, const Method *m);

/* admin.c */
void method_user_create(Conn *c, Reply *r, json_t *params, const Method *m);
void method_user_revoke(Conn *c, Reply *r, json_t *params, const Method *m);
void method_audit_query(Conn *c, Reply *r, json_t *params, const Method *m);

/* stats.c */
void method_stats_live(Conn *c, Reply *r, json_t *params, const Method *m);
void method_stats_subscribe(Conn *c, Reply *r, json_t *params, const Method *m);

#endif
