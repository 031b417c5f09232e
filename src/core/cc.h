/*
 * cc: the contact-center state machine. It owns agents, teams, queues, entry
 * points, wrap-up and idle reasons, and every open conversation, and decides
 * routing, offers, transfers, conferences and wrap-ups.
 *
 * It is pure: no I/O, no clock reads, no globals. Time is an argument, and
 * every state change is a typed event appended to the caller's event buffer:
 *
 *     cc_apply(c, &cmd, now, &events)   a command in, 0 or -CC_E_* back
 *     cc_tick(c, now, &events)          timeouts (RONA, auto wrap-up, ...)
 *     cc_next_deadline(c)               when cc_tick next has work
 *     cc_replay(c, &event)              rebuilds state from a stored event
 *
 * Internally a command is decided (validated, nothing changes on error) and
 * its consequences are emitted as events; each emitted event is applied by
 * the same function that cc_replay uses. So replaying the event log into an
 * empty core gives the same state as the live core (tests check it).
 *
 * Ids of agents, teams, queues, entry points and reasons are chosen by the
 * caller (1 .. CC_MAX_ID); conversation ids are assigned by the core, in
 * order, and travel in the events.
 *
 * Strings in events are borrowed views: into the command that caused them or
 * into the core's own storage. They stay valid until the next call that
 * changes the core (cc_apply, cc_tick, cc_replay) or until the command's
 * strings go away, whichever is first. Copy what you keep (cc_evlog does).
 *
 * Message text is not kept in the core: it travels in MSG_IN/MSG_OUT events
 * to the store and the outbox. The core keeps counts, not transcripts.
 */
#ifndef TEXTDESK_CORE_CC_H
#define TEXTDESK_CORE_CC_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

typedef struct cc cc;

#define CC_MAX_ID (1u << 24)
#define CC_TEXT_MAX 1000          /* agent reply, in code points */
#define CC_INBOUND_MAX (64 * 1024) /* inbound text, in bytes */
#define CC_NUMBER_MAX 32          /* customer / entry point number, bytes */
#define CC_DIGITS_MIN 3           /* a phone number's digits (cc_number_ok) */
#define CC_DIGITS_MAX 15          /* E.164's most */
#define CC_NAME_MAX 200           /* names, display names, var keys: bytes */
#define CC_VALUE_MAX 1000         /* variable values, bytes */
#define CC_VARS_MAX 32            /* variables per conversation */
#define CC_TEAMS_MAX 64           /* teams per agent or per queue */
#define CC_SKILLS_MAX 32          /* skills per agent, queue, flow or conversation */
#define CC_LEVEL_MAX 5            /* proficiency levels are 1 .. CC_LEVEL_MAX */

/* A skill with a level: an agent's proficiency, or a minimum proficiency a
 * queue, an entry point's flow or a conversation requires. */
typedef struct cc_skill {
    uint32_t skill; /* a configured skill's id */
    uint32_t level; /* 1 .. CC_LEVEL_MAX (0 inside the core: widened away) */
} cc_skill;

/* Events carry skill lists in 'ids', one skill per id: skill << 4 | level
 * (a skill id is below 2^24, a level below 16). */
static inline uint32_t cc_skill_pack(cc_skill s)
{
    return s.skill << 4 | (s.level & 15u);
}
static inline cc_skill cc_skill_unpack(uint32_t v)
{
    return (cc_skill){v >> 4, v & 15u};
}

/* Error codes: cc_apply returns 0 or the negative code. Names are stable
 * (the agent protocol sends them); messages are for people. 25 is unused:
 * it was "wrapup_due", never returned (logging out while wrap-ups are owed
 * is "busy", docs/api.md). */
#define CC_ERRORS(X)                                                            \
    X(INVALID, 1, "invalid",                                                    \
      "a field is missing, empty or out of range: send every field the "        \
      "command needs, within its range")                                        \
    X(UNKNOWN_COMMAND, 2, "unknown_command",                                    \
      "unknown command: check its name (docs/api.md lists the commands)")       \
    X(NO_AGENT, 3, "no_such_agent",                                             \
      "no such agent: check the id (the agent may have been removed)")          \
    X(NO_TEAM, 4, "no_such_team",                                               \
      "no such team: check the id, or add the team first")                      \
    X(NO_QUEUE, 5, "no_such_queue",                                             \
      "no such queue: check the id, or add the queue first")                    \
    X(NO_ENTRY_POINT, 6, "no_such_entry_point",                                 \
      "no such entry point: check the number or id, or add the entry point "    \
      "first")                                                                  \
    X(NO_CONVERSATION, 7, "no_such_conversation",                               \
      "no such open conversation: it has ended or the id is wrong; reload "     \
      "the list")                                                               \
    X(NO_REASON, 8, "no_such_reason",                                           \
      "no such wrap-up or idle reason: choose one that exists")                 \
    X(NOT_LOGGED_IN, 9, "not_logged_in",                                        \
      "the agent is not logged in: log in (open the desktop) first")            \
    X(LOGGED_IN, 10, "already_logged_in",                                       \
      "the agent is already logged in: nothing needs doing")                    \
    X(STATE, 11, "illegal_state",                                               \
      "not allowed in the agent's current state: change the state first")       \
    X(NOT_YOURS, 12, "not_your_conversation",                                   \
      "the conversation is not assigned to this agent: only the agents in "     \
      "it may do this")                                                         \
    X(NOT_OWNER, 13, "not_owner",                                               \
      "only the owning agent may do this: ask the owner")                       \
    X(NOT_OFFERED, 14, "not_offered",                                           \
      "no such offer is pending for this agent: it was withdrawn, taken or "    \
      "timed out")                                                              \
    X(NOT_ACCEPTED, 15, "not_accepted",                                         \
      "the conversation is not accepted (or has ended): accept it first")       \
    X(TERMINATED, 16, "terminated",                                             \
      "a resource this conversation needs was removed: end it")                 \
    X(NO_CAPACITY, 17, "no_capacity",                                           \
      "the agent has no free capacity: end or transfer a conversation first")   \
    X(TARGET_UNAVAILABLE, 18, "target_unavailable",                             \
      "the target agent is not available or has no free capacity: choose "      \
      "another")                                                                \
    X(CONFERENCE, 19, "conference_busy",                                        \
      "not allowed while a conference is requested or active: end or cancel "   \
      "the conference first")                                                   \
    X(NO_CONFERENCE, 20, "no_conference",                                       \
      "no such conference request or guest: there is nothing to answer, "       \
      "cancel or leave")                                                        \
    X(TEXT_EMPTY, 21, "text_empty", "the text is empty: write something")       \
    X(TEXT_TOO_LONG, 22, "text_too_long",                                       \
      "the text is too long: a reply or note takes at most 1000 characters "    \
      "(an inbound SMS 64 KiB): shorten it")                                    \
    X(UTF8, 23, "invalid_utf8",                                                 \
      "the text is not valid UTF-8: send it encoded as UTF-8")                  \
    X(NO_WRAPUP, 24, "no_wrapup_due",                                           \
      "no wrap-up is due for this conversation: end it first (or it is "        \
      "wrapped up already)")                                                    \
    X(BUSY, 26, "busy",                                                         \
      "the agent still holds conversations or wrap-ups: end and wrap them "     \
      "up first")                                                               \
    X(IN_USE, 27, "in_use",                                                     \
      "the resource is still referenced: change or remove what refers to it "   \
      "first")                                                                  \
    X(EXISTS, 28, "exists",                                                     \
      "an open conversation with this customer exists: continue in that one")   \
    X(SAME_AGENT, 29, "same_agent",                                             \
      "the target is the acting agent: choose another agent")                   \
    X(LIMIT, 30, "limit",                                                       \
      "a size limit was reached: finish or remove something first")             \
    X(OPTED_OUT, 31, "opted_out",                                               \
      "the customer has opted out (STOP): nothing may be sent until they "      \
      "opt back in")                                                            \
    X(STORE, 32, "store_unavailable",                                           \
      "the server cannot save changes right now (disk full or database "        \
      "locked); nothing was changed: try again in a moment")                    \
    X(NO_SKILL, 33, "no_such_skill",                                            \
      "no such skill: check the id, or add the skill first")                    \
    X(SUPERVISOR, 34, "supervisor_present",                                     \
      "another supervisor is already in this conversation: wait until they "    \
      "leave")                                                                  \
    X(NOT_SUPERVISING, 35, "not_supervising",                                   \
      "the supervisor is not in this conversation: join it first")

/* CC_E_STORE is never returned by the core itself: the application returns
 * it while its store refuses writes (app.h, "degraded"), and the protocol
 * carries it like the others. */

enum cc_err {
#define X(name, num, code, msg) CC_E_##name = num,
    CC_ERRORS(X)
#undef X
};
/* Returned (positive) by cc_apply for an inbound message whose provider
 * message id was already seen: nothing changed, ack the gateway again. */
#define CC_DUPLICATE 1

/* Stable code ("no_capacity") for a cc_apply result: "ok", "duplicate" or
 * the error's name. */
const char *cc_err_code(int err);
/* Human message for a cc_apply result. */
const char *cc_err_msg(int err);

enum cc_agent_state {
    CC_AGENT_LOGGED_OUT,
    CC_AGENT_IDLE,
    CC_AGENT_AVAILABLE,
    CC_AGENT_RONA,
};

enum cc_conv_state {
    CC_CONV_QUEUED,     /* waiting in a queue */
    CC_CONV_OFFERED,    /* offered to one agent (routing or transfer) */
    CC_CONV_ASSIGNED,   /* accepted: an owner (and maybe a conference guest) */
    CC_CONV_TERMINATED, /* a resource was removed: owner must end it */
    CC_CONV_WRAPUP,     /* ended; wrap-ups still due */
    CC_CONV_CLOSED,     /* gone from the core (only seen in events) */
};

enum cc_conf_state { CC_CONF_NONE, CC_CONF_REQUESTED, CC_CONF_ACTIVE };

enum cc_offer_kind { CC_OFFER_ROUTE, CC_OFFER_TRANSFER };

/* Why something happened: travels in event 'code'. */
enum cc_why {
    CC_WHY_NONE,
    CC_WHY_NEW,           /* first queued */
    CC_WHY_TIMEOUT,       /* offer / invite not answered in time (RONA) */
    CC_WHY_DECLINED,      /* agent declined */
    CC_WHY_AGENT_AWAY,    /* agent logged out, went RONA or disconnected */
    CC_WHY_TRANSFER,      /* transferred to a queue */
    CC_WHY_GRACE,         /* agent disconnected longer than the grace period */
    CC_WHY_AGENT_REMOVED, /* administrator removed the agent */
    CC_WHY_QUEUE_REMOVED, /* administrator removed the queue */
    CC_WHY_EP_REMOVED,    /* administrator removed the entry point */
    CC_WHY_ENDED,         /* the conversation was ended */
    CC_WHY_AUTO,          /* auto wrap-up */
    CC_WHY_OUT_OF_HOURS,  /* arrived outside the entry point's business hours */
    CC_WHY_OVERFLOW,      /* waited longer than the entry point's maximum */
    CC_WHY_CANCELLED,     /* the owner withdrew a conference request */
    CC_WHY_SUPERVISOR,    /* a supervisor set it (FORCE_STATE) */
};
const char *cc_why_name(int why);

/* Commands. X(NAME, "wire name", flags): append new commands at the END.
 * Flags: CC_CMDF_AGENT, an agent may send it from the desktop (the
 * agent's WebSocket: api_parse refuses a core command without it, and
 * fuzz_agent_cmd checks the same flag): cc_cmd_is_agent. */
#define CC_CMDF_AGENT 1
#define CC_COMMANDS(X)                                                      \
    X(TEAM_PUT, "team_put", 0)                                              \
    X(QUEUE_PUT, "queue_put", 0)                                            \
    X(AGENT_PUT, "agent_put", 0)                                            \
    X(EP_PUT, "entry_point_put", 0)                                         \
    X(REASON_PUT, "wrapup_reason_put", 0)                                   \
    X(IDLE_REASON_PUT, "idle_reason_put", 0)                                \
    X(SETTINGS, "settings", 0)                                              \
    X(TEAM_REMOVE, "team_remove", 0)                                        \
    X(QUEUE_REMOVE, "queue_remove", 0)                                      \
    X(AGENT_REMOVE, "agent_remove", 0)                                      \
    X(EP_REMOVE, "entry_point_remove", 0)                                   \
    X(REASON_REMOVE, "wrapup_reason_remove", 0)                             \
    X(IDLE_REASON_REMOVE, "idle_reason_remove", 0)                          \
    X(LOGIN, "login", 0)                                                    \
    X(LOGOUT, "logout", 0)                                                  \
    X(DISCONNECT, "disconnect", 0)                                          \
    X(RECONNECT, "reconnect", 0)                                            \
    X(SET_STATE, "set_state", CC_CMDF_AGENT)                                \
    X(SMS_IN, "sms_in", 0)                                                  \
    X(ACCEPT, "accept", CC_CMDF_AGENT)                                      \
    X(DECLINE, "decline", CC_CMDF_AGENT)                                    \
    X(SEND, "send", CC_CMDF_AGENT)                                          \
    X(OUTBOUND, "outbound", CC_CMDF_AGENT)                                  \
    X(TRANSFER_QUEUE, "transfer_queue", CC_CMDF_AGENT)                      \
    X(TRANSFER_AGENT, "transfer_agent", CC_CMDF_AGENT)                      \
    X(CONF_INVITE, "conference_invite", CC_CMDF_AGENT)                      \
    X(CONF_ACCEPT, "conference_accept", CC_CMDF_AGENT)                      \
    X(CONF_DECLINE, "conference_decline", CC_CMDF_AGENT)                    \
    X(CONF_EXIT, "conference_exit", CC_CMDF_AGENT)                          \
    X(END, "end", CC_CMDF_AGENT)                                            \
    X(WRAPUP, "wrapup", CC_CMDF_AGENT)                                      \
    X(SET_VAR, "set_variable", CC_CMDF_AGENT)                               \
    X(SET_NAME, "set_display_name", 0)                                      \
    X(RESTART, "restart", 0)                                                \
    X(CONF_CANCEL, "conference_cancel", CC_CMDF_AGENT)                      \
    X(SKILL_PUT, "skill_put", 0)                                            \
    X(SKILL_REMOVE, "skill_remove", 0)                                      \
    X(FORCE_STATE, "force_state", 0)                                        \
    X(NOTE, "note", CC_CMDF_AGENT)                                          \
    X(BARGE, "barge", 0)                                                    \
    X(TAKE_OVER, "take_over", 0)                                            \
    X(SUP_LEAVE, "supervisor_leave", 0)

enum cc_cmd_type {
#define X(name, wire, flags) CC_CMD_##name,
    CC_COMMANDS(X)
#undef X
    CC_CMD__COUNT
};
const char *cc_cmd_name(int type);
/* 1: 'type' is an agent's command (CC_CMDF_AGENT). */
int cc_cmd_is_agent(int type);

/*
 * A command. One flat struct: each command reads the fields listed here and
 * ignores the rest (zero them; designated initializers do).
 *
 *  TEAM_PUT        team, name
 *  QUEUE_PUT       queue, name, ids/n_ids (teams served), rona_ms (0: 30 s),
 *                  autowrap_ms (0: none), reason (default wrap-up reason,
 *                  required with autowrap_ms), fallback (queue or 0),
 *                  skills/n_skills (required minimum proficiencies),
 *                  widen_ms (0: no widening; else every widen_ms a waiting
 *                  conversation's minimums drop one level, down to none)
 *  AGENT_PUT       agent, name, ids/n_ids (teams), capacity (0: 3),
 *                  skills/n_skills (proficiencies)
 *  SKILL_PUT       skill, name
 *  SKILL_REMOVE    skill (refused while an agent, a queue, a flow or an open
 *                  conversation names it)
 *  EP_PUT          ep, number (the business number), queue, flow (or NULL)
 *  REASON_PUT      reason, name           (wrap-up reason)
 *  IDLE_REASON_PUT reason, name
 *  SETTINGS        grace_ms (disconnect grace; 0: 120 s)
 *  *_REMOVE        the id field of that kind
 *  LOGIN/LOGOUT/DISCONNECT/RECONNECT   agent
 *  SET_STATE       agent, state (CC_AGENT_AVAILABLE or CC_AGENT_IDLE), reason
 *                  (idle reason, for IDLE)
 *  SMS_IN          number (customer), ep_number (business number), text,
 *                  msg_id (provider message id; empty: none), name (optional
 *                  display name), keyword (CC_KW_*: the caller classified
 *                  the text as an opt-out keyword; the core stays free of
 *                  SMS rules)
 *  ACCEPT/DECLINE  agent, conv
 *  SEND            agent, conv, text
 *  OUTBOUND        agent, ep, number
 *  TRANSFER_QUEUE  agent, conv, queue, skills/n_skills (optional: skills the
 *                  conversation requires from now on, added to those it has)
 *  TRANSFER_AGENT  agent, conv, target
 *  CONF_INVITE     agent (owner), conv, target
 *  CONF_ACCEPT/CONF_DECLINE/CONF_EXIT   agent (the guest), conv
 *  CONF_CANCEL     agent (owner), conv: withdraws a conference request the
 *                  invited agent has not answered yet (CONF_CANCELLED with
 *                  code CANCELLED; the invited agent is not put in RONA)
 *  END             agent (owner), conv
 *  WRAPUP          agent, conv, reason
 *  SET_VAR         agent, conv, key, value
 *  SET_NAME        agent, conv, name
 *  FORCE_STATE     agent, state (CC_AGENT_IDLE with reason (0: plain idle),
 *                  or CC_AGENT_LOGGED_OUT), name (the supervisor: 1 ..
 *                  CC_NAME_MAX bytes), text (why, for the agent: at most
 *                  CC_NAME_MAX bytes, may be empty). A supervisor sets an
 *                  agent's state: the agent must be logged in; logging out
 *                  is refused (busy) while the agent holds conversations or
 *                  owes wrap-ups (take them over first), pending offers are
 *                  withdrawn as on a logout. Emits SUPERVISED, then
 *                  AGENT_STATE with code SUPERVISOR when the state changes.
 *  NOTE            conv, text (CC_TEXT_MAX code points), and either agent (an
 *                  agent in the conversation while a conference is active
 *                  or a supervisor is in it) or agent 0 and name (a
 *                  supervisor: any open conversation not yet ended). An
 *                  internal note (whisper): agents and supervisors see it,
 *                  the customer never does (no MSG_OUT). Emits NOTE.
 *  BARGE           conv, name (the supervisor): joins an accepted
 *                  conversation as its supervisor participant (one at a
 *                  time: supervisor_present). Emits SUP_JOINED.
 *  TAKE_OVER       conv, name: the supervisor takes an accepted
 *                  conversation from its owner (refused while a conference
 *                  is requested or active); the owner is released without
 *                  a wrap-up and the supervisor is its only handler.
 *                  Emits TAKEN_OVER.
 *  SUP_LEAVE       conv, name: the supervisor leaves a conversation it
 *                  joined (one it took over must be ended). Emits SUP_LEFT.
 *  SEND, END with agent 0 and name: the supervisor in the conversation
 *                  writes to the customer (MSG_OUT with agent 0 and name);
 *                  ends one it took over (ENDED with agent 0 and name;
 *                  nobody owes a wrap-up, no survey).
 *  RESTART         (none) the process restarted: every pending offer and
 *                  invite is withdrawn (re-queued, no RONA) and every
 *                  logged-in agent counts as disconnected until its desktop
 *                  reconnects (the grace period runs from now)
 */
/*
 * An entry point's flow (EP_PUT's 'flow'; NULL or all zero: none):
 *  - welcome: sent to the customer when a conversation opens in hours;
 *  - business hours: a weekly schedule of up to CC_HOURS_SPANS spans a day
 *    in local time under 'tz_rule' (a POSIX TZ rule, see tz.h; 'tz_name' is
 *    the IANA name it came from, kept for display), minus 'holidays'
 *    (local dates, yyyymmdd). Outside them a new conversation gets
 *    'closed_text' and is queued as usual (CC_CLOSED_QUEUE) or closed at
 *    once (CC_CLOSED_CLOSE);
 *  - max_wait_ms: a conversation opened in hours and not yet accepted that
 *    has waited this long overflows once: it moves to 'overflow_queue'
 *    (0: it stays) and the customer gets 'overflow_text' (empty: nothing);
 *  - skills: every conversation it opens requires these (on top of its
 *    queue's); 'words': when the first message contains one of these words
 *    (whole word, ASCII letters in any case), the conversation also requires
 *    that word's skill (a language, a product). Together at most
 *    CC_SKILLS_MAX;
 *  - survey (customer satisfaction): when a conversation the customer
 *    opened closes after its wrap-ups, the customer gets 'survey_text'
 *    (unless opted out). Their next SMS within 'survey_window_ms' that
 *    starts with a score 1-5 ("4", "4 tack, snabbt!") is recorded against
 *    the closed conversation (CSAT_ANSWERED; the rest of the text is the
 *    comment) and opens nothing; a keyword (STOP, ...), anything else or a
 *    late answer takes the usual path.
 * Automatic replies are MSG_OUT events with agent 0; none goes to a
 * customer who has opted out of the entry point.
 */
#define CC_HOURS_SPANS 4
#define CC_HOLIDAYS_MAX 64
#define CC_FLOW_TEXT_MAX 1000 /* code points, like an agent's reply */
#define CC_FLOW_WORDS_MAX 16
enum cc_closed_action { CC_CLOSED_QUEUE, CC_CLOSED_CLOSE };
typedef struct cc_flow_word {
    str word;       /* 1 .. CC_NAME_MAX bytes of UTF-8, no blank */
    cc_skill skill; /* required when the word appears */
} cc_flow_word;
typedef struct cc_ep_flow {
    str welcome, closed_text, overflow_text;
    int hours;         /* 1: business hours apply */
    str tz_name, tz_rule;
    /* week[d][i] = {start, end} minutes of the day, start < end <= 1440,
     * d = 0 Monday .. 6 Sunday; {0, 0}: unused */
    uint16_t week[7][CC_HOURS_SPANS][2];
    uint32_t holidays[CC_HOLIDAYS_MAX];
    size_t n_holidays;
    int closed_action;
    int64_t max_wait_ms;
    uint32_t overflow_queue;
    /* The id of the gateway its replies go through (at most
     * CC_GATEWAY_ID_MAX bytes; empty: the first configured). The core only
     * keeps it: which gateways exist is the application's business. */
    str gateway;
    cc_skill skills[CC_SKILLS_MAX];
    size_t n_skills;
    cc_flow_word words[CC_FLOW_WORDS_MAX];
    size_t n_words;
    int survey;       /* 1: ask for a score after wrap-up */
    str survey_text;  /* the question (1 .. CC_FLOW_TEXT_MAX code points) */
    int64_t survey_window_ms; /* how long an answer counts (1 s .. 7 days) */
} cc_ep_flow;
#define CC_GATEWAY_ID_MAX 32

/* Keyword classes of an inbound message (SMS_IN's 'keyword'). */
enum cc_keyword { CC_KW_NONE, CC_KW_STOP, CC_KW_START, CC_KW_HELP };

typedef struct cc_cmd {
    int type;
    int keyword;
    uint32_t agent, conv, queue, team, ep, reason, target, fallback;
    uint32_t capacity;
    int state;
    int64_t rona_ms, autowrap_ms, grace_ms;
    const uint32_t *ids;
    size_t n_ids;
    str name, number, ep_number, text, msg_id, key, value;
    const cc_ep_flow *flow;
    uint32_t skill;
    const cc_skill *skills;
    size_t n_skills;
    int64_t widen_ms;
} cc_cmd;

/* Events. X(NAME, "wire name", flags). The store keeps each event's
 * number: add new events at the END of the list, never in between or
 * reordered. Flags: CC_EVF_NOTE, a system note of the conversation's
 * transcript (the desktop's system lines, the store's notes: the one
 * declaration, cc_ev_is_note). */
#define CC_EVF_NOTE 1
#define CC_EVENTS(X)                                                        \
    X(TEAM_PUT, "team_put", 0)                                              \
    X(QUEUE_PUT, "queue_put", 0)                                            \
    X(AGENT_PUT, "agent_put", 0)                                            \
    X(EP_PUT, "entry_point_put", 0)                                         \
    X(REASON_PUT, "wrapup_reason_put", 0)                                   \
    X(IDLE_REASON_PUT, "idle_reason_put", 0)                                \
    X(SETTINGS, "settings", 0)                                              \
    X(TEAM_REMOVED, "team_removed", 0)                                      \
    X(QUEUE_REMOVED, "queue_removed", 0)                                    \
    X(AGENT_REMOVED, "agent_removed", 0)                                    \
    X(EP_REMOVED, "entry_point_removed", 0)                                 \
    X(REASON_REMOVED, "wrapup_reason_removed", 0)                           \
    X(IDLE_REASON_REMOVED, "idle_reason_removed", 0)                        \
    X(AGENT_STATE, "agent_state", 0)                                        \
    X(AGENT_CONNECTED, "agent_connected", 0)                                \
    X(CONV_OPENED, "conversation_opened", 0)                                \
    X(MSG_IN, "message_in", 0)                                              \
    X(MSG_OUT, "message_out", 0)                                            \
    X(QUEUED, "queued", CC_EVF_NOTE)                                        \
    X(OFFERED, "offered", 0)                                                \
    X(OFFER_WITHDRAWN, "offer_withdrawn", 0)                                \
    X(ACCEPTED, "accepted", 0)                                              \
    X(TRANSFERRED, "transferred", CC_EVF_NOTE)                              \
    X(OWNER_CHANGED, "owner_changed", CC_EVF_NOTE)                          \
    X(CONF_REQUESTED, "conference_requested", 0)                            \
    X(CONF_JOINED, "conference_joined", CC_EVF_NOTE)                        \
    X(CONF_CANCELLED, "conference_cancelled", 0)                            \
    X(CONF_LEFT, "conference_left", CC_EVF_NOTE)                            \
    X(ENDED, "ended", 0)                                                    \
    X(WRAPUP_DUE, "wrapup_due", 0)                                          \
    X(WRAPPED_UP, "wrapped_up", 0)                                          \
    X(TERMINATED, "terminated", CC_EVF_NOTE)                                \
    X(CLOSED, "closed", 0)                                                  \
    X(VAR_SET, "variable_set", 0)                                           \
    X(NAME_SET, "display_name_set", 0)                                      \
    X(OPTED_OUT, "opted_out", CC_EVF_NOTE)                                  \
    X(OPTED_IN, "opted_in", CC_EVF_NOTE)                                    \
    X(OVERFLOWED, "overflowed", 0)                                          \
    X(SKILL_PUT, "skill_put", 0)                                            \
    X(SKILL_REMOVED, "skill_removed", 0)                                    \
    X(AGENT_SKILLS, "agent_skills", 0)                                      \
    X(QUEUE_SKILLS, "queue_skills", 0)                                      \
    X(CONV_SKILLS, "conversation_skills", 0)                                \
    X(WIDENED, "widened", 0)                                                \
    X(CSAT_ASKED, "csat_asked", 0)                                          \
    X(CSAT_ANSWERED, "csat_answered", 0)                                    \
    X(SUPERVISED, "supervised", 0)                                          \
    X(NOTE, "note", CC_EVF_NOTE)                                            \
    X(SUP_JOINED, "supervisor_joined", CC_EVF_NOTE)                         \
    X(TAKEN_OVER, "taken_over", CC_EVF_NOTE)                                \
    X(SUP_LEFT, "supervisor_left", CC_EVF_NOTE)

enum cc_ev_type {
#define X(name, wire, flags) CC_EV_##name,
    CC_EVENTS(X)
#undef X
    CC_EV__COUNT
};
const char *cc_ev_name(int type);
/* Whether events of 'type' are system notes of the transcript. */
int cc_ev_is_note(int type);

/*
 * An event. 'seq' numbers every event of a core from 1 upwards; 'at' is the
 * time of the command or tick that caused it. Fields by type:
 *
 *  *_PUT, SETTINGS  the command's fields, as accepted (defaults filled in)
 *  *_REMOVED        the id field of that kind
 *  AGENT_STATE      agent, state, reason (idle reason), code (why: TIMEOUT
 *                   when the system set RONA)
 *  AGENT_CONNECTED  agent, state (1 connected, 0 disconnected), deadline
 *                   (grace end, when disconnected)
 *  CONV_OPENED      conv, ep, queue, number, ep_number, name, kind (1 =
 *                   outbound), agent (outbound: the agent)
 *  MSG_IN           conv, number, ep_number, text, msg_id, msg_seq
 *  MSG_OUT          conv, agent, number, ep_number, text, msg_seq
 *  QUEUED           conv, queue, key (queue order), code (why)
 *  OFFERED          conv, agent, queue, kind (cc_offer_kind), deadline,
 *                   number, ep_number, queue_name
 *  OFFER_WITHDRAWN  conv, agent, code (why)
 *  ACCEPTED         conv, agent, kind
 *  TRANSFERRED      conv, agent (from), queue or target (to)
 *  OWNER_CHANGED    conv, agent (old owner), target (new owner), code
 *  CONF_REQUESTED   conv, agent (owner), target (invited), deadline
 *  CONF_JOINED      conv, target
 *  CONF_CANCELLED   conv, target, code (DECLINED, TIMEOUT, ENDED, CANCELLED
 *                   by the owner, ...)
 *  CONF_LEFT        conv, target, code
 *  ENDED            conv, agent
 *  WRAPUP_DUE       conv, agent, queue, deadline (auto wrap-up; 0: none)
 *  WRAPPED_UP       conv, agent, reason (0 when dropped), code (NONE, AUTO,
 *                   AGENT_REMOVED)
 *  TERMINATED       conv, code (EP_REMOVED or QUEUE_REMOVED)
 *  CLOSED           conv, code
 *  VAR_SET          conv, agent, key, value
 *  NAME_SET         conv, agent, name
 *  OPTED_OUT        conv, ep, number (the customer sent a STOP keyword: no
 *                   message may be sent to it from that entry point)
 *  OPTED_IN         conv, ep, number (a START keyword)
 *  OVERFLOWED       conv, queue (where it moves; 0: it stays), code
 *                   (OVERFLOW): the entry point's maximum wait passed
 *  SUPERVISED       agent, kind (1: force state), state, reason, name (the
 *                   supervisor), text (why): a supervisor's action, the
 *                   audit record (who: name, when: at, what: the rest);
 *                   changes nothing by itself
 *  NOTE             conv, agent (the author; 0: a supervisor), name (the
 *                   supervisor), text: an internal note, never sent
 *  SUP_JOINED       conv, agent (the owner then), name (the supervisor)
 *  TAKEN_OVER       conv, agent (the owner, released), name (the supervisor)
 *  SUP_LEFT         conv, name
 *                   A supervisor's presence also ends, without an event,
 *                   when the conversation ends, is transferred or goes back
 *                   to a queue.
 *  SKILL_PUT        target (the skill's id), name
 *  SKILL_REMOVED    target (the skill's id)
 *  AGENT_SKILLS     agent, ids (packed skills: its proficiencies). Follows
 *                   AGENT_PUT, which clears them (none: no AGENT_SKILLS)
 *  QUEUE_SKILLS     queue, ids (packed skills: minimum proficiencies), key
 *                   (widening step in ms, 0: none). Follows QUEUE_PUT, which
 *                   clears both
 *  CONV_SKILLS      conv, agent (who added them; 0: the entry point's flow),
 *                   ids (packed: every extra skill the conversation requires,
 *                   replacing the previous list)
 *  WIDENED          conv, queue, kind (levels dropped so far: each required
 *                   minimum is now lower by that much; at or below 0 the
 *                   skill only ranks agents)
 *  CSAT_ASKED       conv (closing), ep, number, ep_number, agent (who ended
 *                   it), queue, deadline (the answer window ends); the
 *                   survey's MSG_OUT follows, then CLOSED
 *  CSAT_ANSWERED    conv (the closed one asked), ep, number, ep_number,
 *                   agent, queue (as asked), reason (the score 1-5), text
 *                   (the comment after the score; may be empty), msg_id
 *
 * Conversation events that the entry point's flow causes: the first QUEUED
 * (code NEW) carries 'deadline' = when the maximum wait ends (0: none); out
 * of hours the first QUEUED has code OUT_OF_HOURS (no maximum wait), or,
 * when the flow closes such conversations, CLOSED with code OUT_OF_HOURS
 * comes right after the first message (and the automatic reply).
 */
typedef struct cc_event {
    int type;
    uint64_t seq;
    int64_t at;
    uint32_t conv, agent, target, queue, team, ep, reason, fallback;
    uint32_t capacity, msg_seq;
    int state, kind, code;
    int64_t deadline, key, rona_ms, autowrap_ms, grace_ms;
    const uint32_t *ids;
    size_t n_ids;
    str name, number, ep_number, text, msg_id, var_key, value, queue_name;
    const cc_ep_flow *flow; /* EP_PUT: the flow (NULL: none) */
} cc_event;

/* A growable buffer of events, owned by the caller. cc_apply and cc_tick
 * append; the caller empties it with cc_events_clear. */
typedef struct cc_events {
    cc_event *v;
    size_t n, cap;
} cc_events;

void cc_events_init(cc_events *e);
void cc_events_clear(cc_events *e);
void cc_events_free(cc_events *e);

/* An owned copy of events (strings and id lists copied), for replay tests
 * and anything that keeps events past the next core call. */
typedef struct cc_evlog {
    cc_event *v;
    size_t n, cap;
} cc_evlog;

void cc_evlog_init(cc_evlog *l);
void cc_evlog_add(cc_evlog *l, const cc_event *ev);
void cc_evlog_free(cc_evlog *l);

cc *cc_new(void);
void cc_free(cc *c);

/* Applies 'cmd' at time 'now' (milliseconds, any epoch, never going back).
 * Returns 0 and appends the resulting events to 'out'; returns CC_DUPLICATE
 * for an already seen inbound message (no events); or returns -CC_E_* and
 * changes nothing (no events). */
int cc_apply(cc *c, const cc_cmd *cmd, int64_t now, cc_events *out);

/* Fires every timeout due at or before 'now' (offer and invite timeouts,
 * auto wrap-ups, disconnect grace), appending events to 'out'. */
void cc_tick(cc *c, int64_t now, cc_events *out);

/* The earliest time cc_tick may have work, or INT64_MAX. It may be early
 * (a cancelled timer): cc_tick then does nothing. */
int64_t cc_next_deadline(const cc *c);

/* Applies one event from a log (as cc_apply emitted it) to rebuild state.
 * Returns 0, or -CC_E_* when the event does not fit the current state (a
 * corrupt or reordered log). */
int cc_replay(cc *c, const cc_event *ev);

/* Read-only views. */
typedef struct cc_agent_view {
    uint32_t id;
    str name;
    int state;           /* cc_agent_state */
    uint32_t idle_reason;
    int connected;
    uint32_t capacity, load, reserved; /* load: held + wrap-ups; reserved: offers */
    int engaged;         /* derived: load > 0 */
    int64_t state_since;
} cc_agent_view;

typedef struct cc_conv_view {
    uint32_t id, ep, queue, owner, offered_to, guest;
    str supervisor; /* the supervisor in it (barged in or took over), or empty */
    uint32_t transferred_by; /* the agent of the last transfer, 0 if none */
    int state, conf_state, offer_kind, outbound, terminated;
    int opted_out; /* the customer sent STOP to this entry point */
    str number, ep_number, name;
    int64_t opened_at, offer_deadline;
    int64_t queued_at; /* queue order key (first queue time) */
    uint32_t widened;  /* levels its skill minimums dropped while waiting */
    uint32_t msgs_in, msgs_out, wrapups_due;
} cc_conv_view;

int cc_agent_get(const cc *c, uint32_t id, cc_agent_view *out);
/* 1 while the core remembers every provider message id of its event log
 * (its de-duplication window never dropped one), so a repeated inbound SMS
 * is known without asking the store; 0 once one was dropped. */
int cc_dedupe_complete(const cc *c);
/* The teams of 'agent' into 'out'; returns how many (may exceed 'max'). */
size_t cc_agent_teams(const cc *c, uint32_t agent, uint32_t *out, size_t max);

typedef struct cc_queue_view {
    uint32_t id;
    str name;
    const uint32_t *teams;
    size_t n_teams;
    int64_t rona_ms, autowrap_ms;
    uint32_t default_reason, fallback;
    size_t waiting;
    int64_t oldest_key; /* queue time of the head, 0 when empty */
    const cc_skill *skills; /* required minimum proficiencies */
    size_t n_skills;
    int64_t widen_ms;
} cc_queue_view;
int cc_queue_get(const cc *c, uint32_t id, cc_queue_view *out);
/* The queue of entry point 'ep' (0 when none). */
uint32_t cc_ep_queue(const cc *c, uint32_t ep);
/* The entry point whose business number is 'number', or 0. */
uint32_t cc_ep_by_number(const cc *c, str number);
/* The flow of entry point 'ep' (views into the core, valid until the next
 * call that changes it). Returns 0, or -CC_E_NO_ENTRY_POINT. */
int cc_ep_flow_get(const cc *c, uint32_t ep, cc_ep_flow *out);
/* Whether 'flow' has its business hours open at 'now' (ms since the Unix
 * epoch, UTC). A flow without hours is always open. */
int cc_flow_open(const cc_ep_flow *flow, int64_t now);
/* The skills a conversation opened by 'text' on an entry point with 'flow'
 * requires (flow skills and matched words; the higher level of a skill
 * named twice), ascending by skill. Returns how many (<= CC_SKILLS_MAX). */
size_t cc_flow_skills(const cc_ep_flow *flow, str text, cc_skill *out);
/* What a number may be where it enters (the one rule: the core's commands,
 * the configuration file, the admin API and the desktop's protocol).
 *   CC_NUMBER_PHONE   a number an SMS can be sent to or from: an optional
 *                     '+' then CC_DIGITS_MIN to CC_DIGITS_MAX digits
 *                     ("+46701234567", a short code "71000"): an agent's
 *                     outbound number, an entry point's business number, an
 *                     inbound SMS's sender (a reply must be able to go back;
 *                     a refused SMS is kept among the inbound orphans)
 *   CC_NUMBER_SENDER  a number as stored, looked up for export or erasure:
 *                     1 to CC_NUMBER_MAX printable ASCII characters without
 *                     blanks (a store written before the rule may hold
 *                     others) */
enum cc_number_kind { CC_NUMBER_PHONE, CC_NUMBER_SENDER };
/* 1 when 's' is a number of 'kind', else 0. */
int cc_number_ok(str s, enum cc_number_kind kind);
/* Checks a flow's own fields (spans, dates, texts, rule). Returns 0 or
 * -CC_E_INVALID; 'what' gets the name of the bad field. */
int cc_flow_check(const cc_ep_flow *flow, const char **what);
int cc_conv_get(const cc *c, uint32_t id, cc_conv_view *out);
/* Returns the value of variable 'key' of 'conv', or an empty view. */
str cc_conv_var(const cc *c, uint32_t conv, str key);
/* The variables of 'conv' in the order they were first set; returns how
 * many (may exceed 'max'). */
size_t cc_conv_vars(const cc *c, uint32_t conv, str *keys, str *values, size_t max);
/* The survey awaiting customer 'number' on entry point 'ep': 1 with the
 * asked conversation and the window's end, or 0. */
int cc_survey_pending(const cc *c, str number, uint32_t ep, uint32_t *conv, int64_t *deadline);
/* Whether customer 'number' has opted out of entry point 'ep'. */
int cc_opted_out(const cc *c, str number, uint32_t ep);
/* The open conversation of customer 'number' on entry point 'ep', or 0. */
uint32_t cc_conv_of(const cc *c, str number, uint32_t ep);
/* Number of conversations waiting in 'queue' (-CC_E_NO_QUEUE if none). */
long cc_queue_depth(const cc *c, uint32_t queue);
/* Number of open conversations. */
size_t cc_conv_count(const cc *c);
/* Ids of the open conversations, ascending; returns how many (may exceed
 * 'max'). */
size_t cc_conv_list(const cc *c, uint32_t *out, size_t max);
/* Whether 'agent' owes a wrap-up for 'conv'. */
int cc_wrapup_due(const cc *c, uint32_t agent, uint32_t conv);
/* Deadline of the wrap-up 'agent' owes for 'conv': 0 when there is no
 * auto wrap-up, -1 when none is due. */
int64_t cc_wrapup_deadline(const cc *c, uint32_t agent, uint32_t conv);
/* Conversations 'agent' is involved in (holds, is offered or invited to,
 * owes a wrap-up for), ascending. Returns how many (may exceed 'max'). */
size_t cc_agent_convs(const cc *c, uint32_t agent, uint32_t *out, size_t max);

/* The skills of 'agent' (its proficiencies), ascending by skill; returns
 * how many (may exceed 'max'). */
size_t cc_agent_skills(const cc *c, uint32_t agent, cc_skill *out, size_t max);
/* The extra skills 'conv' requires (from its flow or a transfer), ascending
 * by skill; returns how many (may exceed 'max'). */
size_t cc_conv_skills(const cc *c, uint32_t conv, cc_skill *out, size_t max);
/* Whether 'agent' may be offered waiting conversation 'conv' once ready:
 * in a team its queue serves and proficient enough in every skill the
 * queue and the conversation require, after widening. Computed by scanning
 * (the reference the routing index is tested against). */
int cc_eligible(const cc *c, uint32_t agent, uint32_t conv);

/* Configured entities, for lists on desktops and admin pages. */
enum cc_kind { CC_KIND_TEAM, CC_KIND_QUEUE, CC_KIND_EP, CC_KIND_REASON, CC_KIND_IDLE_REASON,
               CC_KIND_AGENT, CC_KIND_SKILL };
typedef struct cc_item {
    uint32_t id;
    str name; /* for entry points: the number */
} cc_item;
/* Items of 'kind' in id order. Returns how many (may exceed 'max'). */
size_t cc_list(const cc *c, int kind, cc_item *out, size_t max);
/* Name of one item (empty view if none). */
str cc_name(const cc *c, int kind, uint32_t id);

/* Ids of agents that may receive a transfer or conference invite from
 * 'agent' right now (Available, connected, free capacity, not 'agent'),
 * ascending. Returns how many there are (may exceed 'max'). */
size_t cc_transfer_targets(const cc *c, uint32_t agent, uint32_t *out, size_t max);

/* Appends a one-line rendering of 'ev' ("#12 offered conv=3 agent=1 ...",
 * only the fields its type uses, text quoted) to 'out', for logs and the
 * self-check. */
struct buf;
void cc_event_format(const cc_event *ev, struct buf *out);

/* A canonical text rendering of the whole state (malloc'd; free it). Two
 * cores in the same state render the same text. */
char *cc_dump(const cc *c);

/* Checks internal invariants. Returns 0, or -1 with a description in 'err'. */
int cc_check(const cc *c, char *err, size_t n);

#endif
