/* The tools' option table (see toolopts.h). */
#include "toolopts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CODE 256 /* getopt_long codes of the table's options: above any char */

static void toolopts_usage(const ToolOptions *t, FILE *out)
{
    fputs(t->intro, out);
    for (size_t i = 0; i < t->n; i++) {
        const ToolOption *s = &t->specs[i];
        char flag[64];
        snprintf(flag, sizeof(flag), "--%s%s", s->name, s->has_arg ? " X" : "");
        fprintf(out, "  %-*s %s", t->flag_width, flag, s->help);
        if (s->env || s->fallback) {
            fprintf(out, " [");
            if (s->env)
                fprintf(out, "env %s%s", s->env, s->fallback ? ", " : "");
            if (s->fallback)
                fprintf(out, "default %s", s->fallback);
            fprintf(out, "]");
        }
        fprintf(out, "\n");
    }
    fputs(t->outro, out);
}

static const char **field(void *opts, const ToolOption *s)
{
    return (const char **)((char *)opts + s->offset);
}

/* One option getopt_long found: 0 to go on, otherwise the exit code. */
static int take(const ToolOptions *t, const ToolOption *s, void *opts)
{
    if (strcmp(s->name, "help") == 0) {
        toolopts_usage(t, stdout);
        return -1;
    }
    if (strcmp(s->name, "version") == 0) {
        printf("%s %s\n", t->prog, KIC_VERSION);
        return -1;
    }
    if (s->offset == TOOLOPT_OWN)
        return t->own ? t->own(s, optarg, opts) : 0;
    *field(opts, s) = optarg;
    return 0;
}

int toolopts_parse(const ToolOptions *t, int argc, char **argv, void *opts)
{
    struct option *longopts = calloc(t->n + 1, sizeof(*longopts));
    if (!longopts)
        abort();
    for (size_t i = 0; i < t->n; i++)
        longopts[i] = (struct option){t->specs[i].name, t->specs[i].has_arg, NULL,
                                      (int)i + FIRST_CODE};
    int ch, rc = 0;
    while (rc == 0 && (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (ch == 'h') {
            toolopts_usage(t, stdout);
            rc = -1;
        } else if (ch < FIRST_CODE) {
            toolopts_usage(t, stderr);
            rc = 2;
        } else {
            rc = take(t, &t->specs[ch - FIRST_CODE], opts);
        }
    }
    free(longopts);
    if (rc != 0)
        return rc;
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", t->prog, argv[optind]);
        return 2;
    }
    for (size_t i = 0; i < t->n; i++) {
        const ToolOption *s = &t->specs[i];
        if (s->offset == TOOLOPT_OWN || *field(opts, s))
            continue;
        const char *e = s->env ? getenv(s->env) : NULL;
        *field(opts, s) = e && *e ? e : s->fallback;
    }
    return 0;
}
