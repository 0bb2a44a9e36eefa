/* Every method handler, grouped by the file that implements it. The
 * dispatch table in dispatch.c is the only caller. */
#ifndef METHODS_H
#define METHODS_H

#include "conn.h"

/* session.c */
void method_auth_login(Conn *c, Reply *r, json_t *params);
void method_auth_logout(Conn *c, Reply *r, json_t *params);
void method_server_info(Conn *c, Reply *r, json_t *params);
void method_server_ping(Conn *c, Reply *r, json_t *params);

#endif
