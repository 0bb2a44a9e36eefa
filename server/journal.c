/* The journal file: append with fsync, read, empty, keep a copy (journal.h). */
#include "journal.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct Journal {
    int fd;
    char *path;
    long long max_bytes;
    size_t bytes, records, damaged;
    size_t cut_at_open; /* bytes of an unfinished append dropped by journal_open */
    bool torn; /* a failed append could not be cut back: appends fail */
};

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* A new file's name is durable once its directory is synced: without,
 * a crash could lose the file with the records fsynced into it. */
static bool sync_dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        abort();
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    bool ok = dfd >= 0 && fsync(dfd) == 0;
    if (dfd >= 0)
        close(dfd);
    return ok;
}

Journal *journal_open(const char *path, long long max_bytes, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "journal %s: %s", path, strerror(errno));
        return NULL;
    }
    /* Two kicds on one journal would cut each other's appends as torn
     * and replay each other's records: the second does not start. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "journal %s: %s", path,
                 errno == EWOULDBLOCK ? "in use by another kicd (one journal a kicd)" : strerror(errno));
        close(fd);
        return NULL;
    }
    if (!sync_dir_of(path)) {
        snprintf(err, errlen, "journal %s: cannot sync its directory: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (fchmod(fd, 0600) != 0) { /* also an older file: callers' data */
        snprintf(err, errlen, "journal %s: chmod: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    Journal *j = calloc(1, sizeof(*j));
    if (!j || !(j->path = strdup(path)))
        abort();
    j->fd = fd;
    j->max_bytes = max_bytes;
    uint8_t *buf;
    size_t len;
    if (!journal_read(j, &buf, &len, err, errlen)) {
        journal_close(j);
        return NULL;
    }
    JournalScan sc;
    journal_scan(buf, len, NULL, NULL, &sc);
    free(buf);
    journal_note_scan(j, &sc);
    j->bytes = len;
    j->records = sc.records;
    /* A record cut off when kicd stopped was never acknowledged: drop it,
     * so new records follow the last whole one. */
    if (sc.torn_bytes && sc.good_end + sc.torn_bytes == len) {
        if (ftruncate(fd, (off_t)sc.good_end) != 0 || fsync(fd) != 0) {
            snprintf(err, errlen, "journal %s: truncate: %s", path, strerror(errno));
            journal_close(j);
            return NULL;
        }
        j->bytes = sc.good_end;
        j->cut_at_open = sc.torn_bytes;
        j->damaged = sc.damaged; /* gone, and it was never damage */
    }
    return j;
}

void journal_close(Journal *j)
{
    if (!j)
        return;
    close(j->fd);
    free(j->path);
    free(j);
}

bool journal_append(Journal *j, const JournalBatch *b, char *err, size_t errlen)
{
    if (j->torn) {
        snprintf(err, errlen, "journal %s: a failed write could not be cut back; restart kicd",
                 j->path);
        return false;
    }
    StrBuf rec = STRBUF_INIT;
    if (!journal_encode(&rec, b)) {
        strbuf_free(&rec);
        snprintf(err, errlen, "journal: a batch too large for a record");
        return false;
    }
    bool ok = write_all(j->fd, rec.data, rec.len);
    if (!ok)
        snprintf(err, errlen, "journal %s: write: %s", j->path, strerror(errno));
    /* data only: the file's size is in the data that fdatasync flushes */
    else if (fdatasync(j->fd) != 0) {
        ok = false;
        snprintf(err, errlen, "journal %s: fdatasync: %s", j->path, strerror(errno));
    }
    if (ok) {
        j->bytes += rec.len;
        j->records++;
    } else if (ftruncate(j->fd, (off_t)j->bytes) != 0) {
        /* The next record would follow a torn one, which replay stops at. */
        j->torn = true;
    }
    strbuf_free(&rec);
    return ok;
}

bool journal_has_room(const Journal *j)
{
    return (long long)j->bytes < j->max_bytes;
}

size_t journal_records(const Journal *j)
{
    return j ? j->records : 0;
}

size_t journal_bytes(const Journal *j)
{
    return j ? j->bytes : 0;
}

size_t journal_cut_at_open(const Journal *j)
{
    return j ? j->cut_at_open : 0;
}

size_t journal_damaged(const Journal *j)
{
    return j ? j->damaged : 0;
}

bool journal_read(Journal *j, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(j->fd, &st) != 0) {
        snprintf(err, errlen, "journal %s: stat: %s", j->path, strerror(errno));
        return false;
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        abort();
    while (got < n) {
        ssize_t r = pread(j->fd, b + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(err, errlen, "journal %s: read: %s", j->path, r ? strerror(errno) : "short");
            free(b);
            return false;
        }
        got += (size_t)r;
    }
    *buf = b;
    *len = n;
    return true;
}

void journal_note_scan(Journal *j, const JournalScan *sc)
{
    j->damaged = sc->damaged + (sc->torn_bytes ? 1 : 0);
}

/* Opens "<path>.kept-<UTC time>[-n]", a name no file has yet. */
static int open_kept(const Journal *j, char *out, size_t outlen)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
    for (int n = 0; n < 100; n++) {
        if (n == 0)
            snprintf(out, outlen, "%s.kept-%s", j->path, stamp);
        else
            snprintf(out, outlen, "%s.kept-%s-%d", j->path, stamp, n);
        int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

bool journal_keep_copy(const Journal *j, const uint8_t *buf, size_t len, char *out, size_t outlen,
                       char *err, size_t errlen)
{
    int fd = open_kept(j, out, outlen);
    if (fd < 0) {
        snprintf(err, errlen, "journal %s: cannot create %s: %s", j->path, out, strerror(errno));
        return false;
    }
    bool ok = write_all(fd, (const char *)buf, len) && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (ok && !sync_dir_of(out)) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        snprintf(err, errlen, "journal %s: writing %s: %s", j->path, out, strerror(saved));
        /* half a copy would pass for the operator's copy: the journal
         * itself stays whole, and the next replay writes another */
        unlink(out);
    }
    return ok;
}

bool journal_clear(Journal *j, char *err, size_t errlen)
{
    if (ftruncate(j->fd, 0) != 0 || fsync(j->fd) != 0) {
        snprintf(err, errlen, "journal %s: truncate: %s", j->path, strerror(errno));
        return false;
    }
    j->bytes = 0;
    j->records = 0;
    return true;
}

bool journal_sweep_kept(const Journal *j, time_t expire, JournalKeptFn fn, void *arg)
{
    char *dcopy = strdup(j->path), *bcopy = strdup(j->path);
    if (!dcopy || !bcopy)
        abort();
    const char *dir = dirname(dcopy);
    char prefix[NAME_MAX + 8];
    snprintf(prefix, sizeof(prefix), "%s.kept-", basename(bcopy));
    DIR *d = opendir(dir);
    if (!d) {
        int saved = errno;
        free(dcopy);
        free(bcopy);
        errno = saved;
        return false;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char path[PATH_MAX];
        struct stat st;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
            lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        bool expired = st.st_mtime < expire;
        int err = expired && unlink(path) != 0 ? errno : 0;
        fn(arg, path, st.st_mtime, expired && err == 0, err);
    }
    closedir(d);
    free(dcopy);
    free(bcopy);
    return true;
}
