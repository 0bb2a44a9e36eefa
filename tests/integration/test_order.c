/* Order independence end to end: four simulated days of a KIC's bridge
 * events (kic-sim --stdout), sent in order for one tenant, and for
 * another shuffled, every tenth event twice, over two connections at
 * once. PostgreSQL must end up with the same calls, 15-minute sums and
 * callbacks for both (DESIGN.md: a call is derived from all its events
 * ordered by `at`; a re-send never counts twice). Agent state intervals
 * are not compared: kicd stores the changes of an agent's state as it
 * sees them happen, so a part whose events all arrive after a later part
 * of the same agent leaves no interval (see bench/RESULTS.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static Kicd kicd;

typedef struct Lines {
    char **v;
    size_t n, cap;
} Lines;

static void lines_add(Lines *l, char *line)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->v = realloc(l->v, l->cap * sizeof(char *));
        ck_assert_ptr_nonnull(l->v);
    }
    l->v[l->n++] = line;
}

/* The bridge's requests of kic-sim's stream, as JSON-RPC lines (ids
 * are set when sent). */
static Lines bridge_requests(void)
{
    const char *argv[] = {h_build_path("tools/kic-sim/kic-sim"), "--days", "4", "--seed", "7",
                          "--calls-per-year", "400000", "--untimed", "send",
                          "--stdout", NULL};
    char *out = NULL;
    ck_assert_int_eq(h_run(&out, argv, NULL), 0);
    Lines l = {0};
    for (char *save = NULL, *line = strtok_r(out, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *v = line[0] == '{' ? json_loads(line, 0, NULL) : NULL; /* else its log */
        if (!v)
            continue;
        if (strcmp(json_string_value(json_object_get(v, "conn")), "bridge") == 0) {
            json_t *req = json_pack("{s:s, s:O}", "method",
                                    json_string_value(json_object_get(v, "method")), "params",
                                    json_object_get(v, "params"));
            lines_add(&l, json_dumps(req, JSON_COMPACT));
            json_decref(req);
        }
        json_decref(v);
    }
    free(out);
    return l;
}

/* Sends the requests over the clients (request i over client i % n),
 * keeping up to `window` unanswered on each, and checks every answer. */
static void send_all(Client **c, int nclients, char **reqs, size_t n, int window)
{
    int outstanding[4] = {0};
    size_t next = 0, answered = 0;
    int id = 0;
    while (answered < n) {
        for (; next < n && outstanding[next % (size_t)nclients] < window; next++) {
            char line[4096];
            /* {"method":..} -> {"jsonrpc":"2.0","id":N,"method":..} */
            snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":%d,%s", ++id, reqs[next] + 1);
            cl_send(c[next % (size_t)nclients], line);
            outstanding[next % (size_t)nclients]++;
        }
        for (int k = 0; k < nclients; k++) {
            if (!outstanding[k])
                continue;
            json_t *r = cl_recv_response(c[k], 10000);
            ck_assert_msg(r && rpc_result(r), "an event was not accepted");
            json_decref(r);
            outstanding[k]--;
            answered++;
        }
    }
}

static long long tenant_id(const char *name)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT tenant_id FROM tenants WHERE name = '%s'", name);
    return h_sql_int(kicd.conninfo, sql);
}

/* Rows of `table` (all columns but the tenant's, the write time and the
 * caller's key: keyed per tenant) that one tenant has and the other has
 * not, both ways. */
static long long differences(const char *table, const char *except, long long a, long long b)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "WITH x AS (SELECT tenant_id, to_jsonb(t) - 'tenant_id' - 'updated_at' - 'caller_key' %s AS r"
             "           FROM %s t WHERE tenant_id IN (%lld, %lld))"
             " SELECT count(*) FROM ((SELECT r FROM x WHERE tenant_id = %lld"
             "                        EXCEPT ALL SELECT r FROM x WHERE tenant_id = %lld)"
             "                       UNION ALL (SELECT r FROM x WHERE tenant_id = %lld"
             "                        EXCEPT ALL SELECT r FROM x WHERE tenant_id = %lld)) d",
             except, table, a, b, a, b, b, a);
    return h_sql_int(kicd.conninfo, sql);
}

static long long rows_of(const char *table, long long tenant)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE tenant_id = %lld", table, tenant);
    return h_sql_int(kicd.conninfo, sql);
}

START_TEST(four_days_in_any_order_store_the_same)
{
    Lines reqs = bridge_requests();
    ck_assert_uint_gt(reqs.n, 3000);
    const char *in_order = strdup(h_tenant("ordered")), *shuffled = strdup(h_tenant("shuffled"));
    char *b1 = h_user(&kicd, in_order, "pbx", "bridge", NULL, NULL);
    char *b2 = h_user(&kicd, shuffled, "pbx", "bridge", NULL, NULL);

    Client *one = cl_session(kicd.port, b1);
    send_all(&one, 1, reqs.v, reqs.n, 500);
    cl_close(one);

    /* shuffled (a fixed seed), every tenth event sent twice */
    char **mixed = calloc(reqs.n + reqs.n / 10 + 1, sizeof(char *));
    size_t n = 0;
    for (size_t i = 0; i < reqs.n; i++) {
        mixed[n++] = reqs.v[i];
        if (i % 10 == 0)
            mixed[n++] = reqs.v[i];
    }
    srand(7);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        char *t = mixed[i];
        mixed[i] = mixed[j];
        mixed[j] = t;
    }
    Client *two[2] = {cl_session(kicd.port, b2), cl_session(kicd.port, b2)};
    send_all(two, 2, mixed, n, 300);
    cl_close(two[0]);
    cl_close(two[1]);

    long long a = tenant_id(in_order), b = tenant_id(shuffled);
    ck_assert_int_gt(rows_of("calls", a), 500);
    ck_assert_int_eq(rows_of("events", a), (long long)reqs.n);
    ck_assert_int_eq(rows_of("events", b), (long long)reqs.n);
    ck_assert_int_eq(differences("calls", "", a, b), 0);
    ck_assert_int_gt(rows_of("call_sums_15m", a), 100);
    ck_assert_int_eq(differences("call_sums_15m", "", a, b), 0);
    ck_assert_int_gt(rows_of("callbacks", a), 5);
    ck_assert_int_eq(differences("callbacks", "", a, b), 0);
    for (size_t i = 0; i < reqs.n; i++)
        free(reqs.v[i]);
    free(reqs.v);
    free(mixed);
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "order", NULL);
    kicd_start(&kicd);
    Suite *s = suite_create("order");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, four_days_in_any_order_store_the_same);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
