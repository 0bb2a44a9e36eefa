/* What the tools' libevent connections (to kicd, to Asterisk) share. */
#ifndef KIC_TOOLNET_H
#define KIC_TOOLNET_H

#include <event2/bufferevent.h>
#include <stddef.h>

/* Why a connection ended, from a bufferevent event that is not
 * CONNECTED: "connection closed by PEER" at EOF, otherwise the
 * resolver's or the socket's error. */
void toolnet_failure(struct bufferevent *bev, short what, const char *peer, char *why, size_t n);

#endif
