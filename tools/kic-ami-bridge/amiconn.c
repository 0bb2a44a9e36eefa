/* The AMI connection: connect, read the banner, log in with Events: on,
 * and feed each event to the mapper. Reading stops while the outbox is
 * nearly full and goes on when kicd's answers make room. A lost
 * connection is retried with exponential back-off; the mapper keeps its
 * calls across reconnects. Events during the gap are lost to AMI (a
 * queue_log import fills them in, with the same event ids); so after a
 * reconnect the bridge asks for the live channels (CoreShowChannels), and
 * the mapper ends the calls whose caller hung up meanwhile. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "toollog.h"
#include "toolnet.h"

#define LOGIN_ACTION_ID "kic-login"
#define PING_ACTION_PREFIX "kic-ping-"

static void schedule(AmiConn *a, KicTime delay)
{
    struct timeval tv = {(time_t)(delay / KIC_USEC), (suseconds_t)(delay % KIC_USEC)};
    evtimer_add(a->ev_timer, &tv);
}

static void drop(AmiConn *a, const char *why)
{
    if (a->bev) {
        bufferevent_free(a->bev);
        a->bev = NULL;
    }
    ami_parser_reset(&a->parser);
    bool was_up = a->state == AMI_UP;
    a->state = AMI_DOWN;
    a->paused = false;
    evtimer_del(a->ev_timer);
    if (a->stopped)
        return;
    KicTime delay = backoff_next(&a->backoff);
    /* ±20% jitter so that many bridges do not reconnect in step */
    delay += (KicTime)(((double)random() / RAND_MAX - 0.5) * 0.4 * (double)delay);
    log_write(was_up ? LOG_WARN : LOG_INFO,
              "AMI %s:%d: %s; reconnecting in %.1f s%s", a->br->cfg.ami.host,
              a->br->cfg.ami.port, why, (double)delay / KIC_USEC,
              was_up ? " (AMI keeps no events for us meanwhile; queue_log has them)" : "");
    schedule(a, delay);
}

static void send_text(AmiConn *a, const char *text)
{
    if (a->bev)
        bufferevent_write(a->bev, text, strlen(text));
}

static void send_login(AmiConn *a)
{
    const BridgeConfig *cfg = &a->br->cfg;
    char action[1024];
    snprintf(action, sizeof(action),
             "Action: Login\r\nActionID: " LOGIN_ACTION_ID "\r\nUsername: %s\r\nSecret: %s\r\n"
             "Events: on\r\n\r\n",
             cfg->ami_user, cfg->ami_secret);
    send_text(a, action);
    a->state = AMI_LOGGING_IN;
    schedule(a, a->br->cfg.connect_timeout);
}

/* After a reconnect: which channels are still alive? The answer comes as
 * events (AMI_RESYNC_ACTION_PREFIX) that the mapper reads like any other. */
static void send_resync(AmiConn *a)
{
    char action[128];
    snprintf(action, sizeof(action),
             "Action: CoreShowChannels\r\nActionID: " AMI_RESYNC_ACTION_PREFIX "%llu\r\n\r\n",
             ++a->resyncs);
    send_text(a, action);
    a->gone_before = ami_map_stats(a->br->mapper)->gone;
}

static void send_ping(AmiConn *a, KicTime now)
{
    char action[128];
    snprintf(action, sizeof(action), "Action: Ping\r\nActionID: " PING_ACTION_PREFIX "%llu\r\n\r\n",
             ++a->pings);
    send_text(a, action);
    a->ping_sent = now;
}

/* The login reply: the first Response after our Login (Asterisk echoes
 * the ActionID; a replayed recording may not). */
static void on_login_reply(AmiConn *a, const AmiMessage *msg)
{
    const char *id = ami_get(msg, "ActionID");
    if (id && strcmp(id, LOGIN_ACTION_ID) != 0)
        return;
    const char *response = ami_get_or(msg, "Response", "");
    if (strcmp(response, "Success") != 0) {
        log_write(LOG_ERROR, "AMI login as '%s' refused: %s", a->br->cfg.ami_user,
                  ami_get_or(msg, "Message", response));
        drop(a, "login refused");
        return;
    }
    evtimer_del(a->ev_timer);
    a->state = AMI_UP;
    backoff_reset(&a->backoff);
    log_write(LOG_INFO, "AMI %s:%d: logged in as '%s'", a->br->cfg.ami.host, a->br->cfg.ami.port,
              a->br->cfg.ami_user);
    if (a->logins++ > 0)
        send_resync(a);
}

/* The end of the channel list asked for after a reconnect: say what it
 * settled. */
static void log_resync(AmiConn *a, const AmiMessage *msg)
{
    const char *id = ami_get_or(msg, "ActionID", "");
    if (strcmp(ami_get_or(msg, "Event", ""), "CoreShowChannelsComplete") != 0 ||
        strncmp(id, AMI_RESYNC_ACTION_PREFIX, strlen(AMI_RESYNC_ACTION_PREFIX)) != 0)
        return;
    log_write(LOG_INFO, "AMI: %s live channels after the reconnect; %zu followed callers hung "
                        "up meanwhile",
              ami_get_or(msg, "ListItems", "?"),
              ami_map_stats(a->br->mapper)->gone - a->gone_before);
}

/* Without timestampevents = yes every `at` is the time the bridge read the
 * event (late while reading is paused): said once, as a warning. */
static void warn_no_timestamp(Bridge *br)
{
    if (br->warned_no_timestamp || ami_map_stats(br->mapper)->no_timestamp == 0)
        return;
    br->warned_no_timestamp = true;
    log_write(LOG_WARN, "AMI events carry no Timestamp: set timestampevents = yes in "
                        "Asterisk's manager.conf; until then each event's time is when "
                        "the bridge read it");
}

/* Handles buffered messages until none is left or the outbox is full.
 * False when the connection was dropped on the way. */
static bool process(AmiConn *a)
{
    Bridge *br = a->br;
    while (a->bev) {
        if (!outbox_has_room(&br->outbox, BRIDGE_OUTBOX_SLACK)) {
            if (!a->paused) {
                a->paused = true;
                bufferevent_disable(a->bev, EV_READ);
                log_write(LOG_WARN, "outbox full (%zu events unanswered by kicd): pausing AMI",
                          br->outbox.live);
            }
            return true;
        }
        /* top the parser up from the socket buffer */
        struct evbuffer *in = bufferevent_get_input(a->bev);
        size_t space;
        char *dst = ami_parser_space(&a->parser, &space);
        if (space > 0 && evbuffer_get_length(in) > 0) {
            int n = evbuffer_remove(in, dst, space);
            if (n > 0)
                ami_parser_commit(&a->parser, (size_t)n);
        }
        AmiMessage msg;
        const char *banner;
        AmiResult r = ami_parser_next(&a->parser, &msg, &banner);
        switch (r) {
        case AMI_NEED:
            if (evbuffer_get_length(in) == 0)
                return true;
            break;
        case AMI_BANNER:
            log_write(LOG_INFO, "AMI %s:%d: %s", br->cfg.ami.host, br->cfg.ami.port, banner);
            if (a->state == AMI_CONNECTING)
                send_login(a);
            break;
        case AMI_OVERSIZED:
            log_write(LOG_WARN, "AMI: dropped an oversized message (%zu so far)",
                      a->parser.oversized);
            break;
        case AMI_MESSAGE:
            if (a->state == AMI_CONNECTING) {
                send_login(a); /* no banner (a proxy): log in anyway */
            }
            if (a->state == AMI_LOGGING_IN) {
                if (ami_get(&msg, "Response"))
                    on_login_reply(a, &msg);
                break;
            }
            if (!ami_get(&msg, "Event"))
                break; /* a reply to our Ping, or a stray Response */
            br->last_ami_event = bridge_now();
            ami_map_feed(br->mapper, &msg, br->last_ami_event);
            warn_no_timestamp(br);
            log_resync(a, &msg);
            break;
        }
    }
    return false;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    AmiConn *a = arg;
    a->last_rx = bridge_now();
    a->ping_sent = 0;
    process(a);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    AmiConn *a = arg;
    if (what & BEV_EVENT_CONNECTED) {
        a->connects++;
        a->last_rx = bridge_now();
        log_write(LOG_DEBUG, "AMI %s:%d: connected", a->br->cfg.ami.host, a->br->cfg.ami.port);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        char why[256];
        toolnet_failure(bev, what, "Asterisk", why, sizeof(why));
        drop(a, why);
    }
}

static void connect_now(AmiConn *a)
{
    Bridge *br = a->br;
    a->bev = bufferevent_socket_new(br->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!a->bev) {
        drop(a, "out of memory");
        return;
    }
    bufferevent_setcb(a->bev, on_read, NULL, on_event, a);
    bufferevent_enable(a->bev, EV_READ);
    a->state = AMI_CONNECTING;
    ami_parser_reset(&a->parser);
    schedule(a, br->cfg.connect_timeout);
    if (bufferevent_socket_connect_hostname(a->bev, br->dns, AF_UNSPEC, br->cfg.ami.host,
                                            br->cfg.ami.port) != 0)
        drop(a, "cannot start connecting");
}

/* One timer for everything: back-off over, or connect/login took too long. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    AmiConn *a = arg;
    switch (a->state) {
    case AMI_DOWN: connect_now(a); break;
    case AMI_CONNECTING: drop(a, "no banner within the connect timeout"); break;
    case AMI_LOGGING_IN: drop(a, "no login reply within the timeout"); break;
    case AMI_UP: break;
    }
}

bool amiconn_init(AmiConn *a, Bridge *br)
{
    memset(a, 0, sizeof(*a));
    a->br = br;
    backoff_init(&a->backoff, KIC_USEC / 2, 30 * KIC_USEC);
    a->ev_timer = evtimer_new(br->base, on_timer, a);
    return a->ev_timer && ami_parser_init(&a->parser, AMI_DEFAULT_MAX_MESSAGE);
}

void amiconn_free(AmiConn *a)
{
    if (a->bev)
        bufferevent_free(a->bev);
    if (a->ev_timer)
        event_free(a->ev_timer);
    ami_parser_free(&a->parser);
}

void amiconn_start(AmiConn *a)
{
    connect_now(a);
}

void amiconn_stop(AmiConn *a)
{
    a->stopped = true;
    if (a->bev && a->state == AMI_UP)
        bufferevent_write(a->bev, "Action: Logoff\r\n\r\n", 18);
    drop(a, "stopping");
}

void amiconn_resume(AmiConn *a)
{
    if (!a->paused || !a->bev || !outbox_has_room(&a->br->outbox, BRIDGE_OUTBOX_SLACK))
        return;
    a->paused = false;
    log_write(LOG_INFO, "outbox has room again (%zu unanswered): resuming AMI", a->br->outbox.live);
    if (process(a) && a->bev && !a->paused)
        bufferevent_enable(a->bev, EV_READ);
}

void amiconn_tick(AmiConn *a, KicTime now)
{
    KicTime every = a->br->cfg.ami_ping_interval;
    if (a->state != AMI_UP || every <= 0 || a->paused)
        return;
    if (a->ping_sent && now - a->ping_sent > every) {
        drop(a, "no answer to a keep-alive Ping");
        return;
    }
    if (!a->ping_sent && now - a->last_rx > every)
        send_ping(a, now);
}
