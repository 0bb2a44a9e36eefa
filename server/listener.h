/* The JSON-RPC listener: accepts sockets, enforces the connection cap
 * (one over gets an explicit error line, then close), wraps TLS when
 * configured, and makes a Conn of each. When accept() fails (out of
 * descriptors) it pauses for ACCEPT_PAUSE_MS instead of retrying at once. */
#ifndef LISTENER_H
#define LISTENER_H

#include <sys/socket.h>

#include "listen_addr.h"
#include "server.h"

#define ACCEPT_PAUSE_MS 100

Listener *listener_start(Server *s, const char *addr, char *err, size_t errlen);
void listener_stop(Listener *l);
void listener_free(Listener *l);

#endif
