/*
 * smpp_pdu: the SMPP 3.4 PDU codec for the ESME side of textdesk's SMPP
 * gateway. It owns the wire format of the PDUs an ESME in transceiver mode
 * exchanges with an SMSC: bind_transceiver(_resp), unbind(_resp),
 * enquire_link(_resp), submit_sm(_resp), deliver_sm(_resp) and generic_nack,
 * and the TLVs we use (message_payload, receipted_message_id, message_state,
 * sar_msg_ref_num/sar_total_segments/sar_segment_seqnum, network_error_code,
 * sc_interface_version); other TLVs are skipped. bind_transmitter/receiver
 * share the bind layout and are decoded too. Pure: no I/O, no clock, no
 * allocation; decoding never reads past the 'n' bytes it is given and every
 * malformed PDU is a negative SMPP_E* code (smpp_strerror says which field).
 *
 * Written by hand rather than on Debian's libsmpp34: libsmpp34 reports
 * errors through process-wide globals (smpp34_errno, smpp34_strerror[]),
 * allocates its TLV lists with malloc (destroy_tlv_and_udad on every path),
 * pulls a debug dumper into every build and offers no framing helper for a
 * byte stream; the dozen PDUs we need are ~500 lines here, allocation-free,
 * with one error code per malformed field and a fuzz target (fuzz_smpp.c)
 * that runs in `make fuzz-smoke`. Strings are copied into fixed arrays sized
 * by the spec (with a little slack where real SMSCs exceed it, e.g.
 * message_id), so a decoded PDU has no pointers except the two byte views
 * 'short_message' and 'message_payload' into the caller's input.
 */
#ifndef TEXTDESK_SMS_SMPP_PDU_H
#define TEXTDESK_SMS_SMPP_PDU_H

#include <stddef.h>
#include <stdint.h>

#define SMPP_HEADER_LEN 16
/* Largest PDU we accept or build: a message_payload of 64 KiB - 1 plus the
 * header and the largest mandatory body. Longer command_length = framing
 * error. */
#define SMPP_PDU_MAX (65535 + 512)

#define SMPP_RESP_BIT 0x80000000u

/* Command ids (SMPP 3.4 section 5.1.2.1). */
#define SMPP_CMDS(X)                                                                     \
    X(GENERIC_NACK, 0x80000000u, "generic_nack")                                         \
    X(BIND_RECEIVER, 0x00000001u, "bind_receiver")                                       \
    X(BIND_RECEIVER_RESP, 0x80000001u, "bind_receiver_resp")                             \
    X(BIND_TRANSMITTER, 0x00000002u, "bind_transmitter")                                 \
    X(BIND_TRANSMITTER_RESP, 0x80000002u, "bind_transmitter_resp")                       \
    X(SUBMIT_SM, 0x00000004u, "submit_sm")                                               \
    X(SUBMIT_SM_RESP, 0x80000004u, "submit_sm_resp")                                     \
    X(DELIVER_SM, 0x00000005u, "deliver_sm")                                             \
    X(DELIVER_SM_RESP, 0x80000005u, "deliver_sm_resp")                                   \
    X(UNBIND, 0x00000006u, "unbind")                                                     \
    X(UNBIND_RESP, 0x80000006u, "unbind_resp")                                           \
    X(BIND_TRANSCEIVER, 0x00000009u, "bind_transceiver")                                 \
    X(BIND_TRANSCEIVER_RESP, 0x80000009u, "bind_transceiver_resp")                       \
    X(ENQUIRE_LINK, 0x00000015u, "enquire_link")                                         \
    X(ENQUIRE_LINK_RESP, 0x80000015u, "enquire_link_resp")

#define SMPP_CMD_ENUM(name, val, str) SMPP_##name = val,
enum smpp_cmd { SMPP_CMDS(SMPP_CMD_ENUM) };
#undef SMPP_CMD_ENUM

/* command_status values we act on or name (SMPP 3.4 section 5.1.3). */
#define SMPP_STATUSES(X)                                                                 \
    X(ESME_ROK, 0x00, "ok")                                                              \
    X(ESME_RINVMSGLEN, 0x01, "message length is invalid")                                \
    X(ESME_RINVCMDLEN, 0x02, "command length is invalid")                                \
    X(ESME_RINVCMDID, 0x03, "invalid command id")                                        \
    X(ESME_RINVBNDSTS, 0x04, "incorrect bind status for given command")                  \
    X(ESME_RALYBND, 0x05, "ESME already in bound state")                                 \
    X(ESME_RSYSERR, 0x08, "system error")                                                \
    X(ESME_RINVSRCADR, 0x0A, "invalid source address")                                   \
    X(ESME_RINVDSTADR, 0x0B, "invalid destination address")                              \
    X(ESME_RINVMSGID, 0x0C, "message id is invalid")                                     \
    X(ESME_RBINDFAIL, 0x0D, "bind failed")                                               \
    X(ESME_RINVPASWD, 0x0E, "invalid password")                                          \
    X(ESME_RINVSYSID, 0x0F, "invalid system id")                                         \
    X(ESME_RMSGQFUL, 0x14, "message queue full")                                         \
    X(ESME_RINVESMCLASS, 0x43, "invalid esm_class")                                      \
    X(ESME_RSUBMITFAIL, 0x45, "submit_sm failed")                                        \
    X(ESME_RTHROTTLED, 0x58, "throughput exceeded")                                      \
    X(ESME_RINVDCS, 0x104, "invalid data_coding")                                        \
    X(ESME_RUNKNOWNERR, 0xFF, "unknown error")

#define SMPP_STATUS_ENUM(name, val, str) SMPP_##name = val,
enum smpp_status { SMPP_STATUSES(SMPP_STATUS_ENUM) };
#undef SMPP_STATUS_ENUM

/* TLV tags (SMPP 3.4 section 5.3.2). */
enum smpp_tag {
    SMPP_TAG_RECEIPTED_MESSAGE_ID = 0x001E,
    SMPP_TAG_SAR_MSG_REF_NUM = 0x020C,
    SMPP_TAG_SAR_TOTAL_SEGMENTS = 0x020E,
    SMPP_TAG_SAR_SEGMENT_SEQNUM = 0x020F,
    SMPP_TAG_SC_INTERFACE_VERSION = 0x0210,
    SMPP_TAG_NETWORK_ERROR_CODE = 0x0423,
    SMPP_TAG_MESSAGE_PAYLOAD = 0x0424,
    SMPP_TAG_MESSAGE_STATE = 0x0427,
};

/* esm_class bits we use. */
#define SMPP_ESM_UDHI 0x40         /* short_message starts with a UDH */
#define SMPP_ESM_TYPE_MASK 0x3C    /* message type bits 2-5 */
#define SMPP_ESM_TYPE_RECEIPT 0x04 /* SMSC delivery receipt */

/* Decode errors (negative returns). */
#define SMPP_ERRORS(X)                                                                   \
    X(SMPP_ESHORT, 1001, "PDU shorter than its 16-byte header")                          \
    X(SMPP_ELEN, 1002, "command_length outside 16..SMPP_PDU_MAX")                        \
    X(SMPP_ECMD, 1003, "unsupported command_id")                                         \
    X(SMPP_ETRUNC, 1004, "mandatory field runs past the end of the PDU")                 \
    X(SMPP_ECSTR, 1005, "C-octet string not terminated within its maximum length")      \
    X(SMPP_ESMLEN, 1006, "sm_length runs past the end of the PDU")                       \
    X(SMPP_ETLV, 1007, "TLV header or value runs past the end of the PDU")               \
    X(SMPP_ETLVLEN, 1008, "TLV has the wrong length for its tag")                        \
    X(SMPP_EBODY, 1009, "bytes after the body of a PDU that takes no TLVs")              \
    X(SMPP_ETWICE, 1010, "both short_message and message_payload are set")

#define SMPP_ERR_ENUM(name, val, str) name = val,
enum smpp_err { SMPP_ERRORS(SMPP_ERR_ENUM) };
#undef SMPP_ERR_ENUM

/* A decoded (or to-be-encoded) PDU. Field sizes include the NUL. Only the
 * fields of the PDU's command are meaningful; the rest are zero. */
typedef struct smpp_pdu {
    uint32_t command_id;
    uint32_t command_status;
    uint32_t sequence_number;

    /* bind_*: */
    char system_id[16];
    char password[9];
    char system_type[13];
    uint8_t interface_version;
    uint8_t addr_ton, addr_npi;
    char address_range[41];

    /* submit_sm, deliver_sm: */
    char service_type[6];
    uint8_t source_addr_ton, source_addr_npi;
    char source_addr[21];
    uint8_t dest_addr_ton, dest_addr_npi;
    char destination_addr[21];
    uint8_t esm_class, protocol_id, priority_flag;
    char schedule_delivery_time[17];
    char validity_period[17];
    uint8_t registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id;
    const uint8_t *short_message; /* borrowed: into the decoded input */
    size_t sm_length;             /* 0..254 */

    /* *_resp: submit_sm_resp / deliver_sm_resp message_id (65 in the spec;
     * bind_*_resp system_id goes to 'system_id'). */
    char message_id[66];

    /* TLVs (has_* = present). */
    const uint8_t *message_payload; /* borrowed */
    size_t payload_len;
    int has_payload;
    char receipted_message_id[66];
    int has_receipted_message_id;
    uint8_t message_state;
    int has_message_state;
    uint16_t sar_msg_ref_num;
    uint8_t sar_total_segments, sar_segment_seqnum;
    int has_sar;
    uint8_t network_error[3];
    int has_network_error;
    uint8_t sc_interface_version;
    int has_sc_interface_version;
} smpp_pdu;

/* Looks at the first 'n' bytes of a byte stream. Returns 0 when fewer than
 * 4 bytes are there (need more), the command_length (16..SMPP_PDU_MAX) of
 * the PDU that starts there, or -SMPP_ELEN when it cannot be a PDU (the
 * stream cannot be resynchronised: close the link). */
long smpp_pdu_frame(const uint8_t *buf, size_t n);

/* Decodes the one PDU in buf[0..n) ('n' = its command_length) into '*out'.
 * Returns 0 or a negative SMPP_E* code. On an error after the header
 * (n >= 16), out->command_id and out->sequence_number are still set, so the
 * caller can answer with generic_nack. 'out' borrows from 'buf'. */
int smpp_pdu_decode(const uint8_t *buf, size_t n, smpp_pdu *out);

/* Encodes '*p' into out[0..cap) and stores the length in '*len'. Supported:
 * every command in SMPP_CMDS. Strings longer than their field are an error,
 * not truncated. TLVs written: message_payload (has_payload),
 * sar_* (has_sar), receipted_message_id and message_state (deliver_sm).
 * Returns 0, -EINVAL (unsupported command, field too long, sm_length > 254,
 * short_message with message_payload) or -ENOSPC. */
int smpp_pdu_encode(const smpp_pdu *p, uint8_t *out, size_t cap, size_t *len);

/* Fills '*p' as an empty PDU of 'command_id' with 'seq' (and status 0). */
void smpp_pdu_init(smpp_pdu *p, uint32_t command_id, uint32_t seq);

/* The command's name ("submit_sm") or "unknown". */
const char *smpp_cmd_name(uint32_t command_id);
/* A short text for a command_status ("throughput exceeded") or "unknown". */
const char *smpp_status_text(uint32_t status);
/* The symbolic name ("ESME_RTHROTTLED") or "ESME_?". */
const char *smpp_status_name(uint32_t status);
/* Text for a negative SMPP_E* code (or -errno). */
const char *smpp_strerror(int err);
/* The command_status to put in the generic_nack answering a PDU that failed
 * to decode with 'err'. */
uint32_t smpp_err_status(int err);

#endif
