/* Listening addresses: parsing "IP:PORT", and telling loopback apart. */
#include "listen_addr.h"

#include <arpa/inet.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <string.h>

bool listen_addr_parse(const char *text, struct sockaddr_storage *ss, int *len)
{
    memset(ss, 0, sizeof(*ss));
    *len = (int)sizeof(*ss);
    if (evutil_parse_sockaddr_port(text, (struct sockaddr *)ss, len) != 0)
        return false;
    /* libevent takes a bare "::1" as port 0: a port nobody could find */
    if (ss->ss_family == AF_INET)
        return ((const struct sockaddr_in *)ss)->sin_port != 0;
    if (ss->ss_family == AF_INET6)
        return ((const struct sockaddr_in6 *)ss)->sin6_port != 0;
    return false;
}

bool listen_addr_is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) /* ::ffff:127.x.y.z */
        return in6->sin6_addr.s6_addr[12] == 127;
    return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}
