/* AMI stream parser: banner, CRLF and LF, empty values, oversized and
 * over-wide messages, and the real recording split at every byte and at
 * random places giving the very same messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amiparse.h"
#include "strbuf.h"
#include "unit.h"

static AmiParser p;

static void setup(void)
{
    ck_assert(ami_parser_init(&p, 1024));
}

static void teardown(void)
{
    ami_parser_free(&p);
}

/* Everything the parser yields, as text: "B:<banner>", "M:k=v|k=v", "X". */
static void drain(AmiParser *ps, StrBuf *out)
{
    AmiMessage msg;
    const char *banner;
    AmiResult r;
    while ((r = ami_parser_next(ps, &msg, &banner)) != AMI_NEED) {
        if (r == AMI_BANNER) {
            strbuf_printf(out, "B:%s\n", banner);
        } else if (r == AMI_OVERSIZED) {
            strbuf_puts(out, "X\n");
        } else {
            strbuf_puts(out, "M:");
            for (size_t i = 0; i < msg.n; i++)
                strbuf_printf(out, "%s%s=%s", i ? "|" : "", msg.fields[i].key, msg.fields[i].value);
            strbuf_putc(out, '\n');
        }
    }
}

/* Feeds text in pieces of the given sizes (cycled), returns the output. */
static char *parse_split(AmiParser *ps, const char *text, size_t len, const size_t *cuts,
                         size_t ncuts)
{
    StrBuf out = STRBUF_INIT;
    size_t off = 0, k = 0;
    while (off < len) {
        size_t n = ncuts ? cuts[k++ % ncuts] : len;
        if (n > len - off)
            n = len - off;
        size_t taken = ami_parser_feed(ps, text + off, n);
        off += taken;
        drain(ps, &out);
        ck_assert_msg(taken > 0 || n == 0, "parser stuck at %zu", off);
    }
    drain(ps, &out);
    strbuf_putc(&out, '.');
    return strbuf_steal(&out);
}

static char *parse(const char *text)
{
    return parse_split(&p, text, strlen(text), NULL, 0);
}

START_TEST(banner_then_messages)
{
    char *out = parse("Asterisk Call Manager/13.0.0\r\n"
                      "Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
                      "Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n");
    ck_assert_str_eq(out, "B:Asterisk Call Manager/13.0.0\n"
                          "M:Response=Success|Message=Authentication accepted\n"
                          "M:Event=FullyBooted|Privilege=system,all|Status=Fully Booted\n.");
    free(out);
}
END_TEST

START_TEST(incomplete_message_waits)
{
    char *out = parse("Asterisk Call Manager/13.0.0\r\nEvent: Hangup\r\nCause: 16\r\n");
    ck_assert_str_eq(out, "B:Asterisk Call Manager/13.0.0\n.");
    free(out);
    out = parse("\r\n");
    ck_assert_str_eq(out, "M:Event=Hangup|Cause=16\n.");
    free(out);
}
END_TEST

START_TEST(bare_lf_empty_values_and_odd_lines)
{
    char *out = parse("Asterisk Call Manager/2.10.4\n"
                      "Event: BlindTransfer\nTransfererAccountCode: \nIsExternal:Yes\n"
                      "Value: a: b\nno colon here\n\n\n\r\n"
                      "Event: X\r\n\r\n");
    ck_assert_str_eq(out, "B:Asterisk Call Manager/2.10.4\n"
                          "M:Event=BlindTransfer|TransfererAccountCode=|IsExternal=Yes|Value=a: "
                          "b|no colon here=\n"
                          "M:Event=X\n.");
    free(out);
}
END_TEST

START_TEST(no_banner_when_first_line_is_a_field)
{
    char *out = parse("Event: Hangup\r\n\r\n");
    ck_assert_str_eq(out, "M:Event=Hangup\n.");
    free(out);
}
END_TEST

START_TEST(get_is_case_insensitive_first_wins)
{
    char text[] = "Event: VarSet\r\nuniqueid: 1.2\r\nUniqueid: 9.9\r\n\r\n";
    ck_assert_uint_eq(ami_parser_feed(&p, text, strlen(text)), strlen(text));
    AmiMessage msg;
    const char *banner;
    ck_assert_int_eq(ami_parser_next(&p, &msg, &banner), AMI_MESSAGE);
    ck_assert_str_eq(ami_get(&msg, "UNIQUEID"), "1.2");
    ck_assert_ptr_null(ami_get(&msg, "Linkedid"));
    ck_assert_str_eq(ami_get_or(&msg, "Linkedid", "-"), "-");
}
END_TEST

START_TEST(oversized_message_is_skipped_whole)
{
    StrBuf in = STRBUF_INIT;
    strbuf_puts(&in, "Asterisk Call Manager/13.0.0\r\nEvent: Small\r\n\r\nEvent: Big\r\n");
    for (int i = 0; i < 100; i++)
        strbuf_printf(&in, "Key%d: %s\r\n", i, "0123456789012345678901234567890123456789");
    strbuf_puts(&in, "\r\nEvent: After\r\nA: 1\r\n\r\n");
    static const size_t cuts[] = {7, 300, 1, 64};
    for (size_t ncuts = 0; ncuts <= 4; ncuts++) {
        ami_parser_reset(&p);
        char *out = parse_split(&p, in.data, in.len, cuts, ncuts);
        ck_assert_str_eq(out, "B:Asterisk Call Manager/13.0.0\nM:Event=Small\nX\n"
                              "M:Event=After|A=1\n.");
        free(out);
    }
    ck_assert_uint_ge(p.oversized, 1);
    strbuf_free(&in);
}
END_TEST

START_TEST(a_blank_line_split_across_feeds_ends_a_discarded_message)
{
    /* the end of an oversized message arrives as "\r" then "\n\r" then "\n" */
    StrBuf in = STRBUF_INIT;
    strbuf_puts(&in, "Event: Big\r\n");
    for (int i = 0; i < 40; i++)
        strbuf_printf(&in, "K%d: %s\r\n", i, "01234567890123456789012345678901234567890123456789");
    strbuf_puts(&in, "\r\nEvent: Next\r\n\r\n");
    static const size_t cuts[] = {1};
    char *out = parse_split(&p, in.data, in.len, cuts, 1);
    ck_assert_str_eq(out, "X\nM:Event=Next\n.");
    free(out);
    strbuf_free(&in);
}
END_TEST

START_TEST(too_many_fields_is_skipped)
{
    ami_parser_free(&p);
    ck_assert(ami_parser_init(&p, 8192));
    StrBuf in = STRBUF_INIT;
    strbuf_puts(&in, "Event: Wide\r\n");
    for (int i = 0; i < AMI_MAX_FIELDS; i++)
        strbuf_printf(&in, "K%d: v\r\n", i);
    strbuf_puts(&in, "\r\nEvent: Narrow\r\n\r\n");
    char *out = parse_split(&p, in.data, in.len, NULL, 0);
    ck_assert_str_eq(out, "X\nM:Event=Narrow\n.");
    free(out);
    strbuf_free(&in);
}
END_TEST

START_TEST(every_split_point_of_a_sample)
{
    const char *text = "Asterisk Call Manager/13.0.0\r\nResponse: Success\r\n\r\n"
                       "Event: Hold\r\nChannel: Local/a01@agents-00000011;1\r\n\r\n"
                       "Event: Unhold\nUniqueid: 1.2\n\n";
    size_t len = strlen(text);
    char *whole = parse(text);
    for (size_t a = 0; a <= len; a++) {
        for (size_t b = a; b <= len; b += 7) {
            ami_parser_reset(&p);
            size_t cuts[] = {a, b - a, len};
            StrBuf out = STRBUF_INIT;
            size_t off = 0;
            for (size_t k = 0; k < 3; k++) {
                size_t n = cuts[k] < len - off ? cuts[k] : len - off;
                ck_assert_uint_eq(ami_parser_feed(&p, text + off, n), n);
                off += n;
                drain(&p, &out);
            }
            strbuf_putc(&out, '.');
            ck_assert_str_eq(out.data, whole);
            strbuf_free(&out);
        }
    }
    free(whole);
}
END_TEST

static char *read_recording(size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/A-ami.raw", KIC_SHARED_AMI_DIR);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

START_TEST(the_recording_split_anywhere_parses_the_same)
{
    size_t len;
    char *rec = read_recording(&len);
    AmiParser big;
    ck_assert(ami_parser_init(&big, AMI_DEFAULT_MAX_MESSAGE));
    char *whole = parse_split(&big, rec, len, NULL, 0);
    /* the banner, 1,987 messages (login reply, events, the Goodbye), no loss */
    ck_assert(strncmp(whole, "B:Asterisk Call Manager/13.0.0\nM:Response=Success|", 49) == 0);
    ck_assert_uint_eq(big.messages, 1987);
    ck_assert_uint_eq(big.oversized, 0);
    ck_assert_ptr_nonnull(strstr(whole, "M:Response=Goodbye|Message=Thanks for all the fish.\n."));

    static const size_t one[] = {1};
    ami_parser_reset(&big);
    char *bytewise = parse_split(&big, rec, len, one, 1);
    ck_assert(strcmp(whole, bytewise) == 0);
    free(bytewise);

    unsigned seed = 7;
    for (int round = 0; round < 20; round++) {
        size_t cuts[64];
        for (size_t i = 0; i < 64; i++)
            cuts[i] = 1 + (size_t)rand_r(&seed) % (round < 10 ? 40 : 9000);
        ami_parser_reset(&big);
        char *chunked = parse_split(&big, rec, len, cuts, 64);
        ck_assert_msg(strcmp(whole, chunked) == 0, "round %d differs", round);
        free(chunked);
    }
    free(whole);
    free(rec);
    ami_parser_free(&big);
}
END_TEST

START_TEST(space_and_commit)
{
    size_t space;
    char *dst = ami_parser_space(&p, &space);
    ck_assert_uint_eq(space, 1024);
    memcpy(dst, "Event: X\r\n\r\n", 12);
    ami_parser_commit(&p, 12);
    AmiMessage msg;
    const char *banner;
    ck_assert_int_eq(ami_parser_next(&p, &msg, &banner), AMI_MESSAGE);
    ck_assert_str_eq(ami_get(&msg, "Event"), "X");
    ck_assert_int_eq(ami_parser_next(&p, &msg, &banner), AMI_NEED);
    dst = ami_parser_space(&p, &space);
    ck_assert_uint_eq(space, 1024); /* consumed bytes are reclaimed */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ami_parse");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, banner_then_messages);
    tcase_add_test(tc, incomplete_message_waits);
    tcase_add_test(tc, bare_lf_empty_values_and_odd_lines);
    tcase_add_test(tc, no_banner_when_first_line_is_a_field);
    tcase_add_test(tc, get_is_case_insensitive_first_wins);
    tcase_add_test(tc, oversized_message_is_skipped_whole);
    tcase_add_test(tc, a_blank_line_split_across_feeds_ends_a_discarded_message);
    tcase_add_test(tc, too_many_fields_is_skipped);
    tcase_add_test(tc, every_split_point_of_a_sample);
    tcase_add_test(tc, the_recording_split_anywhere_parses_the_same);
    tcase_add_test(tc, space_and_commit);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
