/* kicctl migrate: applies migrations/NNNN_name.sql in order, each in its
 * own transaction, recording version and SHA-256 in schema_migrations.
 * Refuses to run when an applied file has changed; a second run does
 * nothing. An advisory lock keeps two migrators from racing. */
#include <dirent.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kicctl.h"
#include "strbuf.h"

#define MIGRATE_LOCK "4711"

typedef struct Migration {
    int version;
    char name[256];
    char *sql;
    char checksum[65];
} Migration;

static int by_version(const void *a, const void *b)
{
    return ((const Migration *)a)->version - ((const Migration *)b)->version;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    StrBuf b = STRBUF_INIT;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        strbuf_append(&b, chunk, n);
    bool err = ferror(f);
    fclose(f);
    if (err) {
        strbuf_free(&b);
        return NULL;
    }
    return strbuf_steal(&b);
}

static void sha256_hex(const char *data, char out[65])
{
    unsigned char md[32];
    unsigned int len;
    EVP_Digest(data, strlen(data), md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Reads NNNN_name.sql files; false on an unreadable file or a version
 * used twice. */
static bool load_dir(const char *dir, Migration **out, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "kicctl: cannot open migrations directory %s\n", dir);
        return false;
    }
    Migration *list = NULL;
    size_t n = 0;
    struct dirent *e;
    bool ok = true;
    while (ok && (e = readdir(d))) {
        int version;
        char tail;
        size_t len = strlen(e->d_name);
        if (len < 10 || strcmp(e->d_name + len - 4, ".sql") != 0 ||
            sscanf(e->d_name, "%4d_%c", &version, &tail) != 2)
            continue;
        list = realloc(list, (n + 1) * sizeof(*list));
        Migration *m = &list[n++];
        m->version = version;
        snprintf(m->name, sizeof(m->name), "%s", e->d_name);
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        m->sql = read_file(path);
        if (!m->sql) {
            fprintf(stderr, "kicctl: cannot read %s\n", path);
            ok = false;
            break;
        }
        sha256_hex(m->sql, m->checksum);
    }
    closedir(d);
    if (ok) {
        qsort(list, n, sizeof(*list), by_version);
        for (size_t i = 1; i < n; i++) {
            if (list[i].version == list[i - 1].version) {
                fprintf(stderr, "kicctl: two migrations numbered %04d\n", list[i].version);
                ok = false;
            }
        }
    }
    *out = list;
    *count = n;
    return ok;
}

static const char *default_dir(void)
{
    const char *env = getenv("KIC_MIGRATIONS");
    struct stat st;
    if (env && *env)
        return env;
    if (stat(KIC_MIGRATIONS_DIR, &st) == 0)
        return KIC_MIGRATIONS_DIR;
    return KIC_MIGRATIONS_INSTALLED;
}

static bool exec_ok(PGconn *db, const char *sql)
{
    PGresult *r = ctl_exec(db, sql, 0, NULL);
    PQclear(r);
    return r != NULL;
}

/* Applies one migration in a transaction; false (rolled back) on error. */
static bool apply(PGconn *db, const Migration *m)
{
    if (!exec_ok(db, "BEGIN"))
        return false;
    PGresult *r = PQexec(db, m->sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "kicctl: %s failed: %s", m->name, PQresultErrorMessage(r));
        PQclear(r);
        exec_ok(db, "ROLLBACK");
        return false;
    }
    PQclear(r);
    char version[16];
    snprintf(version, sizeof(version), "%d", m->version);
    const char *params[] = {version, m->name, m->checksum};
    r = ctl_exec(db,
                 "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                 3, params);
    if (!r) {
        exec_ok(db, "ROLLBACK");
        return false;
    }
    PQclear(r);
    return exec_ok(db, "COMMIT");
}

/* Compares with what is recorded: false when an applied file changed or a
 * recorded migration has no file. *applied[i] tells which are done. */
static bool check_applied(PGconn *db, const Migration *list, size_t n, bool *applied)
{
    PGresult *r = ctl_exec(db, "SELECT version, name, checksum FROM schema_migrations", 0, NULL);
    if (!r)
        return false;
    bool ok = true;
    for (int row = 0; row < PQntuples(r); row++) {
        int version = atoi(PQgetvalue(r, row, 0));
        const Migration *m = NULL;
        size_t i;
        for (i = 0; i < n && !m; i++)
            if (list[i].version == version)
                m = &list[i];
        if (!m) {
            fprintf(stderr, "kicctl: migration %s was applied but its file is missing\n",
                    PQgetvalue(r, row, 1));
            ok = false;
        } else if (strcmp(m->checksum, PQgetvalue(r, row, 2)) != 0) {
            fprintf(stderr,
                    "kicctl: %s has changed since it was applied (checksum differs); "
                    "add a new migration instead\n",
                    m->name);
            ok = false;
        } else {
            applied[i - 1] = true;
        }
    }
    PQclear(r);
    return ok;
}

int cmd_migrate(const CtlOptions *o, int argc, char **argv)
{
    static const struct option longopts[] = {{"dir", required_argument, NULL, 'd'},
                                              {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "d:", longopts, NULL)) != -1) {
        if (ch != 'd') {
            fprintf(stderr, "usage: kicctl migrate [--dir DIR]\n");
            return 2;
        }
        dir = optarg;
    }
    if (!dir)
        dir = default_dir();
    Migration *list = NULL;
    size_t n = 0;
    int rc = 1;
    bool *applied = NULL;
    PGconn *db = NULL;
    if (!load_dir(dir, &list, &n))
        goto done;
    db = ctl_connect(o);
    if (!db)
        goto done;
    applied = calloc(n + 1, sizeof(bool));
    if (!exec_ok(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")") ||
        !exec_ok(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version integer PRIMARY KEY, name text NOT NULL,"
                     " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())") ||
        !check_applied(db, list, n, applied))
        goto done;
    int done_now = 0;
    for (size_t i = 0; i < n; i++) {
        if (applied[i])
            continue;
        if (!apply(db, &list[i]))
            goto done;
        printf("applied %s\n", list[i].name);
        done_now++;
    }
    if (!done_now)
        printf("schema is up to date (%zu migrations)\n", n);
    /* A migration may rewrite tables (0008 does): their rows then carry
     * no hint bits or visibility map, and the first readers (kicd's
     * start-up load: twice as slow on a year's data) pay for it. VACUUM
     * skips pages it finds all visible, so after small changes it is
     * quick. It cannot run inside the migrations' transactions. */
    if (done_now && !exec_ok(db, "VACUUM (ANALYZE)"))
        goto done;
    if (done_now)
        printf("vacuumed and analysed\n");
    rc = 0;
done:
    if (db)
        PQfinish(db); /* also releases the advisory lock */
    for (size_t i = 0; i < n; i++)
        free(list[i].sql);
    free(list);
    free(applied);
    return rc;
}
