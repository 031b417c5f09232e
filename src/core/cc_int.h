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
typedef struct cc__class cc__class;
typedef struct cc__queue cc__queue;

/* An agent's place in one skill class's heap of ready agents (cc_skill.c),
 * with its match score for that class. */
typedef struct cc__smember {
    cc__agent *a;
    cc__class *k;
    uint32_t pos; /* HEAP_NONE when not in the heap */
    uint32_t score;
} cc__smember;

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
    cc_skill *skills; /* proficiencies, ascending by skill */
    uint32_t nskills;
    cc__smember **smem; /* skill classes the agent is eligible for */
    uint32_t nsmem, capsmem;
};

/* A skill class: the conversations of one queue that require the same
 * skills at the same (widened) minimums, and the agents of the queue's teams
 * eligible for them. 'req' is ascending by skill; a level of 0 means the
 * skill no longer limits who may take it (widened) but still ranks agents.
 * Classes are made when a conversation first needs one (scanning the agents
 * once) and kept while their queue is unchanged, so that routing needs only
 * heap tops (cc_skill.c). */
struct cc__class {
    cc__queue *q;
    cc_skill *req;
    uint32_t nreq;
    heap waiting;  /* cc__conv*, by (qkey, id) */
    heap ready;    /* cc__smember*, by (score desc, idle_since, agent id) */
    cc__smember **mem; /* every eligible agent, ready or not */
    uint32_t nmem, capmem;
};

typedef struct cc__team {
    uint32_t id;
    char *name;
    heap ready;       /* cc__member*, by (idle_since, agent id) */
    cc__ids queues;   /* queues that serve this team */
    uint32_t members; /* agents in the team */
} cc__team;

struct cc__queue {
    uint32_t id;
    char *name;
    uint32_t *teams;
    uint32_t nteams;
    int64_t rona_ms, autowrap_ms;
    uint32_t default_reason, fallback;
    heap waiting; /* cc__conv* that require no skill, by (qkey, id) */
    int dirty;
    cc_skill *req; /* required minimum proficiencies, ascending by skill */
    uint32_t nreq;
    int64_t widen_ms;
    cc__class **cls; /* skill classes (each with its own waiting heap) */
    uint32_t ncls, capcls;
    uint32_t nwait; /* waiting in all: 'waiting' and every class */
};

typedef struct cc__ep {
    uint32_t id, queue;
    char *number;
    cc_ep_flow flow; /* strings owned (cc_flow.c) */
} cc__ep;
void cc__flow_set(cc_ep_flow *dst, const cc_ep_flow *src); /* NULL: clear */
void cc__flow_free(cc_ep_flow *f);
int cc__flow_names_skill(const cc_ep_flow *f, uint32_t skill);

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
    uint32_t ended_by;       /* the agent who ended it (0: not ended) */
    uint8_t state, conf, offer_kind, outbound, why_terminated, in_pair, number_len;
    uint32_t qpos, offer_gen, conf_gen, wrapups_due, msgs_in, msgs_out, nvars;
    int64_t qkey, opened_at, offer_deadline, conf_deadline;
    int64_t wait_deadline; /* the entry point's maximum wait ends; 0: none */
    uint8_t overflowed;    /* the maximum wait passed once already */
    uint8_t nextra;        /* extra required skills (flow, transfer) */
    uint8_t widen;         /* levels widened while waiting in this queue */
    cc_skill *extra;
    cc__class *cls; /* the skill class it waits in (NULL: queue's plain heap) */
    char number[CC_NUMBER_MAX];
    char ep_number[CC_NUMBER_MAX]; /* kept: the entry point may be removed */
    uint8_t ep_number_len;
    char *name;
    char *sup; /* the supervisor in it (NULL: none) */
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

enum cc__timer_kind { CC__T_OFFER, CC__T_CONF, CC__T_WRAP, CC__T_GRACE, CC__T_WAIT, CC__T_WIDEN };

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
    cc__tab agents, teams, queues, eps, reasons, idle_reasons, skills;
    hmap convs;      /* id -> conv */
    hmap pairs;      /* (customer number, ep) -> open conv */
    hmap ep_numbers; /* number -> ep */
    hmap seen;       /* provider message ids (owned strings) */
    hmap optouts;    /* (customer number, ep) opted out: cc__optout */
    hmap surveys;    /* (customer number, ep) asked, not answered: cc__survey */
    char **seen_ring;
    size_t seen_cap, seen_head, seen_len, seen_max;
    int seen_forgot; /* the ring dropped an id: cc_dedupe_complete is 0 */

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

/* A satisfaction survey sent and not answered yet (replaced by the next
 * one to the same pair; an expired one is ignored). */
typedef struct cc__survey {
    uint32_t ep, conv, agent, queue;
    int64_t deadline;
    uint8_t n;
    char number[CC_NUMBER_MAX];
} cc__survey;
cc__survey *cc__survey_find(const cc *c, const char *number, size_t n, uint32_t ep);

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

/* Skill routing (cc_skill.c). A waiting conversation sits in its queue's
 * plain heap or in one skill class; these keep that, the classes and the
 * agents' class memberships right. */
#define CC__KEY_MAX (2 * CC_SKILLS_MAX)
/* The skills 'v' requires in 'q' (queue's and its own, the higher minimum
 * of each, widened by v->widen), ascending; returns how many. */
uint32_t cc__conv_key(const cc__queue *q, const cc__conv *v, cc_skill *out);
/* The highest minimum 'v' requires in 'q' before widening (0: none). */
uint32_t cc__conv_top_level(const cc__queue *q, const cc__conv *v);
/* Whether agent 'a' meets 'key' in queue 'q' (teams and skills); 'score'
 * gets the sum of its proficiencies in the key's skills. */
int cc__agent_meets(const cc__agent *a, const cc__queue *q, const cc_skill *key, uint32_t n,
                    uint32_t *score);
uint32_t cc__agent_level(const cc__agent *a, uint32_t skill);
/* How many levels 'v' is widened in 'q' at the core's time: one per full
 * widening step since its queue time, at most its highest minimum. The
 * core's time is the event's in live and in replay alike. */
uint32_t cc__widen_due(const cc *c, const cc__queue *q, const cc__conv *v);
void cc__conv_enqueue(cc *c, cc__queue *q, cc__conv *v);
void cc__conv_dequeue(cc *c, cc__conv *v);
/* The queue's teams or skills changed: every waiting conversation is
 * classed again. */
void cc__queue_reclass(cc *c, cc__queue *q);
void cc__queue_drop_classes(cc__queue *q);
/* The agent's teams or skills changed (or it is removed: 'keep' 0). */
void cc__agent_reclass(cc *c, cc__agent *a, int keep);
/* Puts the agent into its classes' ready heaps exactly when 'ready'. */
void cc__agent_sync_classes(cc__agent *a, int ready);
/* The oldest waiting conversation of 'q' (any class), or NULL. */
cc__conv *cc__queue_head(const cc__queue *q);
int cc__smember_less(const void *a, const void *b);
void cc__smember_moved(void *e, uint32_t pos);

#endif
