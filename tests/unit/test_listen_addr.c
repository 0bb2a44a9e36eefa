/* listen_addr_parse and listen_addr_is_loopback (server/listener.c):
 * which addresses kicd takes, and which it will serve without TLS. */
#include "listen_addr.h"
#include "unit.h"

static bool loopback(const char *text)
{
    struct sockaddr_storage ss;
    int len;
    ck_assert_msg(listen_addr_parse(text, &ss, &len), "'%s' not parsed", text);
    return listen_addr_is_loopback(&ss);
}

START_TEST(addresses_are_ip_and_port)
{
    struct sockaddr_storage ss;
    int len;
    const char *good[] = {"127.0.0.1:7411", "0.0.0.0:1", "[::1]:7411", "[::]:65535",
                          "[::ffff:127.0.0.1]:7411"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(listen_addr_parse(good[i], &ss, &len), "%s", good[i]);
    const char *bad[] = {"", "127.0.0.1", "localhost:7411", "::1", "[::1]", "127.0.0.1:x",
                         "127.0.0.1:65536", "1.2.3:80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!listen_addr_parse(bad[i], &ss, &len), "%s", bad[i]);
}
END_TEST

/* Plain JSON-RPC and HTTP only on loopback: 127/8, ::1, and 127/8
 * written as an IPv4-mapped IPv6 address (the same socket). */
START_TEST(loopback_is_127_slash_8_and_colon_colon_1)
{
    ck_assert(loopback("127.0.0.1:7411"));
    ck_assert(loopback("127.255.0.9:7411"));
    ck_assert(loopback("[::1]:7411"));
    ck_assert(loopback("[::ffff:127.0.0.1]:7411"));
    ck_assert(loopback("[::ffff:127.1.2.3]:7411"));
    ck_assert(!loopback("0.0.0.0:7411"));
    ck_assert(!loopback("10.0.0.1:7411"));
    ck_assert(!loopback("128.0.0.1:7411"));
    ck_assert(!loopback("[::]:7411"));
    ck_assert(!loopback("[::2]:7411"));
    ck_assert(!loopback("[::ffff:10.0.0.1]:7411"));
    ck_assert(!loopback("[::ffff:0.0.0.0]:7411"));
    ck_assert(!loopback("[::127.0.0.1]:7411")); /* IPv4-compatible: not loopback */
    ck_assert(!loopback("[fe80::1]:7411"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("listen_addr");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, addresses_are_ip_and_port);
    tcase_add_test(tc, loopback_is_127_slash_8_and_colon_colon_1);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
