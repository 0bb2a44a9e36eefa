/* An agent's wrap-up of a call (after-call work done): category, whether
 * the question was settled in this contact, the follow-up, who called.
 * Notes are not kept in memory: they are sensitive and only stored. */
#ifndef WRAPUP_H
#define WRAPUP_H

#include "kic.h"
#include "kictime.h"

#define FOLLOW_UPS(X) X(FU_NONE, "none") X(FU_CALLBACK, "callback") X(FU_CARE_TEAM, "care_team")
#define CALLER_TYPES(X)                                                                     \
    X(CT_CLIENT, "client") X(CT_FAMILY, "family") X(CT_PROFESSIONAL, "professional")         \
    X(CT_SUPPLIER, "supplier") X(CT_OTHER, "other")

#define WRAPUP_ENUM_ITEM(name, text) name,
typedef enum { FOLLOW_UPS(WRAPUP_ENUM_ITEM) FOLLOW_UP_COUNT } FollowUp;
typedef enum { CALLER_TYPES(WRAPUP_ENUM_ITEM) CALLER_TYPE_COUNT } CallerType;
#undef WRAPUP_ENUM_ITEM

extern const char *const follow_up_names[];   /* NULL-terminated */
extern const char *const caller_type_names[]; /* NULL-terminated */

typedef struct Wrapup {
    const char *agent;
    const char *category;
    KicTime at;
    bool resolved;
    int follow_up;   /* FollowUp or -1 */
    int caller_type; /* CallerType or -1 */
} Wrapup;

/* One allocation for the struct and its strings. */
Wrapup *wrapup_new(const char *agent, const char *category, KicTime at, bool resolved,
                   int follow_up, int caller_type);
void wrapup_free(Wrapup *w);

/* ACW of a part that ended at part_end: wrap-up time minus the end, 0
 * when wrapped up before the end. */
int64_t wrapup_acw_us(KicTime wrapped_at, KicTime part_end);

#endif
