/* What the tools' libevent connections (to kicd, to Asterisk) share. */
#ifndef KIC_TOOLNET_H
#define KIC_TOOLNET_H

#include <event2/bufferevent.h>
#include <stdbool.h>
#include <stddef.h>

/* Why a connection ended, from a bufferevent event that is not
 * CONNECTED: "connection closed by PEER" at EOF, otherwise the
 * resolver's or the socket's error. */
void toolnet_failure(struct bufferevent *bev, short what, const char *peer, char *why, size_t n);

/* "HOST:PORT", "HOST" or "[IPv6]:PORT" into host (hostlen bytes) and
 * *port, which keeps its value (the default) when none is given. false
 * for an empty or too long host, a port outside 1-65535 or anything
 * after it. */
bool toolnet_parse_endpoint(const char *text, char *host, size_t hostlen, int *port);

#endif
