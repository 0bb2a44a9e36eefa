/* See toolnet.h. */
#include "toolnet.h"

#include <event2/util.h>
#include <stdio.h>
#include <string.h> /* evutil_socket_error_to_string is strerror */

void toolnet_failure(struct bufferevent *bev, short what, const char *peer, char *why, size_t n)
{
    int dns_err = bufferevent_socket_get_dns_error(bev);
    if (what & BEV_EVENT_EOF)
        snprintf(why, n, "connection closed by %s", peer);
    else if (dns_err)
        snprintf(why, n, "%s", evutil_gai_strerror(dns_err));
    else
        snprintf(why, n, "%s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}
