/* Signals from a signalfd (signals.h). */
#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct Signals {
    int fd;
    struct event *ev;
    sigset_t mask;
    SignalFn fn;
    void *arg;
};

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    Signals *sig = arg;
    struct signalfd_siginfo info;
    /* one read per signal: the callback may free sig (a stop does not) */
    ssize_t n = read(fd, &info, sizeof(info));
    if (n != (ssize_t)sizeof(info))
        return; /* EAGAIN: taken by an earlier wake-up */
    sig->fn((int)info.ssi_signo, (pid_t)info.ssi_pid, sig->arg);
}

Signals *signals_start(struct event_base *base, SignalFn fn, void *arg)
{
    Signals *sig = calloc(1, sizeof(*sig));
    if (!sig)
        return NULL;
    sig->fd = -1;
    sig->fn = fn;
    sig->arg = arg;
    sigemptyset(&sig->mask);
    sigaddset(&sig->mask, SIGTERM);
    sigaddset(&sig->mask, SIGINT);
    sigaddset(&sig->mask, SIGHUP);
    /* kicd runs one thread: the process mask is the thread's */
    if (sigprocmask(SIG_BLOCK, &sig->mask, NULL) != 0)
        goto fail;
    sig->fd = signalfd(-1, &sig->mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sig->fd < 0)
        goto fail;
    sig->ev = event_new(base, sig->fd, EV_READ | EV_PERSIST, on_readable, sig);
    if (!sig->ev || event_add(sig->ev, NULL) != 0)
        goto fail;
    return sig;
fail:;
    int saved = errno;
    signals_free(sig);
    errno = saved;
    return NULL;
}

void signals_free(Signals *sig)
{
    if (!sig)
        return;
    if (sig->ev)
        event_free(sig->ev);
    if (sig->fd >= 0)
        close(sig->fd);
    /* The signals stay blocked: one that came during the drain and was
     * never read must not kill kicd while it finishes with its exit code. */
    free(sig);
}

/* The sender's command name, "" when it is gone or hidden. */
static void sender_name(pid_t pid, char *out, size_t n)
{
    out[0] = '\0';
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(out, (int)n, f))
        out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

void signals_describe(int signo, pid_t sender, char *out, size_t n)
{
    const char *name = signo == SIGTERM ? "SIGTERM"
                       : signo == SIGINT ? "SIGINT"
                       : signo == SIGHUP ? "SIGHUP"
                                         : "a signal";
    if (sender <= 0) {
        snprintf(out, n, "%s from the kernel or outside kicd's PID namespace", name);
        return;
    }
    char comm[32];
    sender_name(sender, comm, sizeof(comm));
    if (comm[0])
        snprintf(out, n, "%s from pid %d (%s)", name, (int)sender, comm);
    else
        snprintf(out, n, "%s from pid %d", name, (int)sender);
}
