/* See toolnet.h. */
#include "toolnet.h"

#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
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

bool toolnet_parse_endpoint(const char *text, char *host_out, size_t hostlen, int *port)
{
    const char *host = text, *colon;
    size_t hlen;
    if (*text == '[') { /* [::1]:7411 */
        const char *close = strchr(text, ']');
        if (!close)
            return false;
        host = text + 1;
        hlen = (size_t)(close - host);
        colon = close[1] == ':' ? close + 1 : NULL;
        if (close[1] && !colon)
            return false;
    } else {
        colon = strrchr(text, ':');
        hlen = colon ? (size_t)(colon - text) : strlen(text);
    }
    if (hlen == 0 || hlen >= hostlen)
        return false;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || *end || p < 1 || p > 65535)
            return false;
        *port = (int)p;
    }
    memcpy(host_out, host, hlen);
    host_out[hlen] = '\0';
    return true;
}
