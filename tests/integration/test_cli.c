/* The command-line contract: kicctl migrate (in order, once, refusing a
 * changed file), kicctl user create/revoke/list, kicd's flags, config
 * precedence (defaults < file < environment < flags), SIGHUP reload and
 * SIGTERM drain. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define TEST_SECRET "test-secret-not-for-production"

static char *kicd_run(const char *const *args, int *rc)
{
    const char *argv[16];
    int n = 0;
    argv[n++] = getenv("KICD_BIN");
    for (const char *const *a = args; *a && n < 15; a++)
        argv[n++] = *a;
    argv[n] = NULL;
    char *out = NULL;
    *rc = h_run(&out, argv, NULL);
    return out;
}

START_TEST(kicd_help_version_and_bad_flags)
{
    int rc;
    char *out = kicd_run((const char *[]){"--help", NULL}, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert(strstr(out, "--listen IP:PORT") && strstr(out, "max_connections"));
    /* each number with its range */
    ck_assert_msg(strstr(out, "(default: 16, 2..1000)"), "%s", out);
    free(out);
    out = kicd_run((const char *[]){"--version", NULL}, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert(strstr(out, "kicd " KIC_VERSION));
    free(out);
    out = kicd_run((const char *[]){"--no-such-flag", NULL}, &rc);
    ck_assert_int_eq(rc, 2);
    free(out);
    out = kicd_run((const char *[]){"--log-level", "loud", NULL}, &rc);
    ck_assert_int_eq(rc, 2);
    ck_assert(strstr(out, "log_level"));
    free(out);
    out = kicd_run((const char *[]){"--listen", "nowhere", "--pg", "dbname=x", NULL}, &rc);
    ck_assert_int_eq(rc, 2);
    ck_assert(strstr(out, "bad address"));
    free(out);
}
END_TEST

static const char *write_file(const char *dir, const char *name, const char *text)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

START_TEST(config_file_errors_are_reported)
{
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/kic-cli-XXXXXX", h_tmp_dir());
    ck_assert_ptr_nonnull(mkdtemp(dir));
    int rc;
    const char *path = write_file(dir, "bad.ini", "[limits]\nmax_connections = many\n");
    char *out = kicd_run((const char *[]){"--config", path, NULL}, &rc);
    ck_assert_int_eq(rc, 2);
    ck_assert(strstr(out, "max_connections"));
    free(out);
    path = write_file(dir, "unknown.ini", "[server]\nlisten_harder = yes\n");
    out = kicd_run((const char *[]){"--config", path, NULL}, &rc);
    ck_assert_int_eq(rc, 2);
    ck_assert(strstr(out, "unknown option"));
    free(out);
    path = write_file(dir, "tz.ini", "[server]\ntz = Mars/Olympus_Mons\n");
    out = kicd_run((const char *[]){"--config", path, NULL}, &rc);
    ck_assert_int_eq(rc, 2);
    ck_assert(strstr(out, "time zone"));
    free(out);
    out = kicd_run((const char *[]){"--config", "/nonexistent/kicd.ini", NULL}, &rc);
    ck_assert_int_eq(rc, 2);
    free(out);
    /* numbers out of their range, too small or too large: refused at
     * start-up (a retention of 0 days was refused only by the nightly
     * job's SQL, in a warning each night) */
    static const char *const out_of_range[][2] = {
        {"[storage]\nretention_days = 0\n", "retention_days must lie between 1 and 36500"},
        {"[limits]\nmax_depth = 100000\n", "max_depth must lie between 2 and 1000"},
        {"[limits]\nmax_connections = 0\n", "max_connections must lie between 1 and 1000000"},
        {"[metrics]\nsl_threshold_s = 100000\n", "sl_threshold_s must lie between 1 and 86400"},
        {"[limits]\nmax_line = 4294967296\n", "max_line must lie between 256 and 67108864"},
    };
    for (size_t i = 0; i < sizeof(out_of_range) / sizeof(out_of_range[0]); i++) {
        path = write_file(dir, "range.ini", out_of_range[i][0]);
        out = kicd_run((const char *[]){"--config", path, NULL}, &rc);
        ck_assert_int_eq(rc, 2);
        ck_assert_msg(strstr(out, out_of_range[i][1]), "%s", out);
        free(out);
    }
    /* the edges themselves pass: kicd goes on to check its address,
     * which is what refuses this file */
    path = write_file(dir, "edge.ini",
                      "[server]\nlisten = nowhere\n[limits]\nmax_depth = 1000\n"
                      "[storage]\nretention_days = 1\n[callers]\nsecret = sixteen-chars-ok\n");
    out = kicd_run((const char *[]){"--config", path, NULL}, &rc);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(!strstr(out, "must lie between") && strstr(out, "nowhere"), "%s", out);
    free(out);
    /* no callers' secret, or a short one: every caller key would be a hash
     * anyone can recompute from the number */
    static const char *const weak[] = {"", "[callers]\nsecret = change-me\n",
                                       "[callers]\nsecret = fifteen-chars-x\n"};
    unsetenv("KIC_CALLER_SECRET");
    for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
        path = write_file(dir, "secret.ini", weak[i]);
        out = kicd_run((const char *[]){"--config", path, NULL}, &rc);
        ck_assert_int_eq(rc, 2);
        ck_assert_msg(strstr(out, "callers' secret"), "%s", out);
        free(out);
    }
    setenv("KIC_CALLER_SECRET", TEST_SECRET, 1);
    /* values no start could use: refused before anything starts (NaN
     * passed the range check and crashed the first snapshot) */
    static const char *const unusable[][2] = {
        {"[metrics]\nsl_target = nan\n", "sl_target: expected a number"},
        {"[metrics]\nsl_target = inf\n", "sl_target: expected a number"},
        {"[callers]\ncountry_code = abc\n", "country_code"},
        {"[callers]\ncountry_code = 031\n", "country_code"},
        {"[server]\nlog_level = verbose\n", "log_level: unknown level 'verbose'"},
        {"[server]\npg = host=/tmp dbname\n", "pg: missing \"=\" after \"dbname\""},
    };
    for (size_t i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
        path = write_file(dir, "unusable.ini", unusable[i][0]);
        out = kicd_run((const char *[]){"--config", path, NULL}, &rc);
        ck_assert_int_eq(rc, 2);
        ck_assert_msg(strstr(out, unusable[i][1]), "%s", out);
        free(out);
    }
    /* a URI that does not parse is not quoted: libpq's message holds it,
     * password and all */
    path = write_file(dir, "uri.ini", "[server]\npg = postgresql://kic:S3cretPw@[::1/kic\n");
    out = kicd_run((const char *[]){"--config", path, NULL}, &rc);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(out, "does not parse") && !strstr(out, "S3cretPw"), "%s", out);
    free(out);
    /* a directory is no config file (it read as an empty one) */
    out = kicd_run((const char *[]){"--config", dir, NULL}, &rc);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(out, "is no regular file"), "%s", out);
    free(out);
}
END_TEST

/* The config file without the lines that mention `key`. */
static void drop_lines(const char *path, const char *key)
{
    char *text = h_read_text(path);
    FILE *f = fopen(path, "w");
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (!strstr(line, key))
            fprintf(f, "%s\n", line);
    fclose(f);
    free(text);
}

START_TEST(sighup_reads_the_settings_as_a_start_would)
{
    Kicd k;
    kicd_init(&k, "cli_reload", "[server]\nlog_level = warn\n");
    kicd_start(&k);
    /* what a start refuses, a reload refuses too (it said "reloaded") */
    static const char *const bad[][2] = {
        {"[server]\nlog_level = verbose\n", "log_level: unknown level"},
        {"[server]\ntz = Mars/Base\n", "tz: unknown time zone"},
        {"[server]\nlisten = 127.0.0.1:99999\n", "listen: bad address"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *was = h_read_text(k.conf_path);
        FILE *f = fopen(k.conf_path, "a");
        fputs(bad[i][0], f);
        fclose(f);
        int before = kicd_log_count(&k, "reload failed");
        kicd_signal(&k, SIGHUP);
        for (int t = 0; t < 400 && kicd_log_count(&k, "reload failed") == before; t++)
            usleep(50000);
        ck_assert_msg(kicd_log_contains(&k, bad[i][1]), "%s", bad[i][0]);
        f = fopen(k.conf_path, "w");
        fputs(was, f);
        fclose(f);
        free(was);
    }
    ck_assert(!kicd_log_contains(&k, "reloaded"));
    /* a line deleted from the file means its default again (info), as at
     * a restart; it stayed at the value the file had before */
    drop_lines(k.conf_path, "log_level");
    kicd_signal(&k, SIGHUP);
    for (int t = 0; t < 400 && !kicd_log_contains(&k, "reloaded: log level"); t++)
        usleep(50000);
    ck_assert(kicd_log_contains(&k, "reloaded: log level info"));
    ck_assert(kicd_stop(&k));
}
END_TEST

/* A second kicd started on the port of a running one stops before it
 * loads anything or runs retention with its own retention_days (it
 * deleted events older than its setting, then said it had not). */
START_TEST(a_second_kicd_on_a_busy_port_changes_nothing)
{
    Kicd k;
    kicd_init(&k, "cli_busy", NULL);
    kicd_start(&k);
    /* the first kicd runs retention once it listens, in the background:
     * wait for its setting so the comparison below is not a race */
    char *days = NULL;
    for (int t = 0; t < 200; t++, usleep(50000)) {
        free(days);
        days = h_sql_value(k.conninfo, "SELECT kicd_retention_days FROM purge_horizon");
        if (*days)
            break;
    }
    ck_assert_str_ne(days, "");
    char *conf = h_read_text(k.conf_path);
    size_t size = strlen(conf) + 512;
    char *second = malloc(size);
    snprintf(second, size,
             "%s\n[server]\nhttp =\n[storage]\nretention_days = 1\n"
             "journal_path = %s/second.journal\n",
             conf, k.dir);
    const char *path = write_file(k.dir, "second.ini", second);
    int rc;
    char *out = kicd_run((const char *[]){"--config", path, NULL}, &rc);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "cannot listen on") && !strstr(out, "retention"), "%s", out);
    char *after = h_sql_value(k.conninfo, "SELECT kicd_retention_days FROM purge_horizon");
    ck_assert_str_eq(after, days);
    ck_assert(kicd_stop(&k));
    free(out);
    free(after);
    free(days);
    free(second);
    free(conf);
}
END_TEST

/* A second kicd on the database of a running one never serves (both
 * serving, each would decide calls from its own memory and overwrite the
 * other's rows). With the same journal it stops at once; with another
 * journal its writer cannot take the database's lock, it names the
 * session that holds it and stops with 1. The first serves on. */
START_TEST(a_second_kicd_on_the_same_database_does_not_serve)
{
    Kicd k;
    kicd_init(&k, "cli_samedb", NULL);
    kicd_start(&k);
    char *bridge = h_user(&k, "t", "pbx", "bridge", NULL, NULL);
    char *conf = h_read_text(k.conf_path);
    size_t size = strlen(conf) + 512;
    char *second = malloc(size);
    /* the same journal: refused at once, before it reads a byte of it */
    snprintf(second, size, "%s\n[server]\nlisten = 127.0.0.1:%d\nhttp =\n", conf, h_free_port());
    const char *path = write_file(k.dir, "second.ini", second);
    int rc;
    char *out = kicd_run((const char *[]){"--config", path, NULL}, &rc);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "kicd.journal: in use by another kicd"), "%s", out);
    free(out);
    snprintf(second, size,
             "%s\n[server]\nlisten = 127.0.0.1:%d\nhttp =\n"
             "[storage]\njournal_path = %s/second.journal\n",
             conf, h_free_port(), k.dir);
    path = write_file(k.dir, "second.ini", second);
    out = kicd_run((const char *[]){"--config", path, NULL}, &rc);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "another kicd writes to this database (session ") &&
                      strstr(out, "stopping after") && !strstr(out, "serving JSON-RPC"),
                  "%s", out);
    Client *b = cl_session(k.port, bridge);
    cl_call_ok(b, "call.offered", "{\"event_id\":\"e1\",\"call_id\":\"c1\",\"at\":\"%s\",\"queue\":\"q\"}",
               h_at(h_today(0), 0));
    cl_close(b);
    ck_assert(kicd_stop(&k));
    free(out);
    free(second);
    free(conf);
    free(bridge);
}
END_TEST

START_TEST(migrate_applies_once_and_refuses_a_changed_file)
{
    Kicd k;
    kicd_init(&k, "cli_migrate", NULL);
    /* the template is migrated: a second run changes nothing */
    char *out = NULL;
    ck_assert_int_eq(h_kicctl(&k, &out, "migrate", NULL), 0);
    ck_assert_msg(strstr(out, "up to date"), "%s", out);
    free(out);
    long long applied = h_sql_int(k.conninfo, "SELECT count(*) FROM schema_migrations");
    ck_assert_int_ge(applied, 2);
    /* a copy of the migrations with one applied file changed is refused */
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/kic-migr-XXXXXX", h_tmp_dir());
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "cp %s/migrations/*.sql %s/ && echo '-- changed' >> %s/0001_tenants_users.sql",
             getenv("KIC_SOURCE_DIR"), dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(h_kicctl(&k, &out, "migrate", "--dir", dir, NULL), 1);
    ck_assert_msg(strstr(out, "0001_tenants_users.sql has changed"), "%s", out);
    free(out);
    /* a new file is applied, in order, and recorded with its checksum */
    snprintf(cmd, sizeof(cmd), "cp %s/migrations/*.sql %s/ && printf 'CREATE TABLE cli_probe (tenant_id bigint PRIMARY KEY);\\n' > %s/9999_probe.sql",
             getenv("KIC_SOURCE_DIR"), dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(h_kicctl(&k, &out, "migrate", "--dir", dir, NULL), 0);
    ck_assert_msg(strstr(out, "applied 9999_probe.sql"), "%s", out);
    ck_assert_msg(strstr(out, "vacuumed and analysed"), "%s", out);
    free(out);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM schema_migrations WHERE version = 9999 AND length(checksum) = 64"), 1);
    /* and the tables were vacuumed after it (a rewrite leaves them without
     * their visibility map otherwise) */
    ck_assert_int_ge(h_sql_int(k.conninfo, "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'cli_probe' AND last_vacuum IS NOT NULL"), 1);
    /* a failing migration is rolled back whole and not recorded */
    snprintf(cmd, sizeof(cmd), "printf 'CREATE TABLE cli_half (x int);\\nSELECT no_such_function();\\n' > %s/9998_broken.sql", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_ne(h_kicctl(&k, &out, "migrate", "--dir", dir, NULL), 0);
    free(out);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM pg_tables WHERE tablename = 'cli_half'"), 0);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM schema_migrations WHERE version = 9998"), 0);
}
END_TEST

START_TEST(user_create_list_and_revoke)
{
    Kicd k;
    kicd_init(&k, "cli_users", NULL);
    char *token = h_user(&k, "zorg-west", "a.jansen", "agent", NULL, "kic,wijk-noord");
    ck_assert_uint_eq(strlen(token), 52);
    ck_assert(strncmp(token, "kic_", 4) == 0);
    /* only the hash is stored */
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM users WHERE token_sha256::text LIKE '%%%s%%'", token + 4);
    ck_assert_int_eq(h_sql_int(k.conninfo, sql), 0);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM users WHERE agent = 'a.jansen' AND teams = '{kic,wijk-noord}'"), 1);
    char *out = NULL;
    ck_assert_int_eq(h_kicctl(&k, &out, "user", "list", "--tenant", "zorg-west", NULL), 0);
    ck_assert(strstr(out, "a.jansen") && strstr(out, "kic,wijk-noord"));
    free(out);
    /* one active user per name */
    ck_assert_int_eq(h_kicctl(&k, &out, "user", "create", "--tenant", "zorg-west", "--name", "a.jansen", "--role", "supervisor", NULL), 1);
    ck_assert_msg(strstr(out, "an active user of the tenant has that name already") && !strstr(out, "tenant_id"),
                  "%s", out);
    free(out);
    ck_assert_int_eq(h_kicctl(&k, &out, "user", "create", "--tenant", "zorg-west", "--name", "x", "--role", "boss", NULL), 2);
    free(out);
    ck_assert_int_eq(h_kicctl(&k, &out, "user", "create", "--tenant", "zorg-west", "--name", "y", "--role", "agent", "--teams", "a,,b", NULL), 2);
    free(out);
    /* a port no one can listen on is a bad option, not a refused connection */
    ck_assert_int_eq(h_kicctl(&k, &out, "--server", "127.0.0.1:99999", "live", "--once", NULL), 2);
    ck_assert_msg(strstr(out, "port 1-65535"), "%s", out);
    free(out);
    /* every command answers --help (DESIGN.md: --help on every binary) */
    static const char *const cmds[] = {"migrate", "user", "category", "queue-team", "purge",
                                       "import-queue-log", "live", "report"};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        ck_assert_msg(h_kicctl(&k, &out, cmds[i], "--help", NULL) == 0, "%s --help: %s", cmds[i], out);
        ck_assert_msg(strstr(out, cmds[i]), "%s --help: %s", cmds[i], out);
        free(out);
    }
    /* names as kicd's own requests take them: no control character (a
     * line break would forge kicd's log lines), not blank */
    ck_assert_int_eq(h_kicctl(&k, &out, "user", "create", "--tenant", "zorg-west", "--name", "evil\n2026 error forged", "--role", "supervisor", NULL), 2);
    ck_assert_msg(strstr(out, "--name must not contain control characters"), "%s", out);
    free(out);
    ck_assert_int_eq(h_kicctl(&k, &out, "user", "create", "--tenant", "zorg-west", "--name", "   ", "--role", "supervisor", NULL), 2);
    free(out);
    /* the audit log's name for kicctl's operators is no user's */
    ck_assert_int_eq(h_kicctl(&k, &out, "user", "create", "--tenant", "zorg-west", "--name", "kicctl:root", "--role", "admin", NULL), 2);
    ck_assert_msg(strstr(out, "--name must not begin with 'kicctl:'"), "%s", out);
    free(out);
    ck_assert_int_eq(h_kicctl(&k, &out, "user", "create", "--tenant", "zorg-west", "--name", "y", "--role", "agent", "--teams", "a,b\tc", NULL), 2);
    free(out);
    ck_assert_int_eq(h_kicctl(&k, &out, "category", "add", "--tenant", "zorg-west", "--name", "line\nbreak", NULL), 2);
    free(out);
    ck_assert_int_eq(h_kicctl(&k, &out, "queue-team", "set", "--tenant", "zorg-west", "--queue", "q\x1b[31m", "--team", "t", NULL), 2);
    free(out);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM users WHERE name ~ '[[:cntrl:]]' OR btrim(name) = ''"), 0);
    /* one active user per agent id; only agents have one */
    ck_assert_int_eq(h_kicctl(&k, &out, "user", "create", "--tenant", "zorg-west", "--name", "a.j2", "--role", "agent", "--agent", "a.jansen", NULL), 1);
    ck_assert_msg(strstr(out, "an active user of the tenant has that agent id already"), "%s", out);
    free(out);
    ck_assert_int_eq(h_kicctl(&k, &out, "user", "create", "--tenant", "zorg-west", "--name", "z", "--role", "supervisor", "--agent", "z", NULL), 2);
    free(out);
    ck_assert_int_eq(h_kicctl(&k, &out, "user", "revoke", "--tenant", "zorg-west", "--name", "a.jansen", NULL), 0);
    free(out);
    ck_assert_int_eq(h_kicctl(&k, &out, "user", "revoke", "--tenant", "zorg-west", "--name", "a.jansen", NULL), 1);
    free(out);
    /* the name is free again after a revoke */
    free(h_user(&k, "zorg-west", "a.jansen", "agent", NULL, NULL));
    /* every change is in the audit log, by the operator's login; a
     * refused one is not */
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM audit_log WHERE subject = 'a.jansen'"
                                           " AND action = 'user.create' AND role = 'admin'"
                                           " AND user_name LIKE 'kicctl:_%'"), 2);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM audit_log WHERE subject = 'a.jansen'"
                                           " AND action = 'user.revoke' AND user_name LIKE 'kicctl:_%'"), 1);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM audit_log WHERE subject = 'a.j2'"), 0);
    free(token);
}
END_TEST

START_TEST(flags_override_the_file_and_sighup_reloads)
{
    Kicd k;
    /* the file asks for warn; the harness config asks debug first, then
     * this later line wins (inih: last value) */
    kicd_init(&k, "cli_flags", "[server]\nlog_level = warn\n");
    kicd_start(&k);
    char *token = h_user(&k, "t", "pbx", "bridge", NULL, NULL);
    Client *c = cl_session(k.port, token);
    json_t *r = cl_call(c, "server.ping", NULL);
    json_decref(r);
    ck_assert(!kicd_log_contains(&k, "logged in as bridge")); /* info is off at warn */
    /* SIGHUP re-reads the file: now info */
    FILE *f = fopen(k.conf_path, "a");
    fputs("[server]\nlog_level = info\n[limits]\nmax_connections = 500\n", f);
    fclose(f);
    kicd_signal(&k, SIGHUP);
    ck_assert(kicd_log_shows(&k, "reloaded: log level info"));
    /* the log names who sent the signal: this test */
    char sender[64];
    snprintf(sender, sizeof(sender), "; SIGHUP from pid %d (test_cli))", (int)getpid());
    ck_assert(kicd_log_contains(&k, sender));
    /* what a reload cannot change is named, not silently ignored */
    ck_assert(kicd_log_shows(&k, "in effect only after a restart: max_connections"));
    cl_close(c);
    c = cl_session(k.port, token);
    ck_assert(kicd_log_contains(&k, "logged in as bridge"));
    cl_close(c);
    /* a reload is all or none: a file with a value out of its range
     * changes nothing, not even the level before it */
    f = fopen(k.conf_path, "a");
    fputs("[server]\nlog_level = error\n[limits]\nidle_timeout_s = 99999999\n", f);
    fclose(f);
    kicd_signal(&k, SIGHUP);
    ck_assert(kicd_log_shows(&k, "reload failed, keeping the old settings: idle_timeout_s"));
    c = cl_session(k.port, token);
    r = cl_call(c, "server.ping", NULL);
    json_decref(r);
    cl_close(c);
    /* still info: a second login is logged */
    ck_assert_int_ge(kicd_log_count(&k, "logged in as bridge"), 2);
    /* also when the bad value is one that waits for a restart: kicd
     * could not restart with it */
    f = fopen(k.conf_path, "a");
    fputs("[limits]\nidle_timeout_s = 300\nmax_depth = 100000\n[server]\nlog_level = error\n", f);
    fclose(f);
    kicd_signal(&k, SIGHUP);
    for (int i = 0; i < 400 && !kicd_log_contains(&k, "keeping the old settings: max_depth"); i++)
        usleep(50000);
    ck_assert(kicd_log_contains(&k, "reload failed, keeping the old settings: max_depth"));
    c = cl_session(k.port, token);
    cl_close(c);
    ck_assert_int_ge(kicd_log_count(&k, "logged in as bridge"), 3); /* still info */
    f = fopen(k.conf_path, "a");
    fputs("[limits]\nmax_depth = 16\n[server]\nlog_level = warn\n", f);
    fclose(f);
    /* SIGTERM with a client connected: it is told nothing new, then closed,
     * and kicd exits 0 (kicd_stop checks). Then again with --log-level:
     * the flag wins over the file at a reload too. */
    c = cl_session(k.port, token);
    ck_assert(kicd_stop(&k));
    ck_assert(cl_wait_closed(c, 5000));
    cl_close(c);
    k.log_level_flag = "info"; /* the file says warn */
    kicd_start(&k);
    int reloads = kicd_log_count(&k, "reloaded: log level"),
        info = kicd_log_count(&k, "reloaded: log level info");
    kicd_signal(&k, SIGHUP);
    for (int i = 0; i < 400 && kicd_log_count(&k, "reloaded: log level") == reloads; i++)
        usleep(50000);
    ck_assert_int_eq(kicd_log_count(&k, "reloaded: log level info"), info + 1);
    ck_assert(kicd_stop(&k));
    free(token);
}
END_TEST

/* The "Max core file size" soft and hard limits of a process, from
 * /proc; -2 when unreadable, -1 for unlimited. */
static long long core_limit(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
    FILE *f = fopen(path, "r");
    long long limit = -2;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "Max core file size", 18) == 0) {
            char soft[32], hard[32];
            if (sscanf(line + 18, "%31s %31s", soft, hard) == 2)
                limit = strcmp(soft, "unlimited") == 0 || strcmp(hard, "unlimited") == 0
                            ? -1
                            : atoll(soft) + atoll(hard);
        }
    if (f)
        fclose(f);
    return limit;
}

/* Memory holds callers' numbers and notes: no core dump writes them out,
 * unless [server] core_dumps says so. */
START_TEST(kicd_dumps_no_core_unless_asked)
{
    Kicd k;
    kicd_init(&k, "cli_core", NULL);
    kicd_start(&k);
    ck_assert_int_eq(core_limit(k.pid), 0);
    ck_assert(kicd_stop(&k));
    kicd_init(&k, "cli_core", "[server]\ncore_dumps = true\n");
    kicd_start(&k);
    ck_assert_int_eq(core_limit(k.pid), core_limit(getpid())); /* as it was given */
    ck_assert(kicd_stop(&k));
}
END_TEST

START_TEST(kicd_refuses_a_public_address_without_tls)
{
    int rc;
    char *out = kicd_run((const char *[]){"--listen", "0.0.0.0:7411", "--pg", "dbname=none", NULL}, &rc);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(out, "TLS"), "%s", out);
    free(out);
}
END_TEST

int main(void)
{
    /* kicd refuses to start without one; the tests that check later
     * refusals need it set */
    setenv("KIC_CALLER_SECRET", TEST_SECRET, 1);
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120); /* a second kicd on one database tries for 30 s */
    tcase_add_test(tc, kicd_help_version_and_bad_flags);
    tcase_add_test(tc, config_file_errors_are_reported);
    tcase_add_test(tc, migrate_applies_once_and_refuses_a_changed_file);
    tcase_add_test(tc, user_create_list_and_revoke);
    tcase_add_test(tc, flags_override_the_file_and_sighup_reloads);
    tcase_add_test(tc, sighup_reads_the_settings_as_a_start_would);
    tcase_add_test(tc, a_second_kicd_on_a_busy_port_changes_nothing);
    tcase_add_test(tc, a_second_kicd_on_the_same_database_does_not_serve);
    tcase_add_test(tc, kicd_refuses_a_public_address_without_tls);
    tcase_add_test(tc, kicd_dumps_no_core_unless_asked);
    suite_add_tcase(s, tc);
    return h_run_suite(s, NULL);
}
