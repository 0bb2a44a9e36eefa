/* kic-ami-replay: a stand-in Asterisk manager for tests. It listens on a
 * TCP port and, to each client in turn, replays a recorded AMI stream
 * byte for byte: the banner; after the client's Login action, the recorded
 * login reply (with the Login's ActionID, as manager.c echoes it) and
 * every event. It answers Ping and CoreShowChannels actions (between
 * recorded messages, in Asterisk's own format; the channel list is what the
 * recording has alive at that point), refuses a wrong secret as Asterisk
 * does, and can drop the connection at given byte offsets. Like Asterisk,
 * it keeps nothing for a manager that is away: the message that was cut
 * and the next --lose messages are lost, and the next client starts after
 * them (with FullyBooted, which Asterisk sends on every login); the
 * channels of the lost messages live on all the same.
 * A test tool: blocking sockets and poll, one client at a time. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "kic.h"
#include "strbuf.h"

#define MAX_DROPS 32

typedef struct Replay {
    char *data;
    size_t len;
    size_t banner_end; /* just after the banner's CRLF */
    size_t login_end;  /* just after the recorded login reply */
    size_t *ends;      /* end offset of each message after the banner */
    size_t nends;
    size_t drops[MAX_DROPS];
    size_t ndrops, next_drop;
    size_t lose; /* messages lost after a drop, besides the one cut */
    size_t chunk;
    int interval_ms;
    bool exit_at_end, close_at_end;
    const char *secret; /* NULL: any */
    FILE *sent;         /* --sent: every message a client received whole */
    size_t booted_end;  /* end of a FullyBooted right after the login reply, or 0 */
    size_t resume;      /* where the next connection's events start */
    bool first_client_done;
} Replay;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kic-ami-replay --file RECORDING [--port N] [--drop-at OFFSET]...\n"
            "                      [--lose N] [--secret S] [--sent FILE] [--chunk N]\n"
            "                      [--interval-ms N] [--close-at-end] [--exit-at-end]\n"
            "Replays a recorded AMI stream (e.g. shared/ami/A-ami.raw) to each client.\n\n"
            "  --file F          the recording: banner, login reply, events, CRLF as sent\n"
            "  --port N          port on 127.0.0.1 (0, the default: any free one); the\n"
            "                    first stdout line is 'listening on 127.0.0.1:PORT'\n"
            "  --drop-at OFFSET  close the connection after byte OFFSET of the file\n"
            "                    (repeatable); the message cut is lost, as in Asterisk\n"
            "  --lose N          messages lost after a drop besides the cut one: what\n"
            "                    Asterisk sent while no manager was logged in (default 10)\n"
            "  --secret S        refuse a Login with another Secret (default: any)\n"
            "  --sent FILE       write every message clients received whole, as one\n"
            "                    stream (banner and login reply once, action replies\n"
            "                    where they were sent): what to --map-file\n"
            "  --chunk N         write at most N bytes at a time (default 4096)\n"
            "  --interval-ms N   pause between writes (default 0)\n"
            "  --close-at-end    close once everything is sent (default: stay open)\n"
            "  --exit-at-end     exit once a client has had everything and left\n");
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) != 0)
        n = -1;
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* Finds the banner, the login reply and every message end. */
static bool index_recording(Replay *r)
{
    char *crlf = strstr(r->data, "\r\n");
    if (!crlf)
        return false;
    r->banner_end = (size_t)(crlf - r->data) + 2;
    size_t cap = 1024;
    r->ends = malloc(cap * sizeof(size_t));
    if (!r->ends)
        return false;
    const char *p = r->data + r->banner_end;
    const char *end = r->data + r->len;
    while (p < end) {
        const char *sep = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        size_t stop = sep ? (size_t)(sep - r->data) + 4 : r->len;
        if (r->nends == cap) {
            cap *= 2;
            size_t *ne = realloc(r->ends, cap * sizeof(size_t));
            if (!ne)
                return false;
            r->ends = ne;
        }
        r->ends[r->nends++] = stop;
        p = r->data + stop;
    }
    if (r->nends == 0)
        return false;
    r->login_end = r->ends[0];
    r->resume = r->login_end;
    static const char booted[] = "Event: FullyBooted\r\n";
    if (r->nends > 1 && strncmp(r->data + r->login_end, booted, sizeof(booted) - 1) == 0)
        r->booted_end = r->ends[1];
    return true;
}

/* The index j of the message that holds byte pos (ends[j - 1] <= pos <
 * ends[j]); nends when pos is at the end. */
static size_t message_index(const Replay *r, size_t pos)
{
    size_t lo = 0, hi = r->nends;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->ends[mid] <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The end of the message that contains byte `pos`. */
static size_t message_end(const Replay *r, size_t pos)
{
    size_t j = message_index(r, pos);
    return j < r->nends ? r->ends[j] : r->len;
}

/* After a drop at byte pos: the message cut (if any) and the next
 * r->lose are lost; the next client starts after them. */
static size_t resume_after_drop(const Replay *r, size_t pos)
{
    size_t j = message_index(r, pos);
    if (j == 0)
        return r->login_end;
    if (j >= r->nends)
        return r->len;
    bool cut = pos > r->ends[j - 1];
    size_t last_lost = j + r->lose + (cut ? 1 : 0) - 1;
    if (last_lost < j) /* nothing lost: the drop fell between messages, --lose 0 */
        return r->ends[j - 1];
    return last_lost < r->nends ? r->ends[last_lost] : r->len;
}

static void record_sent(Replay *r, size_t from, size_t to)
{
    if (r->sent && to > from) {
        fwrite(r->data + from, 1, to - from, r->sent);
        fflush(r->sent);
    }
}

static void record_text(Replay *r, const char *text, size_t len)
{
    if (r->sent && len > 0) {
        fwrite(text, 1, len, r->sent);
        fflush(r->sent);
    }
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* What the client has sent: actions are "Key: Value" lines ending with a
 * blank line. */
typedef struct Inbox {
    char buf[8192];
    size_t len;
    bool closed;
    bool login, logoff;
    char login_id[64], secret[128]; /* the Login's ActionID and Secret */
    struct {
        bool list;   /* CoreShowChannels; else Ping */
        char id[64]; /* its ActionID */
    } actions[16];   /* to answer, in order */
    size_t nactions;
} Inbox;

static void take_actions(Inbox *in)
{
    for (;;) {
        char *end = memmem(in->buf, in->len, "\r\n\r\n", 4);
        size_t skip = 4;
        char *lf = memmem(in->buf, in->len, "\n\n", 2);
        if (lf && (!end || lf < end)) {
            end = lf;
            skip = 2;
        }
        if (!end)
            break;
        *end = '\0';
        char action[64] = "", id[64] = "", secret[128] = "";
        for (char *line = strtok(in->buf, "\r\n"); line; line = strtok(NULL, "\r\n")) {
            if (strncasecmp(line, "Action:", 7) == 0)
                sscanf(line + 7, " %63s", action);
            else if (strncasecmp(line, "ActionID:", 9) == 0)
                sscanf(line + 9, " %63s", id);
            else if (strncasecmp(line, "Secret:", 7) == 0)
                sscanf(line + 7, " %127s", secret);
        }
        if (strcasecmp(action, "Login") == 0 && !in->login) {
            in->login = true;
            memcpy(in->login_id, id, sizeof(in->login_id));
            memcpy(in->secret, secret, sizeof(in->secret));
        }
        else if (strcasecmp(action, "Logoff") == 0)
            in->logoff = true;
        else if ((strcasecmp(action, "Ping") == 0 || strcasecmp(action, "CoreShowChannels") == 0) &&
                 in->nactions < KIC_ARRAY_LEN(in->actions)) {
            in->actions[in->nactions].list = strcasecmp(action, "CoreShowChannels") == 0;
            memcpy(in->actions[in->nactions++].id, id, sizeof(id));
        }
        size_t used = (size_t)(end - in->buf) + skip;
        memmove(in->buf, in->buf + used, in->len - used);
        in->len -= used;
    }
    if (in->len == sizeof(in->buf))
        in->len = 0; /* garbage without blank lines: forget it */
}

/* Reads what is there (waiting up to timeout_ms). */
static void poll_client(int fd, Inbox *in, int timeout_ms)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms) <= 0)
        return;
    ssize_t n = recv(fd, in->buf + in->len, sizeof(in->buf) - in->len, 0);
    if (n <= 0) {
        in->closed = true;
        return;
    }
    in->len += (size_t)n;
    take_actions(in);
}

/* ---- the channels alive in the recording, for CoreShowChannels ---- */

/* The channel-state lines of manager_channels.c's
 * ast_manager_build_channel_state_string(), in its order: every channel
 * event starts with them, and so does each CoreShowChannel. */
static const char *const state_keys[] = {
    "Channel",          "ChannelState",      "ChannelStateDesc", "CallerIDNum", "CallerIDName",
    "ConnectedLineNum", "ConnectedLineName", "Language",         "AccountCode", "Context",
    "Exten",            "Priority",          "Uniqueid",         "Linkedid",
};
#define NSTATE KIC_ARRAY_LEN(state_keys)
#define STATE_UNIQUEID 12 /* state_keys[12] */

typedef struct Chan {
    char state[NSTATE][128]; /* as the channel's latest event said */
    char app[64], appdata[256], bridge[64];
    long long created_us; /* its Newchannel's Timestamp */
} Chan;

typedef struct Chans {
    Chan *v;
    size_t n, cap;
    long long now_us; /* the latest Timestamp so far */
} Chans;

/* The value of the line "key: value" of a message, or false. */
static bool field(const char *msg, size_t len, const char *key, char *out, size_t size)
{
    size_t k = strlen(key);
    for (const char *p = msg; p + k + 1 < msg + len;) {
        const char *eol = memmem(p, (size_t)(msg + len - p), "\r\n", 2);
        const char *end = eol ? eol : msg + len;
        if ((size_t)(end - p) > k && memcmp(p, key, k) == 0 && p[k] == ':') {
            const char *v = p + k + 1;
            while (v < end && *v == ' ')
                v++;
            snprintf(out, size, "%.*s", (int)(end - v), v);
            return true;
        }
        if (!eol)
            break;
        p = eol + 2;
    }
    return false;
}

static long long timestamp_us(const char *msg, size_t len)
{
    char ts[32];
    if (!field(msg, len, "Timestamp", ts, sizeof(ts)))
        return -1;
    char *p;
    long long secs = strtoll(ts, &p, 10), usec = 0;
    int digits = 0;
    if (*p == '.')
        for (p++; digits < 6; digits++)
            usec = usec * 10 + (*p >= '0' && *p <= '9' ? *p++ - '0' : 0);
    return secs * 1000000 + usec;
}

static Chan *chan_find(Chans *cs, const char *uniqueid)
{
    for (size_t i = 0; i < cs->n; i++)
        if (strcmp(cs->v[i].state[STATE_UNIQUEID], uniqueid) == 0)
            return &cs->v[i];
    return NULL;
}

static Chan *chan_add(Chans *cs)
{
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 64;
        Chan *v = realloc(cs->v, cap * sizeof(Chan));
        if (!v)
            return NULL;
        cs->v = v;
        cs->cap = cap;
    }
    Chan *c = &cs->v[cs->n++];
    memset(c, 0, sizeof(*c));
    return c;
}

/* One recorded message: Newchannel adds its channel, Hangup removes it,
 * any other event about it updates what CoreShowChannel shows. */
static void chans_apply(Chans *cs, const char *msg, size_t len)
{
    char event[64], uniqueid[128];
    long long ts = timestamp_us(msg, len);
    if (ts > cs->now_us)
        cs->now_us = ts;
    if (!field(msg, len, "Event", event, sizeof(event)) ||
        !field(msg, len, "Uniqueid", uniqueid, sizeof(uniqueid)))
        return;
    Chan *c = chan_find(cs, uniqueid);
    if (strcmp(event, "Hangup") == 0) {
        if (c)
            *c = cs->v[--cs->n]; /* Asterisk lists in no particular order either */
        return;
    }
    if (!c && strcmp(event, "Newchannel") == 0 && (c = chan_add(cs)))
        c->created_us = ts;
    if (!c)
        return;
    for (size_t i = 0; i < NSTATE; i++)
        field(msg, len, state_keys[i], c->state[i], sizeof(c->state[i]));
    if (strcmp(event, "Newexten") == 0) {
        field(msg, len, "Application", c->app, sizeof(c->app));
        field(msg, len, "AppData", c->appdata, sizeof(c->appdata));
    } else if (strcmp(event, "BridgeEnter") == 0) {
        field(msg, len, "BridgeUniqueid", c->bridge, sizeof(c->bridge));
    } else if (strcmp(event, "BridgeLeave") == 0) {
        c->bridge[0] = '\0';
    }
}

/* The channels alive once the recording is sent up to byte pos: every
 * message before it counts, the lost ones too (Asterisk's channels live
 * on while the manager is away). */
static void chans_at(const Replay *r, size_t pos, Chans *cs)
{
    size_t start = r->login_end;
    for (size_t j = 1; j < r->nends && r->ends[j] <= pos; j++) {
        chans_apply(cs, r->data + start, r->ends[j] - start);
        start = r->ends[j];
    }
}

/* manager.c's action_coreshowchannels: astman_send_listack, one
 * CoreShowChannel per channel (the state lines, then Application,
 * ApplicationData, Duration, BridgeId), astman_send_list_complete. None
 * has a Timestamp: the action writes them, not manager_event. Duration is
 * counted to the recording's time at pos, so a replay answers alike. */
static void chans_reply(const Replay *r, size_t pos, const char *id, StrBuf *out)
{
    Chans cs = {.now_us = -1};
    chans_at(r, pos, &cs);
    char idline[96] = "";
    if (*id)
        snprintf(idline, sizeof(idline), "ActionID: %s\r\n", id);
    strbuf_printf(out, "Response: Success\r\n%sEventList: start\r\n"
                       "Message: Channels will follow\r\n\r\n", idline);
    for (size_t i = 0; i < cs.n; i++) {
        const Chan *c = &cs.v[i];
        strbuf_printf(out, "Event: CoreShowChannel\r\n%s", idline);
        for (size_t k = 0; k < NSTATE; k++)
            strbuf_printf(out, "%s: %s\r\n", state_keys[k], c->state[k]);
        long long secs = c->created_us >= 0 ? (cs.now_us - c->created_us) / 1000000 : 0;
        strbuf_printf(out, "Application: %s\r\nApplicationData: %s\r\n"
                           "Duration: %02lld:%02lld:%02lld\r\nBridgeId: %s\r\n\r\n",
                      c->app, c->appdata, secs / 3600, secs % 3600 / 60, secs % 60, c->bridge);
    }
    strbuf_printf(out, "Event: CoreShowChannelsComplete\r\n%sEventList: Complete\r\n"
                       "ListItems: %zu\r\n\r\n", idline, cs.n);
    free(cs.v);
}

/* Asterisk's action_ping. */
static void ping_reply(const char *id, StrBuf *out)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    strbuf_printf(out, "Response: Success\r\n%s%s%sPing: Pong\r\nTimestamp: %ld.%06ld\r\n\r\n",
                  *id ? "ActionID: " : "", id, *id ? "\r\n" : "", (long)tv.tv_sec,
                  (long)tv.tv_usec);
}

/* Answers the actions received, in order, as if the recording had been
 * sent up to byte pos; --sent gets the replies too. */
static bool answer_actions(Replay *r, int fd, Inbox *in, size_t pos)
{
    for (size_t i = 0; i < in->nactions; i++) {
        StrBuf reply = STRBUF_INIT;
        if (in->actions[i].list)
            chans_reply(r, pos, in->actions[i].id, &reply);
        else
            ping_reply(in->actions[i].id, &reply);
        bool ok = reply.len > 0 && send_all(fd, reply.data, reply.len);
        if (ok)
            record_text(r, reply.data, reply.len);
        strbuf_free(&reply);
        if (!ok)
            return false;
    }
    in->nactions = 0;
    return true;
}

/* The recorded login reply with the client's ActionID after its first
 * line, where manager.c puts it; a wrong secret gets Asterisk's refusal. */
static bool send_login_reply(Replay *r, int fd, const Inbox *in)
{
    char id[96] = "";
    if (*in->login_id)
        snprintf(id, sizeof(id), "ActionID: %s\r\n", in->login_id);
    if (r->secret && strcmp(in->secret, r->secret) != 0) {
        char refusal[256];
        int n = snprintf(refusal, sizeof(refusal),
                         "Response: Error\r\n%sMessage: Authentication failed\r\n\r\n", id);
        send_all(fd, refusal, (size_t)n);
        fprintf(stderr, "kic-ami-replay: login refused (wrong secret)\n");
        return false;
    }
    const char *reply = r->data + r->banner_end;
    size_t len = r->login_end - r->banner_end;
    const char *eol = memmem(reply, len, "\r\n", 2);
    size_t first = eol ? (size_t)(eol - reply) + 2 : 0;
    return send_all(fd, reply, first) && send_all(fd, id, strlen(id)) &&
           send_all(fd, reply + first, len - first);
}

/* Banner, Login, its reply, and FullyBooted again on a later login. */
static bool greet(Replay *r, int fd, Inbox *in)
{
    if (!send_all(fd, r->data, r->banner_end))
        return false;
    while (!in->login && !in->closed)
        poll_client(fd, in, 1000);
    if (in->closed || !send_login_reply(r, fd, in))
        return false;
    if (!r->first_client_done) {
        r->first_client_done = true;
        record_sent(r, 0, r->login_end);
    } else if (r->booted_end && r->resume > r->login_end) {
        if (!send_all(fd, r->data + r->login_end, r->booted_end - r->login_end))
            return false;
        record_sent(r, r->login_end, r->booted_end);
    }
    return true;
}

/* A returning client (the bridge after a lost connection) asks at once
 * which channels are alive: its first action is answered before the
 * events go on, as Asterisk would (it answers at once, while the recorded
 * events came seconds apart), not after however many this replay could
 * write meanwhile. Waits up to a second. */
static bool await_first_action(Replay *r, int fd, Inbox *in, size_t pos)
{
    for (int waited = 0; in->nactions == 0 && !in->closed && waited < 1000; waited += 50)
        poll_client(fd, in, 50);
    return !in->closed && answer_actions(r, fd, in, pos);
}

/* One client, start to end. True when it had the whole recording. */
static bool serve(Replay *r, int fd)
{
    Inbox in = {0};
    if (!greet(r, fd, &in))
        return false;
    size_t pos = r->resume;
    size_t msg_start = pos;
    fprintf(stderr, "kic-ami-replay: client logged in; events from byte %zu\n", pos);
    if (r->resume > r->login_end && !await_first_action(r, fd, &in, pos))
        return false;
    while (pos < r->len) {
        bool dropping = r->next_drop < r->ndrops;
        size_t drop = dropping ? r->drops[r->next_drop] : r->len;
        if (dropping && drop <= pos) { /* inside what was lost or sent before */
            r->next_drop++;
            continue;
        }
        size_t boundary = message_end(r, pos);
        size_t n = r->chunk;
        if (n > boundary - pos)
            n = boundary - pos;
        if (n > drop - pos)
            n = drop - pos;
        if (!send_all(fd, r->data + pos, n))
            return false;
        pos += n;
        if (pos == boundary) {
            record_sent(r, msg_start, boundary);
            msg_start = boundary;
        }
        if (dropping && pos == drop) {
            r->next_drop++;
            r->resume = resume_after_drop(r, pos);
            fprintf(stderr, "kic-ami-replay: dropping the connection at byte %zu; the next "
                            "client starts at byte %zu\n", pos, r->resume);
            return false;
        }
        poll_client(fd, &in, r->interval_ms);
        if (in.closed || in.logoff)
            return false;
        if (pos == boundary && !answer_actions(r, fd, &in, pos))
            return false;
    }
    r->resume = r->len;
    fprintf(stderr, "kic-ami-replay: all %zu bytes sent\n", r->len);
    while (!r->close_at_end && !in.closed && !in.logoff) {
        poll_client(fd, &in, 1000);
        if (!answer_actions(r, fd, &in, r->len))
            break;
    }
    return true;
}

/* Closes after the client has read everything: closing with its unread
 * actions in our buffer would send a reset, and the client's kernel would
 * drop what it had received but not yet read (a cut Asterisk makes with
 * a FIN). Waits up to 2 s for the client to close its side. */
static void close_gently(int fd)
{
    shutdown(fd, SHUT_WR);
    char buf[4096];
    struct pollfd pfd = {fd, POLLIN, 0};
    while (poll(&pfd, 1, 2000) > 0 && recv(fd, buf, sizeof(buf), 0) > 0) {
    }
    close(fd);
}

/* A whole number from min to max, nothing after it. */
static bool whole(const char *text, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int bad_number(const char *flag, const char *text)
{
    fprintf(stderr, "kic-ami-replay: %s: not a number in range: %s\n", flag, text);
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"file", required_argument, NULL, 'f'},        {"port", required_argument, NULL, 'p'},
        {"drop-at", required_argument, NULL, 'd'},     {"chunk", required_argument, NULL, 'c'},
        {"interval-ms", required_argument, NULL, 'i'}, {"close-at-end", no_argument, NULL, 'C'},
        {"exit-at-end", no_argument, NULL, 'x'},       {"help", no_argument, NULL, 'h'},
        {"lose", required_argument, NULL, 'l'},        {"secret", required_argument, NULL, 's'},
        {"sent", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    Replay r = {.chunk = 4096, .lose = 10};
    const char *file = NULL, *sent = NULL;
    int port = 0, ch;
    long long n;
    while ((ch = getopt_long(argc, argv, "f:p:d:c:i:Cxhl:s:S:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'f': file = optarg; break;
        case 'p':
            if (!whole(optarg, 0, 65535, &n))
                return bad_number("--port", optarg);
            port = (int)n;
            break;
        case 'd':
            if (r.ndrops == MAX_DROPS) {
                fprintf(stderr, "kic-ami-replay: at most %d --drop-at\n", MAX_DROPS);
                return 2;
            }
            if (!whole(optarg, 0, LLONG_MAX, &n))
                return bad_number("--drop-at", optarg);
            r.drops[r.ndrops++] = (size_t)n;
            break;
        case 'c':
            if (!whole(optarg, 1, 1 << 20, &n))
                return bad_number("--chunk", optarg);
            r.chunk = (size_t)n;
            break;
        case 'i':
            if (!whole(optarg, 0, 60000, &n))
                return bad_number("--interval-ms", optarg);
            r.interval_ms = (int)n;
            break;
        case 'l':
            if (!whole(optarg, 0, 1000000, &n))
                return bad_number("--lose", optarg);
            r.lose = (size_t)n;
            break;
        case 's': r.secret = optarg; break;
        case 'S': sent = optarg; break;
        case 'C': r.close_at_end = true; break;
        case 'x': r.exit_at_end = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!file || r.chunk == 0 || port < 0 || port > 65535 || optind != argc) {
        usage(stderr);
        return 2;
    }
    for (size_t i = 1; i < r.ndrops; i++) {
        if (r.drops[i] <= r.drops[i - 1]) {
            fprintf(stderr, "kic-ami-replay: --drop-at offsets must increase\n");
            return 2;
        }
    }
    r.data = slurp(file, &r.len);
    if (!r.data || !index_recording(&r)) {
        fprintf(stderr, "kic-ami-replay: cannot read a recording from %s\n", file);
        return 1;
    }
    if (sent && !(r.sent = fopen(sent, "wb"))) {
        fprintf(stderr, "kic-ami-replay: cannot write %s: %s\n", sent, strerror(errno));
        return 1;
    }
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(addr);
    if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(ls, 4) != 0 ||
        getsockname(ls, (struct sockaddr *)&addr, &alen) != 0) {
        fprintf(stderr, "kic-ami-replay: cannot listen on port %d: %s\n", port, strerror(errno));
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "kic-ami-replay: accept: %s\n", strerror(errno));
            return 1;
        }
        bool whole = serve(&r, fd);
        close_gently(fd);
        if (whole && r.exit_at_end)
            break;
    }
    close(ls);
    if (r.sent)
        fclose(r.sent);
    free(r.ends);
    free(r.data);
    return 0;
}
