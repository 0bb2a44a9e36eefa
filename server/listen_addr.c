/* Listening addresses: parsing "IP:PORT", and telling loopback apart. */
#include "listen_addr.h"

#include <arpa/inet.h>
#include <event2/util.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

bool listen_addr_available(const char *text, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int len, one = 1;
    if (!listen_addr_parse(text, &ss, &len)) {
        snprintf(err, errlen, "bad address %s", text);
        return false;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
              bind(fd, (struct sockaddr *)&ss, (socklen_t)len) == 0;
    if (!ok)
        snprintf(err, errlen, "cannot listen on %s: %s", text, strerror(errno));
    if (fd >= 0)
        close(fd);
    return ok;
}
