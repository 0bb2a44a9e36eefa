/* Command-line options from one table: each flag with the environment
 * variable read when it is absent, its default and its help line. The
 * tools that talk to kicd (kic-sim, kic-ami-bridge) share it, so --help,
 * --version and the order flag > environment > default are the same in
 * each. */
#ifndef KIC_TOOLOPTS_H
#define KIC_TOOLOPTS_H

#include <stddef.h>
#include <stdio.h>

typedef struct ToolOption {
    const char *name;
    int has_arg;
    const char *env;      /* read when the flag is absent; NULL: none */
    const char *fallback; /* default; NULL: none */
    size_t offset;        /* of a const char * in the tool's options; TOOLOPT_OWN: see own */
    const char *help;
} ToolOption;

#define TOOLOPT_OWN ((size_t)-1)

typedef struct ToolOptions {
    const char *prog; /* for --version and messages */
    const ToolOption *specs;
    size_t n;
    int flag_width; /* of the flag column in --help */
    const char *intro, *outro; /* --help text before and after the table */
    /* A TOOLOPT_OWN option other than help and version (a switch, a
     * repeatable flag): 0 to go on, otherwise the exit code. */
    int (*own)(const ToolOption *opt, const char *arg, void *opts);
} ToolOptions;

/* Fills opts from argv, then from the environment and the defaults.
 * 0: go on; -1: done (--help or --version printed, exit 0); otherwise
 * the exit code. */
int toolopts_parse(const ToolOptions *t, int argc, char **argv, void *opts);

#endif
