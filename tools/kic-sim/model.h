/* The simulated KIC as numbers: queues, the daily and weekly arrival
 * curve, durations, outcomes, staffing. One SimModel holds them all so a
 * test can vary one; sim_model_default is the care organisation of the
 * README (about 115,000 calls a year, five queues, 24/7 line). Pure
 * functions over the tables live here too: volumes, handle time, Erlang C
 * staffing and callers' phone numbers. */
#ifndef SIM_MODEL_H
#define SIM_MODEL_H

#include "kic.h"
#include "rng.h"

/* kicd's default wrap-up categories of a new tenant (migrations/0003). */
#define SIM_CATEGORIES(X)                                                                     \
    X(CAT_HOUSEHOLD, "huishoudelijke hulp") X(CAT_DISTRICT, "wijkverpleging")                 \
    X(CAT_PLANNING, "planning en roosters") X(CAT_INVOICES, "facturen en eigen bijdrage")     \
    X(CAT_INDICATION, "indicatie en aanvraag") X(CAT_AIDS, "hulpmiddelen")                    \
    X(CAT_COMPLAINT, "klacht") X(CAT_COMPLIMENT, "compliment") X(CAT_INFO, "informatie")      \
    X(CAT_OTHER, "overig")
#define SIM_CALLER_TYPES(X)                                                                  \
    X(SCT_CLIENT, "client") X(SCT_FAMILY, "family") X(SCT_PROFESSIONAL, "professional")      \
    X(SCT_SUPPLIER, "supplier") X(SCT_OTHER, "other")

#define SIM_ENUM_ITEM(name, text) name,
typedef enum { SIM_CATEGORIES(SIM_ENUM_ITEM) SIM_CATEGORY_COUNT } SimCategory;
typedef enum { SIM_CALLER_TYPES(SIM_ENUM_ITEM) SIM_CALLER_TYPE_COUNT } SimCallerType;
#undef SIM_ENUM_ITEM

extern const char *const sim_category_names[];
extern const char *const sim_caller_type_names[];

#define SIM_MAX_QUEUES 8
#define SIM_LOCATIONS 6

typedef struct QueueModel {
    const char *name;
    const char *dialled;        /* the line callers dial for it */
    double share;               /* of inbound calls */
    double summer_factor;       /* its volume in July and August with --summer-peak */
    double talk_median_s, talk_sigma;
    double transfer_p;          /* of its answered contacts */
    double to_queue_p;          /* of those transfers: into queue to_queue (a new contact) */
    int to_queue;
    double external_p;          /* of those transfers: outside the organisation */
    const char *external_target;
    const char *team_prefix;    /* care teams are "<prefix>-<location>" */
    double callback_p;          /* not transferred: the agent promises a callback */
    double category_w[SIM_CATEGORY_COUNT];
    double caller_type_w[SIM_CALLER_TYPE_COUNT];
} QueueModel;

typedef struct SimModel {
    QueueModel queues[SIM_MAX_QUEUES];
    int nqueues;
    const char *locations[SIM_LOCATIONS];
    double location_w[SIM_LOCATIONS];
    const char *area_codes[SIM_LOCATIONS]; /* landline prefix (after +31) per location */

    /* Arrivals: share of a day's calls per local hour; day weights by
     * tm_wday (0 = Sunday). */
    double hour_weekday[24], hour_weekend[24];
    double day_w[7];

    /* Callers */
    double withheld_p;          /* number not shown ("anonymous") */
    double mobile_p;            /* of shown numbers; the rest are landlines */
    double national_format_p;   /* written 06-12345678 rather than +316... */
    double patience_median_s, patience_sigma;
    double short_abandon_p;     /* hang up within 5 s whatever happens */

    /* Handling */
    double ring_median_s, ring_sigma;
    double hold_p, second_hold_p, hold_median_s, hold_sigma;
    double acw_median_s, acw_sigma;
    double ended_by_caller_p;
    double care_team_talk_median_s; /* after a transfer: until the phone call ends */
    double resolved_p, resolved_transferred_p, resolved_callback_p;
    double follow_up_care_team_p; /* answered, not transferred: the team must act */

    /* Repeats: chance that the caller calls again within the window */
    double repeat_abandoned_p, repeat_unresolved_p, repeat_resolved_p;
    double repeat_after_abandon_median_s; /* soon: they try again */
    double repeat_after_contact_mean_s;   /* later: days */
    double repeat_overdue_callback_p;     /* a callback past its due time */
    int repeat_window_days;

    /* Callbacks */
    double ivr_offer_wait_s;    /* the IVR offers a callback above this expected wait */
    double ivr_accept_p;
    double callback_due_s;      /* due_by after the request */
    double callback_reach_p;
    double callback_talk_median_s, callback_no_answer_s;
    double callback_retry_s;    /* between attempts */
    int callback_max_attempts;  /* then cancelled */

    /* Summer peak (July, August) */
    double summer_callback_p_factor; /* agent-promised callbacks in the queues that peak */
    double summer_ivr_offer_wait_s;
    double summer_ivr_accept_p;
    double summer_staffing;     /* staff's own holidays: share of the plan on duty */

    /* Staffing: Erlang C for the expected load of each half hour */
    double sl_target, sl_seconds;
    int min_on_duty;            /* 24/7 line */
    double min_shift_h, max_shift_h, min_rest_h;
    int max_shifts_per_week;
    double break_after_h[3], break_min[3]; /* breaks from the shift's start */
} SimModel;

extern const SimModel sim_model_default;

/* Expected inbound calls on a day with this tm_wday, before the summer. */
double model_day_calls(const SimModel *m, double calls_per_year, int wday);
/* Share of the day's calls in local hour `hour` (the curve normalised). */
double model_hour_share(const SimModel *m, int wday, int hour);
/* The volume factor of queue q in month (1-12). */
double model_queue_factor(const SimModel *m, int q, int month, bool summer_peak);
/* Mean handle time: ring + talk + hold + ACW, weighted by queue share. */
double model_aht_s(const SimModel *m);
/* Erlang C: the fewest agents for which `calls_per_hour` with this AHT
 * reach sl_target answered within sl_seconds. 0 for no load. */
int model_agents_needed(double calls_per_hour, double aht_s, double sl_target, double sl_seconds);
/* The pool a year of this volume needs (part-timers, max_shifts_per_week). */
int model_default_pool(const SimModel *m, double calls_per_year);

/* A caller's number, unique per (mobile, serial): "+316xxxxxxxx" or a
 * landline of the location's area code, in E.164. salt varies the
 * numbers between seeds. */
void model_number(const SimModel *m, bool mobile, uint64_t serial, uint64_t salt, int location,
                  char out[24]);
/* The same number as a caller's phone may present it: E.164 or national
 * with a separator ("06-12345678", "0251-123456"). */
void model_number_written(const char *e164, bool national, char out[24]);

#endif
