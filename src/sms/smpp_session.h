/*
 * smpp_session: one SMPP 3.4 ESME link (bind_transceiver) as a pure state
 * machine. It owns the bind, the enquire_link keep-alive, the window of
 * outstanding submit_sm, the messages-per-second throttle, response
 * timeouts, the reconnect backoff schedule, the splitting of outbound text
 * into submit_sm PDUs (sms_text: 8-bit-reference UDH 05 00 03, or one
 * message_payload PDU), the reassembly of concatenated MO and the mapping of
 * delivery receipts back to our references.
 *
 * It does no I/O and reads no clock (STYLE.md 4): the caller feeds it the
 * bytes it read (smpp_session_input), writes the bytes it asks for
 * (smpp_session_out), tells it when the TCP connection is up or gone, calls
 * smpp_session_tick at smpp_session_next_deadline, and drains events with
 * smpp_session_poll. Every entry point takes 'now' in milliseconds from any
 * monotonic origin. docs/gateways/smpp.md shows the wiring.
 *
 * Outcomes. A message counts as sent when every one of its segments has a
 * submit_sm_resp with status 0; its provider id is the first segment's
 * message_id. Receipts for any segment id map back to the message
 * (SMPP_EV_DLR carries our ref and the first segment's id). When the link
 * goes down, messages with a submit_sm in flight are reported as
 * SMPP_EV_UNKNOWN (the SMSC may or may not have taken them: the caller
 * decides) and leave the session; messages not yet (fully) submitted stay
 * queued and continue after the next bind. ESME_RTHROTTLED (0x58) and
 * ESME_RMSGQFUL (0x14) pause sending and resubmit the same segment (the
 * SMSC did not take it); other error statuses fail the message.
 */
#ifndef TEXTDESK_SMS_SMPP_SESSION_H
#define TEXTDESK_SMS_SMPP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

typedef struct smpp_session smpp_session;

typedef struct smpp_cfg {
    const char *system_id;   /* <= 15 bytes */
    const char *password;    /* <= 8 bytes */
    const char *system_type; /* <= 12 bytes; NULL = "" */
    unsigned window;         /* outstanding submit_sm at most; 0 = 10 */
    unsigned throughput;     /* submit_sm PDUs per second; 0 = unlimited */
    int64_t enquire_ms;      /* enquire_link after this much silence; 0 = 30000 */
    int64_t resp_timeout_ms; /* bind/submit/enquire answer within; 0 = 10000 */
    int64_t backoff_min_ms;  /* first reconnect delay; 0 = 1000 */
    int64_t backoff_max_ms;  /* cap of the doubling delay; 0 = 60000 */
    int64_t throttled_pause_ms; /* pause after 0x58/0x14; 0 = 1000 */
    unsigned max_retries;    /* 0x58/0x14 resubmits per message; 0 = 10 */
    int payload_mode;        /* 1: one submit_sm with message_payload */
    int no_receipts;         /* 1: registered_delivery 0 (default asks, 1) */
    size_t max_queue;        /* messages queued; 0 = 10000 (send: -EAGAIN) */
    size_t track_max;        /* sent messages kept for receipts; 0 = 10000 */
    int64_t mo_timeout_ms;   /* incomplete concatenated MO given up; 0 = 600000 */
} smpp_cfg;

enum smpp_state {
    SMPP_ST_IDLE,       /* no link; reconnect at the deadline */
    SMPP_ST_CONNECTING, /* SMPP_EV_CONNECT emitted, waiting for _connected */
    SMPP_ST_BINDING,    /* bind_transceiver sent */
    SMPP_ST_BOUND,
    SMPP_ST_UNBINDING, /* smpp_session_stop: unbind sent */
    SMPP_ST_STOPPED,   /* stopped: no reconnect */
};

enum smpp_event_type {
    SMPP_EV_CONNECT = 1, /* open the TCP connection, then _connected / _link_lost */
    SMPP_EV_CLOSE,       /* close the socket (after writing pending output if you
                            like); the session has already counted the link down */
    SMPP_EV_BOUND,       /* bind_transceiver_resp ok */
    SMPP_EV_BIND_FAILED, /* 'status' = command_status (0x0E wrong password) */
    SMPP_EV_SENT,        /* 'ref' accepted; 'id' = first segment's message_id */
    SMPP_EV_FAILED,      /* 'ref' refused; 'status', 'text' = error */
    SMPP_EV_RETRY,       /* 'ref' not taken (throttled past max_retries): resend later */
    SMPP_EV_UNKNOWN,     /* 'ref' was in flight when the link dropped */
    SMPP_EV_MO,          /* inbound: 'from', 'to', 'text' (UTF-8); ack it */
    SMPP_EV_DLR,         /* receipt: 'id', 'ref', 'provider_id', 'stat', 'gw_status'; ack it */
};

typedef struct smpp_event {
    enum smpp_event_type type;
    int64_t ref;        /* our reference; -1 when a receipt matches nothing */
    uint32_t status;    /* command_status for BIND_FAILED/FAILED/RETRY */
    int gw_status;      /* DLR: GW_DELIVERED, GW_FAILED (whole message) or -1 */
    str id;             /* SENT: provider id; DLR: the receipted segment id */
    str provider_id;    /* DLR: first segment's id of the message (or 'id') */
    str from, to;       /* MO (and DLR: handset, our number); an international
                           address (TON 1, digits) as "+4670...", others as sent */
    str text;           /* MO text; FAILED/RETRY/UNKNOWN/CLOSE: reason */
    str stat, err;      /* DLR: "DELIVRD", "000" */
    unsigned segments;  /* SENT/MO: parts */
    int partial;        /* MO: 1 when parts were missing at mo_timeout_ms */
    uint64_t ack;       /* MO/DLR: pass to smpp_session_ack (0 = none needed) */
} smpp_event;

typedef struct smpp_stats {
    unsigned inflight, inflight_max; /* now and the highest seen */
    size_t queued;                   /* messages not yet fully submitted */
    uint64_t submits, submit_ok, submit_err, throttled;
    uint64_t enquires_sent, binds, link_downs;
    uint64_t mo, dlr, nacks_sent;
} smpp_stats;

/* Creates a session in SMPP_ST_IDLE whose first tick asks to connect.
 * Returns NULL when a credential does not fit its SMPP field. */
smpp_session *smpp_session_new(const smpp_cfg *cfg);
void smpp_session_free(smpp_session *s);

enum smpp_state smpp_session_state(const smpp_session *s);
void smpp_session_stats_get(const smpp_session *s, smpp_stats *out);

/* The TCP connection asked for by SMPP_EV_CONNECT is up: bind. */
void smpp_session_connected(smpp_session *s, int64_t now);

/* The TCP connection failed or closed (read 0 / error). In-flight messages
 * become SMPP_EV_UNKNOWN, the reconnect is scheduled with backoff. No-op
 * when there is no link. */
void smpp_session_link_lost(smpp_session *s, int64_t now);

/* Feeds 'n' bytes read from the socket. Returns 0, or a negative SMPP_E*
 * code when the stream cannot be framed (then SMPP_EV_CLOSE follows).
 * Malformed but framed PDUs are answered with generic_nack. */
int smpp_session_input(smpp_session *s, const void *bytes, size_t n, int64_t now);

/* Bytes to write now (pointer valid until the next call into 's'). */
const uint8_t *smpp_session_out(const smpp_session *s, size_t *n);
/* 'n' bytes of smpp_session_out were written. */
void smpp_session_out_consume(smpp_session *s, size_t n);

/* Queues a message. 'from' and 'to' are numbers ("+4670...", digits, or an
 * alphanumeric sender <= 11 chars), 'text' UTF-8. Returns 0, -EILSEQ (not
 * UTF-8), -EMSGSIZE (more than 255 segments), -EINVAL (address) or -EAGAIN
 * (max_queue reached). The outcome comes as SENT/FAILED/RETRY/UNKNOWN. */
int smpp_session_send(smpp_session *s, int64_t ref, str from, str to, str text,
                      int64_t now);

/* Gives back every queued message of which the SMSC has taken nothing and
 * holds nothing (no segment accepted, none in flight; a segment refused
 * with 0x58 counts as not taken): each becomes SMPP_EV_RETRY with 'text' =
 * 'why' and leaves the session, so that the caller can keep it durably
 * queued while there is no link. A partly submitted message stays: it
 * continues after the next bind with the same concatenation reference.
 * Returns how many were given back. */
size_t smpp_session_give_back(smpp_session *s, const char *why);

/* Answers the deliver_sm behind an MO or DLR event once it is committed:
 * status 0, or e.g. 0x08 (ESME_RSYSERR) to have the SMSC redeliver. Returns 0
 * or -ESTALE when that connection is gone (the SMSC will redeliver). */
int smpp_session_ack(smpp_session *s, uint64_t ack, uint32_t status);

/* Timers: enquire_link, response timeouts, reconnect, throttle, MO expiry. */
void smpp_session_tick(smpp_session *s, int64_t now);
/* When to call tick next; INT64_MAX when nothing is pending. */
int64_t smpp_session_next_deadline(const smpp_session *s);

/* Takes the next event into '*ev'; returns 1, or 0 when there is none. The
 * strs in '*ev' stay valid until the next poll or smpp_session_free. */
int smpp_session_poll(smpp_session *s, smpp_event *ev);

/* Graceful stop: unbind (if bound) and never reconnect. SMPP_EV_CLOSE
 * follows the unbind_resp (or its timeout). Queued messages stay queued. */
void smpp_session_stop(smpp_session *s, int64_t now);

/* Parses a delivery receipt text ("id:X sub:001 dlvrd:001 submit date:...
 * done date:... stat:DELIVRD err:000 text:..."). Copies id/stat/err
 * (NUL-terminated, truncated to their room). Returns 0 or -EINVAL when no
 * "id:" or no "stat:" is found. */
int smpp_receipt_parse(const char *text, size_t n, char *id, size_t id_cap, char *stat,
                       size_t stat_cap, char *err, size_t err_cap);

/* Maps a receipt stat word to GW_DELIVERED, GW_FAILED or -1 (in progress:
 * ENROUTE, ACCEPTD). */
int smpp_stat_gw(const char *stat);

/* Name of a state / event type, for logs. */
const char *smpp_state_name(enum smpp_state st);
const char *smpp_event_name(enum smpp_event_type t);

#endif
