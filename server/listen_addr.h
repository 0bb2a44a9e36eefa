/* Listening addresses: what kicd takes for [server] listen and http, and
 * which of them it serves without TLS. */
#ifndef LISTEN_ADDR_H
#define LISTEN_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

#include "kic.h"

/* Parses "IP:PORT" or "[IPv6]:PORT" (no host names). */
bool listen_addr_parse(const char *text, struct sockaddr_storage *ss, int *len) KIC_MUST_CHECK;
/* 127.0.0.0/8, ::1, or ::ffff:127.x.y.z (the same, IPv4-mapped). */
bool listen_addr_is_loopback(const struct sockaddr_storage *ss);
/* Whether a listener could bind the address now (bound and let go at
 * once): a second kicd on a port in use stops at start, before it loads
 * or changes anything. The reason goes to err. */
bool listen_addr_available(const char *text, char *err, size_t errlen) KIC_MUST_CHECK;

#endif
