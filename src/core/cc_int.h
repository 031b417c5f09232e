/*
 * cc_int.h: the core's private structures, shared by cc.c (decide: commands
 * and timeouts), cc_evolve.c (evolve: the only code that changes state, used
 * live and by replay) and cc_view.c (queries, dump, invariants). Nothing
 * outside src/core includes this file.
 */
#ifndef TEXTDESK_CORE_CC_INT_H
#define TEXTDESK_CORE_CC_INT_H

#include "core/cc.h"
#include "util/heap.h"
#include "util/hmap.h"

#define CC__DEFAULT_RONA_MS 30000
#define CC__DEFAULT_CAPACITY 3
#define CC__DEFAULT_GRACE_MS 120000
#define CC__DEFAULT_DEDUPE 1000000

/* A small list of ids (conversations an agent holds, offers pending). */
typedef struct cc__ids {
    uint32_t *v;
    uint32_t n, cap;
} cc__ids;

void cc__ids_add(cc__ids *l, uint32_t id);
int cc__ids_del(cc__ids *l, uint32_t id); /* 1 if it was there */
int cc__ids_has(const cc__ids *l, uint32_t id);

typedef struct cc__agent cc__agent;

/* An agent's place in one team's heap of ready agents. */
typedef struct cc__member {
    cc__agent *a;
    uint32_t team;
    uint32_t pos; /* HEAP_NONE when not in the heap */
} cc__member;

/* A wrap-up an agent owes. */
typedef struct cc__wrap {
    uint32_t conv, reason; /* reason: the queue's default, for auto wrap-up */
    uint32_t gen;
    int64_t deadline; /* auto wrap-up; 0: none */
} cc__wrap;

struct cc__agent {
    uint32_t id;
    char *name;
    int state;
    uint32_t idle_reason;
    int connected;
    uint32_t capacity, load, reserved;
    int64_t state_since, idle_since; /* idle_since orders routing */
    cc__member *teams;
    uint32_t nteams;
    cc__ids held;    /* conversations owned or joined as guest */
    cc__ids pending; /* conversations offered or invited to */
    cc__wrap *wraps;
    uint32_t nwraps, capwraps;
    uint32_t disc_gen;
    int64_t grace_deadline;
    int dirty;
};

typedef struct cc__team {
    uint32_t id;
    char *name;
    heap ready;       /* cc__member*, by (idle_since, agent id) */
    cc__ids queues;   /* queues that serve this team */
    uint32_t members; /* agents in the team */
} cc__team;

typedef struct cc__queue {
    uint32_t id;
    char *name;
    uint32_t *teams;
    uint32_t nteams;
    int64_t rona_ms, autowrap_ms;
    uint32_t default_reason, fallback;
    heap waiting; /* cc__conv*, by (qkey, id) */
    int dirty;
} cc__queue;

typedef struct cc__ep {
    uint32_t id, queue;
    char *number;
    cc_ep_flow flow; /* strings owned (cc_flow.c) */
} cc__ep;
void cc__flow_set(cc_ep_flow *dst, const cc_ep_flow *src); /* NULL: clear */
void cc__flow_free(cc_ep_flow *f);

typedef struct cc__reason {
    uint32_t id;
    char *name;
} cc__reason;

typedef struct cc__var {
    char *key, *value;
} cc__var;

typedef struct cc__conv {
    uint32_t id, ep, queue, owner, offer_to, guest;
    uint32_t transferred_by; /* the agent of the last transfer (0: none) */
    uint8_t state, conf, offer_kind, outbound, why_terminated, in_pair, number_len;
    uint32_t qpos, offer_gen, conf_gen, wrapups_due, msgs_in, msgs_out, nvars;
    int64_t qkey, opened_at, offer_deadline, conf_deadline;
    int64_t wait_deadline; /* the entry point's maximum wait ends; 0: none */
    uint8_t overflowed;    /* the maximum wait passed once already */
    char number[CC_NUMBER_MAX];
    char ep_number[CC_NUMBER_MAX]; /* kept: the entry point may be removed */
    uint8_t ep_number_len;
    char *name;
    cc__var *vars;
} cc__conv;

/* A table of entities indexed by their id. */
typedef struct cc__tab {
    void **v;
    uint32_t cap, count;
} cc__tab;

static inline void *cc__tab_get(const cc__tab *t, uint32_t id)
{
    return id < t->cap ? t->v[id] : NULL;
}
void cc__tab_set(cc__tab *t, uint32_t id, void *e);

enum cc__timer_kind { CC__T_OFFER, CC__T_CONF, CC__T_WRAP, CC__T_GRACE, CC__T_WAIT };

typedef struct cc__timer {
    int64_t due;
    uint32_t kind, conv, agent, gen;
} cc__timer;

/* Something freed at the start of the next call, so that views handed out
 * in events stay valid until then. */
typedef struct cc__grave {
    void *p;
    void (*free)(void *);
} cc__grave;

struct cc {
    cc__tab agents, teams, queues, eps, reasons, idle_reasons;
    hmap convs;      /* id -> conv */
    hmap pairs;      /* (customer number, ep) -> open conv */
    hmap ep_numbers; /* number -> ep */
    hmap seen;       /* provider message ids (owned strings) */
    hmap optouts;    /* (customer number, ep) opted out: cc__optout */
    char **seen_ring;
    size_t seen_cap, seen_head, seen_len, seen_max;

    cc__timer *timers; /* binary min-heap by due */
    size_t ntimers, captimers;

    uint32_t next_conv;
    uint64_t seq;
    uint32_t gen;
    int64_t grace_ms;

    cc__ids dirty_agents, dirty_queues;
    cc__grave *graves;
    size_t ngraves, capgraves;

    cc_events *out; /* where emitted events go; NULL in replay */
    int64_t now;
    int replaying;
};

typedef struct cc__optout {
    uint32_t ep;
    uint8_t n;
    char number[CC_NUMBER_MAX];
} cc__optout;

/* Evolve: applies one event to the state. Returns 0 or -CC_E_* when the
 * event does not fit (only possible for a corrupt log in replay). */
int cc__evolve(cc *c, const cc_event *ev);

/* Helpers shared by the files of the module. */
int cc__ready(const cc__agent *a);
cc__conv *cc__conv_find(const cc *c, uint32_t id);
cc__conv *cc__pair_find(const cc *c, const char *number, size_t n, uint32_t ep);
cc__ep *cc__ep_by_number(const cc *c, const char *number, size_t n);
cc__wrap *cc__wrap_find(const cc__agent *a, uint32_t conv);
void cc__timer_push(cc *c, int64_t due, uint32_t kind, uint32_t conv, uint32_t agent,
                    uint32_t gen);
void cc__bury(cc *c, void *p, void (*fn)(void *));
void cc__conv_free(void *p);
void cc__agent_free(void *p);
void cc__team_free(void *p);
void cc__queue_free(void *p);
void cc__ep_free(void *p);
void cc__named_free(void *p); /* wrap-up and idle reasons */
/* Whether provider message id 'id' was seen (duplicate inbound). */
int cc__seen(const cc *c, str id);
cc__optout *cc__optout_find(const cc *c, const char *number, size_t n, uint32_t ep);
int cc__conv_less(const void *a, const void *b);
void cc__conv_moved(void *e, uint32_t pos);
int cc__member_less(const void *a, const void *b);
void cc__member_moved(void *e, uint32_t pos);

#endif
