/*
 * smpp_pdu: SMPP 3.4 PDU codec (see smpp_pdu.h for the choice against
 * libsmpp34). A reader and a writer carry the position and the first error,
 * so each layout below reads like the table in the spec.
 */
#include "sms/smpp_pdu.h"

#include <errno.h>
#include <string.h>

/* ---- reader ------------------------------------------------------------- */

typedef struct rd {
    const uint8_t *p;
    size_t n, i;
    int err; /* first error, negative */
} rd;

static void rd_fail(rd *r, int err)
{
    if (r->err == 0)
        r->err = err;
}

static uint8_t rd_u8(rd *r)
{
    if (r->err)
        return 0;
    if (r->i + 1 > r->n) {
        rd_fail(r, -SMPP_ETRUNC);
        return 0;
    }
    return r->p[r->i++];
}

static uint16_t rd_u16(rd *r)
{
    uint16_t hi = rd_u8(r);
    return (uint16_t)(hi << 8 | rd_u8(r));
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads a C-octet string of at most 'max' bytes including the NUL into
 * 'out' ('max' bytes). */
static void rd_cstr(rd *r, char *out, size_t max)
{
    out[0] = '\0';
    if (r->err)
        return;
    size_t room = r->n - r->i;
    size_t lim = room < max ? room : max;
    const uint8_t *z = memchr(r->p + r->i, 0, lim);
    if (z == NULL) {
        rd_fail(r, room < max ? -SMPP_ETRUNC : -SMPP_ECSTR);
        return;
    }
    size_t k = (size_t)(z - (r->p + r->i));
    memcpy(out, r->p + r->i, k);
    out[k] = '\0';
    r->i += k + 1;
}

/* Copies a TLV string value (NUL-terminated or not) into out[max]. */
static int tlv_cstr(const uint8_t *v, size_t len, char *out, size_t max)
{
    const uint8_t *z = memchr(v, 0, len);
    size_t k = z ? (size_t)(z - v) : len;
    if (k + 1 > max)
        return -SMPP_ETLVLEN;
    memcpy(out, v, k);
    out[k] = '\0';
    return 0;
}

static void rd_tlvs(rd *r, smpp_pdu *p)
{
    while (r->err == 0 && r->i < r->n) {
        if (r->n - r->i < 4) {
            rd_fail(r, -SMPP_ETLV);
            return;
        }
        uint16_t tag = rd_u16(r), len = rd_u16(r);
        if (r->n - r->i < len) {
            rd_fail(r, -SMPP_ETLV);
            return;
        }
        const uint8_t *v = r->p + r->i;
        int e = 0;
        switch (tag) {
        case SMPP_TAG_MESSAGE_PAYLOAD:
            p->message_payload = v;
            p->payload_len = len;
            p->has_payload = 1;
            break;
        case SMPP_TAG_RECEIPTED_MESSAGE_ID:
            e = tlv_cstr(v, len, p->receipted_message_id, sizeof p->receipted_message_id);
            p->has_receipted_message_id = e == 0;
            break;
        case SMPP_TAG_MESSAGE_STATE:
            if (len != 1)
                e = -SMPP_ETLVLEN;
            else {
                p->message_state = v[0];
                p->has_message_state = 1;
            }
            break;
        case SMPP_TAG_SAR_MSG_REF_NUM:
            if (len != 2)
                e = -SMPP_ETLVLEN;
            else
                p->sar_msg_ref_num = (uint16_t)(v[0] << 8 | v[1]);
            p->has_sar |= 1;
            break;
        case SMPP_TAG_SAR_TOTAL_SEGMENTS:
            if (len != 1)
                e = -SMPP_ETLVLEN;
            else
                p->sar_total_segments = v[0];
            p->has_sar |= 2;
            break;
        case SMPP_TAG_SAR_SEGMENT_SEQNUM:
            if (len != 1)
                e = -SMPP_ETLVLEN;
            else
                p->sar_segment_seqnum = v[0];
            p->has_sar |= 4;
            break;
        case SMPP_TAG_NETWORK_ERROR_CODE:
            if (len != 3)
                e = -SMPP_ETLVLEN;
            else {
                memcpy(p->network_error, v, 3);
                p->has_network_error = 1;
            }
            break;
        case SMPP_TAG_SC_INTERFACE_VERSION:
            if (len != 1)
                e = -SMPP_ETLVLEN;
            else {
                p->sc_interface_version = v[0];
                p->has_sc_interface_version = 1;
            }
            break;
        default: /* optional parameters we do not use are skipped */
            break;
        }
        if (e) {
            rd_fail(r, e);
            return;
        }
        r->i += len;
    }
    /* The sar TLVs come as a set of three or not at all. */
    if (r->err == 0 && p->has_sar != 0 && p->has_sar != 7)
        rd_fail(r, -SMPP_ETLVLEN);
    p->has_sar = p->has_sar == 7;
}

static void rd_end(rd *r)
{
    if (r->err == 0 && r->i != r->n)
        rd_fail(r, -SMPP_EBODY);
}

long smpp_pdu_frame(const uint8_t *buf, size_t n)
{
    if (n < 4)
        return 0;
    uint32_t len = be32(buf);
    if (len < SMPP_HEADER_LEN || len > SMPP_PDU_MAX)
        return -SMPP_ELEN;
    return (long)len;
}

static void decode_sm(rd *r, smpp_pdu *p)
{
    rd_cstr(r, p->service_type, sizeof p->service_type);
    p->source_addr_ton = rd_u8(r);
    p->source_addr_npi = rd_u8(r);
    rd_cstr(r, p->source_addr, sizeof p->source_addr);
    p->dest_addr_ton = rd_u8(r);
    p->dest_addr_npi = rd_u8(r);
    rd_cstr(r, p->destination_addr, sizeof p->destination_addr);
    p->esm_class = rd_u8(r);
    p->protocol_id = rd_u8(r);
    p->priority_flag = rd_u8(r);
    rd_cstr(r, p->schedule_delivery_time, sizeof p->schedule_delivery_time);
    rd_cstr(r, p->validity_period, sizeof p->validity_period);
    p->registered_delivery = rd_u8(r);
    p->replace_if_present_flag = rd_u8(r);
    p->data_coding = rd_u8(r);
    p->sm_default_msg_id = rd_u8(r);
    size_t sml = rd_u8(r);
    if (r->err)
        return;
    if (r->n - r->i < sml) {
        rd_fail(r, -SMPP_ESMLEN);
        return;
    }
    p->short_message = r->p + r->i;
    p->sm_length = sml;
    r->i += sml;
    rd_tlvs(r, p);
    if (r->err == 0 && p->has_payload && p->sm_length > 0)
        rd_fail(r, -SMPP_ETWICE);
}

int smpp_pdu_decode(const uint8_t *buf, size_t n, smpp_pdu *out)
{
    memset(out, 0, sizeof *out);
    if (n < SMPP_HEADER_LEN)
        return -SMPP_ESHORT;
    uint32_t len = be32(buf);
    out->command_id = be32(buf + 4);
    out->command_status = be32(buf + 8);
    out->sequence_number = be32(buf + 12);
    if (len != n || len > SMPP_PDU_MAX)
        return -SMPP_ELEN;
    rd r = {buf, n, SMPP_HEADER_LEN, 0};
    /* A response with an error status may come without a body. */
    int bare_ok = (out->command_id & SMPP_RESP_BIT) && out->command_status != 0 &&
                  n == SMPP_HEADER_LEN;

    switch (out->command_id) {
    case SMPP_BIND_RECEIVER:
    case SMPP_BIND_TRANSMITTER:
    case SMPP_BIND_TRANSCEIVER:
        rd_cstr(&r, out->system_id, sizeof out->system_id);
        rd_cstr(&r, out->password, sizeof out->password);
        rd_cstr(&r, out->system_type, sizeof out->system_type);
        out->interface_version = rd_u8(&r);
        out->addr_ton = rd_u8(&r);
        out->addr_npi = rd_u8(&r);
        rd_cstr(&r, out->address_range, sizeof out->address_range);
        rd_end(&r);
        break;
    case SMPP_BIND_RECEIVER_RESP:
    case SMPP_BIND_TRANSMITTER_RESP:
    case SMPP_BIND_TRANSCEIVER_RESP:
        if (bare_ok)
            break;
        rd_cstr(&r, out->system_id, sizeof out->system_id);
        rd_tlvs(&r, out);
        break;
    case SMPP_SUBMIT_SM:
    case SMPP_DELIVER_SM:
        decode_sm(&r, out);
        break;
    case SMPP_SUBMIT_SM_RESP:
    case SMPP_DELIVER_SM_RESP:
        /* deliver_sm_resp's message_id is unused (a lone NUL); some SMSCs
         * send none at all, which we accept. */
        if (bare_ok || (out->command_id == SMPP_DELIVER_SM_RESP && n == SMPP_HEADER_LEN))
            break;
        rd_cstr(&r, out->message_id, sizeof out->message_id);
        rd_end(&r);
        break;
    case SMPP_UNBIND:
    case SMPP_UNBIND_RESP:
    case SMPP_ENQUIRE_LINK:
    case SMPP_ENQUIRE_LINK_RESP:
    case SMPP_GENERIC_NACK:
        rd_end(&r);
        break;
    default:
        return -SMPP_ECMD;
    }
    return r.err;
}

/* ---- writer ------------------------------------------------------------- */

typedef struct wr {
    uint8_t *p;
    size_t cap, i;
    int err;
} wr;

static void wr_u8(wr *w, uint8_t v)
{
    if (w->err)
        return;
    if (w->i + 1 > w->cap) {
        w->err = -ENOSPC;
        return;
    }
    w->p[w->i++] = v;
}

static void wr_u16(wr *w, uint16_t v)
{
    wr_u8(w, (uint8_t)(v >> 8));
    wr_u8(w, (uint8_t)v);
}

static void wr_u32(wr *w, uint32_t v)
{
    wr_u16(w, (uint16_t)(v >> 16));
    wr_u16(w, (uint16_t)v);
}

static void wr_bytes(wr *w, const void *b, size_t n)
{
    if (w->err || n == 0)
        return;
    if (w->cap - w->i < n) {
        w->err = -ENOSPC;
        return;
    }
    memcpy(w->p + w->i, b, n);
    w->i += n;
}

/* Writes 's' with its NUL; 'max' counts the NUL. */
static void wr_cstr(wr *w, const char *s, size_t max)
{
    size_t k = strnlen(s, max);
    if (k >= max) {
        if (w->err == 0)
            w->err = -EINVAL;
        return;
    }
    wr_bytes(w, s, k + 1);
}

static void wr_tlv(wr *w, uint16_t tag, const void *v, size_t len)
{
    if (len > 0xFFFF) {
        if (w->err == 0)
            w->err = -EINVAL;
        return;
    }
    wr_u16(w, tag);
    wr_u16(w, (uint16_t)len);
    wr_bytes(w, v, len);
}

void smpp_pdu_init(smpp_pdu *p, uint32_t command_id, uint32_t seq)
{
    memset(p, 0, sizeof *p);
    p->command_id = command_id;
    p->sequence_number = seq;
}

int smpp_pdu_encode(const smpp_pdu *p, uint8_t *out, size_t cap, size_t *len)
{
    wr w = {out, cap, 0, 0};
    wr_u32(&w, 0); /* command_length, patched below */
    wr_u32(&w, p->command_id);
    wr_u32(&w, p->command_status);
    wr_u32(&w, p->sequence_number);
    switch (p->command_id) {
    case SMPP_BIND_RECEIVER:
    case SMPP_BIND_TRANSMITTER:
    case SMPP_BIND_TRANSCEIVER:
        wr_cstr(&w, p->system_id, sizeof p->system_id);
        wr_cstr(&w, p->password, sizeof p->password);
        wr_cstr(&w, p->system_type, sizeof p->system_type);
        wr_u8(&w, p->interface_version ? p->interface_version : 0x34);
        wr_u8(&w, p->addr_ton);
        wr_u8(&w, p->addr_npi);
        wr_cstr(&w, p->address_range, sizeof p->address_range);
        break;
    case SMPP_BIND_RECEIVER_RESP:
    case SMPP_BIND_TRANSMITTER_RESP:
    case SMPP_BIND_TRANSCEIVER_RESP:
        wr_cstr(&w, p->system_id, sizeof p->system_id);
        if (p->has_sc_interface_version)
            wr_tlv(&w, SMPP_TAG_SC_INTERFACE_VERSION, &p->sc_interface_version, 1);
        break;
    case SMPP_SUBMIT_SM:
    case SMPP_DELIVER_SM:
        if (p->sm_length > 254 || (p->sm_length > 0 && p->has_payload)) {
            w.err = -EINVAL;
            break;
        }
        wr_cstr(&w, p->service_type, sizeof p->service_type);
        wr_u8(&w, p->source_addr_ton);
        wr_u8(&w, p->source_addr_npi);
        wr_cstr(&w, p->source_addr, sizeof p->source_addr);
        wr_u8(&w, p->dest_addr_ton);
        wr_u8(&w, p->dest_addr_npi);
        wr_cstr(&w, p->destination_addr, sizeof p->destination_addr);
        wr_u8(&w, p->esm_class);
        wr_u8(&w, p->protocol_id);
        wr_u8(&w, p->priority_flag);
        wr_cstr(&w, p->schedule_delivery_time, sizeof p->schedule_delivery_time);
        wr_cstr(&w, p->validity_period, sizeof p->validity_period);
        wr_u8(&w, p->registered_delivery);
        wr_u8(&w, p->replace_if_present_flag);
        wr_u8(&w, p->data_coding);
        wr_u8(&w, p->sm_default_msg_id);
        wr_u8(&w, (uint8_t)p->sm_length);
        wr_bytes(&w, p->short_message, p->sm_length);
        if (p->has_payload)
            wr_tlv(&w, SMPP_TAG_MESSAGE_PAYLOAD, p->message_payload, p->payload_len);
        if (p->has_sar) {
            uint8_t ref[2] = {(uint8_t)(p->sar_msg_ref_num >> 8), (uint8_t)p->sar_msg_ref_num};
            wr_tlv(&w, SMPP_TAG_SAR_MSG_REF_NUM, ref, 2);
            wr_tlv(&w, SMPP_TAG_SAR_TOTAL_SEGMENTS, &p->sar_total_segments, 1);
            wr_tlv(&w, SMPP_TAG_SAR_SEGMENT_SEQNUM, &p->sar_segment_seqnum, 1);
        }
        if (p->has_receipted_message_id) {
            size_t k = strnlen(p->receipted_message_id, sizeof p->receipted_message_id);
            if (k >= sizeof p->receipted_message_id)
                w.err = -EINVAL;
            else
                wr_tlv(&w, SMPP_TAG_RECEIPTED_MESSAGE_ID, p->receipted_message_id, k + 1);
        }
        if (p->has_message_state)
            wr_tlv(&w, SMPP_TAG_MESSAGE_STATE, &p->message_state, 1);
        break;
    case SMPP_SUBMIT_SM_RESP:
    case SMPP_DELIVER_SM_RESP:
        wr_cstr(&w, p->message_id, sizeof p->message_id);
        break;
    case SMPP_UNBIND:
    case SMPP_UNBIND_RESP:
    case SMPP_ENQUIRE_LINK:
    case SMPP_ENQUIRE_LINK_RESP:
    case SMPP_GENERIC_NACK:
        break;
    default:
        return -EINVAL;
    }
    if (w.err == 0 && w.i > SMPP_PDU_MAX)
        w.err = -EINVAL;
    if (w.err)
        return w.err;
    out[0] = (uint8_t)(w.i >> 24);
    out[1] = (uint8_t)(w.i >> 16);
    out[2] = (uint8_t)(w.i >> 8);
    out[3] = (uint8_t)w.i;
    *len = w.i;
    return 0;
}

/* ---- names -------------------------------------------------------------- */

const char *smpp_cmd_name(uint32_t command_id)
{
    switch (command_id) {
#define SMPP_CMD_CASE(name, val, str)                                                    \
    case val:                                                                            \
        return str;
        SMPP_CMDS(SMPP_CMD_CASE)
#undef SMPP_CMD_CASE
    }
    return "unknown";
}

const char *smpp_status_text(uint32_t status)
{
    switch (status) {
#define SMPP_ST_CASE(name, val, str)                                                     \
    case val:                                                                            \
        return str;
        SMPP_STATUSES(SMPP_ST_CASE)
#undef SMPP_ST_CASE
    }
    return "unknown";
}

const char *smpp_status_name(uint32_t status)
{
    switch (status) {
#define SMPP_STN_CASE(name, val, str)                                                    \
    case val:                                                                            \
        return #name;
        SMPP_STATUSES(SMPP_STN_CASE)
#undef SMPP_STN_CASE
    }
    return "ESME_?";
}

const char *smpp_strerror(int err)
{
    switch (-err) {
#define SMPP_ERR_CASE(name, val, str)                                                    \
    case val:                                                                            \
        return str;
        SMPP_ERRORS(SMPP_ERR_CASE)
#undef SMPP_ERR_CASE
    case 0:
        return "ok";
    case EINVAL:
        return "invalid argument";
    case ENOSPC:
        return "no space";
    }
    return "unknown error";
}

uint32_t smpp_err_status(int err)
{
    switch (-err) {
    case SMPP_ECMD:
        return SMPP_ESME_RINVCMDID;
    case SMPP_ESHORT:
    case SMPP_ELEN:
    case SMPP_EBODY:
        return SMPP_ESME_RINVCMDLEN;
    default:
        return SMPP_ESME_RINVMSGLEN;
    }
}
