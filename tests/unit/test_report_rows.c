/* The report's row table: one row per (bucket, group values), interned
 * values, clearing between intervals, answer order. */
#include <stdio.h>
#include <string.h>

#include "report_rows.h"
#include "unit.h"

static StrMap values;
static RowTable t;

static void setup(void)
{
    values = (StrMap)STRMAP_INIT;
    row_table_init(&t, &values, 2);
}

static void teardown(void)
{
    row_table_free(&t);
    row_values_free(&values);
}

static Row *get(const char *a, const char *b, int64_t bucket)
{
    const char *v[2] = {a, b};
    return row_table_get(&t, v, bucket);
}

START_TEST(same_key_same_row)
{
    Row *r = get("zorg", "voice", 900);
    r->sums.offered = 3;
    ck_assert_ptr_eq(get("zorg", "voice", 900), r);
    ck_assert_int_eq(get("zorg", "voice", 900)->sums.offered, 3);
    ck_assert_uint_eq(t.n, 1);
    /* a value from another buffer is the same value */
    char copy[8];
    snprintf(copy, sizeof(copy), "%s", "zorg");
    ck_assert_ptr_eq(get(copy, "voice", 900), r);
}
END_TEST

START_TEST(each_part_of_the_key_counts)
{
    Row *r = get("zorg", "voice", 900);
    ck_assert_ptr_ne(get("zorg", "voice", 1800), r);
    ck_assert_ptr_ne(get("zorg", "chat", 900), r);
    ck_assert_ptr_ne(get("wmo", "voice", 900), r);
    ck_assert_ptr_ne(get(NULL, "voice", 900), r);
    ck_assert_ptr_ne(get("", "voice", 900), get(NULL, "voice", 900)); /* NULL is not "" */
    ck_assert_ptr_ne(get("zorg", NULL, NO_BUCKET), get("zorg", NULL, 0));
    ck_assert_uint_eq(t.n, 8);
    ck_assert_int_eq(get("zorg", "voice", 1800)->bucket, 1800);
    ck_assert_ptr_null(get(NULL, NULL, 5)->dims[0]);
}
END_TEST

START_TEST(new_rows_are_zero)
{
    Row *r = get("zorg", "voice", 900);
    ck_assert_int_eq(r->sums.offered, 0);
    ck_assert(!r->has_callbacks && !r->has_presence);
    ck_assert_int_eq(r->fcr_closed + r->fcr_ok, 0);
}
END_TEST

/* Thousands of keys through several growths: each found again, once. */
START_TEST(grows_and_finds_every_row)
{
    char a[16], b[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(a, sizeof(a), "q%d", i % 50);
        snprintf(b, sizeof(b), "c%d", i / 50);
        get(a, b, (int64_t)(i % 7) * 900)->sums.offered = i;
    }
    ck_assert_uint_eq(t.n, 5000);
    for (int i = 0; i < 5000; i++) {
        snprintf(a, sizeof(a), "q%d", i % 50);
        snprintf(b, sizeof(b), "c%d", i / 50);
        ck_assert_int_eq(get(a, b, (int64_t)(i % 7) * 900)->sums.offered, i);
    }
    ck_assert_uint_eq(t.n, 5000);
    ck_assert_uint_ge(t.nslots, 10000);
}
END_TEST

/* After a clear, the table is empty: what was there is made anew. */
START_TEST(clear_forgets_every_row)
{
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 40; i++) {
            char a[16];
            snprintf(a, sizeof(a), "q%d", i);
            Row *r = get(a, "voice", round);
            ck_assert_int_eq(r->sums.offered, 0);
            r->sums.offered = round + 1;
            ck_assert_int_eq(get(a, "voice", round)->sums.offered, round + 1);
        }
        ck_assert_uint_eq(t.n, 40);
        row_table_clear(&t);
        ck_assert_uint_eq(t.n, 0);
        ck_assert_int_eq(get("q0", "voice", round)->sums.offered, 0);
        row_table_clear(&t);
    }
}
END_TEST

/* The generation counter wrapping: the slots are wiped, not reused. */
START_TEST(clear_survives_the_generation_wrapping)
{
    get("zorg", "voice", 900)->sums.offered = 1;
    t.gen = UINT32_MAX;
    get("zorg", "voice", 900)->sums.offered = 2; /* a new row under this generation */
    row_table_clear(&t);
    ck_assert_uint_eq(t.gen, 1);
    ck_assert_int_eq(get("zorg", "voice", 900)->sums.offered, 0);
    ck_assert_uint_eq(t.n, 1);
}
END_TEST

/* By bucket, then the first value, then the second; NULL before any. */
START_TEST(sorted_by_interval_then_values_null_first)
{
    get("zorg", "voice", 1800);
    get("wmo", NULL, 900);
    get("zorg", "chat", 900);
    get(NULL, "voice", 900);
    get("wmo", "chat", 900);
    get("Zorg", "chat", 900); /* bytes: upper case first */
    get("a", "a", NO_BUCKET);
    Row **o = row_table_sorted(&t);
    const char *want[][2] = {{"a", "a"},    {NULL, "voice"},  {"Zorg", "chat"}, {"wmo", NULL},
                             {"wmo", "chat"}, {"zorg", "chat"}, {"zorg", "voice"}};
    int64_t buckets[] = {NO_BUCKET, 900, 900, 900, 900, 900, 1800};
    ck_assert_uint_eq(t.n, 7);
    for (size_t i = 0; i < t.n; i++) {
        ck_assert_int_eq(o[i]->bucket, buckets[i]);
        for (int k = 0; k < 2; k++) {
            if (want[i][k])
                ck_assert_str_eq(o[i]->dims[k], want[i][k]);
            else
                ck_assert_ptr_null(o[i]->dims[k]);
        }
        if (i > 0)
            ck_assert_int_lt(row_cmp(o[i - 1], o[i], 2), 0);
    }
    ck_assert_int_eq(row_cmp(o[3], o[3], 2), 0);
}
END_TEST

/* Two tables on one set of values: a key is equal across them. */
START_TEST(tables_share_their_values)
{
    RowTable side;
    row_table_init(&side, &values, 2);
    const char *v[2] = {"zorg", "voice"};
    Row *a = get("zorg", "voice", 900);
    Row *b = row_table_get(&side, v, 900);
    ck_assert_ptr_eq(a->dims[0], b->dims[0]);
    ck_assert_int_eq(row_cmp(a, b, 2), 0);
    b->has_callbacks = true;
    b->cb[0] = 4;
    b->cb_mean_s = 12.5;
    b->has_presence = true;
    b->busy_s = 60;
    b->logged_s = 90;
    a->sums.offered = 7;
    row_take_side(a, b);
    ck_assert(a->has_callbacks && a->has_presence);
    ck_assert_int_eq(a->cb[0], 4);
    ck_assert_double_eq(a->cb_mean_s, 12.5);
    ck_assert_double_eq(a->logged_s, 90);
    ck_assert_int_eq(a->sums.offered, 7); /* the sums stay */
    row_table_free(&side);
}
END_TEST

/* No grouping: the bucket alone is the key. */
START_TEST(no_groups_keys_by_bucket)
{
    RowTable all;
    row_table_init(&all, &values, 0);
    Row *r = row_table_get(&all, NULL, 900);
    ck_assert_ptr_eq(row_table_get(&all, NULL, 900), r);
    ck_assert_ptr_ne(row_table_get(&all, NULL, 0), r);
    ck_assert_uint_eq(row_table_sorted(&all)[0]->bucket, 0);
    row_table_free(&all);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report_rows");
    TCase *tc = tcase_create("table");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, same_key_same_row);
    tcase_add_test(tc, each_part_of_the_key_counts);
    tcase_add_test(tc, new_rows_are_zero);
    tcase_add_test(tc, grows_and_finds_every_row);
    tcase_add_test(tc, clear_forgets_every_row);
    tcase_add_test(tc, clear_survives_the_generation_wrapping);
    tcase_add_test(tc, sorted_by_interval_then_values_null_first);
    tcase_add_test(tc, tables_share_their_values);
    tcase_add_test(tc, no_groups_keys_by_bucket);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
