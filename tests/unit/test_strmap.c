/* StrMap against a simple reference model under random operations. */
#include <stdio.h>
#include <string.h>

#include "strmap.h"
#include "unit.h"

#define KEYS 500

START_TEST(matches_a_reference_model)
{
    static char keys[KEYS][16];
    static int present[KEYS];
    StrMap m = STRMAP_INIT;
    unsigned seed = 12345;
    for (int i = 0; i < KEYS; i++)
        snprintf(keys[i], sizeof(keys[i]), "key-%d", i);
    for (int step = 0; step < 200000; step++) {
        seed = seed * 1103515245 + 12345;
        int k = (int)((seed >> 8) % KEYS);
        int op = (int)((seed >> 4) % 3);
        if (op == 0) {
            void *old = strmap_put(&m, keys[k], &present[k]);
            ck_assert(old == (present[k] ? &present[k] : NULL));
            present[k] = 1;
        } else if (op == 1) {
            void *v = strmap_remove(&m, keys[k]);
            ck_assert(v == (present[k] ? &present[k] : NULL));
            present[k] = 0;
        } else {
            ck_assert(strmap_get(&m, keys[k]) == (present[k] ? &present[k] : NULL));
        }
    }
    size_t count = 0, pos = 0;
    const char *key;
    void *value;
    while (strmap_next(&m, &pos, &key, &value)) {
        ck_assert(strmap_get(&m, key) == value);
        count++;
    }
    size_t expect = 0;
    for (int i = 0; i < KEYS; i++)
        expect += (size_t)present[i];
    ck_assert_uint_eq(count, expect);
    ck_assert_uint_eq(m.count, expect);
    strmap_free(&m);
}
END_TEST

START_TEST(remove_while_iterating)
{
    StrMap m = STRMAP_INIT;
    static char keys[100][8];
    for (int i = 0; i < 100; i++) {
        snprintf(keys[i], sizeof(keys[i]), "%d", i);
        strmap_put(&m, keys[i], keys[i]);
    }
    size_t pos = 0;
    const char *key;
    int seen = 0;
    while (strmap_next(&m, &pos, &key, NULL)) {
        strmap_remove(&m, key);
        seen++;
    }
    ck_assert_int_eq(seen, 100);
    ck_assert_uint_eq(m.count, 0);
    ck_assert_ptr_null(strmap_get(&m, "5"));
    strmap_free(&m);
}
END_TEST

START_TEST(empty_map)
{
    StrMap m = STRMAP_INIT;
    ck_assert_ptr_null(strmap_get(&m, "x"));
    ck_assert_ptr_null(strmap_remove(&m, "x"));
    size_t pos = 0;
    ck_assert(!strmap_next(&m, &pos, NULL, NULL));
    strmap_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strmap");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, matches_a_reference_model);
    tcase_add_test(tc, remove_while_iterating);
    tcase_add_test(tc, empty_map);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
