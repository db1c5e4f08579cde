/*
 * fcgi_walk.h - the FastCGI record walker: every byte a peer sends on a
 * FastCGI connection passes through it before libfcgi sees it.
 *
 * The walker follows one connection's record stream, request after request,
 * in three phases:
 *
 *   BEGIN   between requests: FCGI_BEGIN_REQUEST starts one; management
 *           records (request id 0: FCGI_GET_VALUES and unknown types) are
 *           reported to the caller, who answers them and drops them;
 *   PARAMS  the PARAMS stream, pair by pair, up to its empty record: the
 *           request head is then complete (WF_FW_HEAD);
 *   STDIN   the body, up to the empty STDIN record (WF_FW_END).
 *
 * Anything else is refused with a reason: another protocol version, a record
 * for another request id (no multiplexing), a management record inside a
 * request, a name or value longer than the head may be, a head longer than
 * max_head, a PARAMS stream that ends inside a pair, a param name holding
 * a NUL or '=' byte (libfcgi's "NAME=VALUE" strings cannot carry it), padding on
 * FCGI_BEGIN_REQUEST or on the empty PARAMS record (libfcgi reads those
 * padding bytes as a record header).  So libfcgi is only
 * ever handed well-formed requests, which keeps it away from the inputs
 * that make Debian 12's libfcgi 2.4.2 abort (see README, "Reliability").
 *
 * Pure code on byte buffers: no I/O, no allocation.  The bytes of a stream
 * may be fed in pieces cut anywhere.
 */
#ifndef WF_FCGI_WALK_H
#define WF_FCGI_WALK_H

#include <stddef.h>
#include <stdint.h>

/* From the FastCGI specification. */
enum {
    WF_FCGI_BEGIN_REQUEST = 1, WF_FCGI_ABORT_REQUEST = 2, WF_FCGI_END_REQUEST = 3,
    WF_FCGI_PARAMS = 4, WF_FCGI_STDIN = 5, WF_FCGI_STDOUT = 6, WF_FCGI_STDERR = 7,
    WF_FCGI_DATA = 8, WF_FCGI_GET_VALUES = 9, WF_FCGI_GET_VALUES_RESULT = 10,
    WF_FCGI_UNKNOWN_TYPE = 11
};
enum { WF_FCGI_RESPONDER = 1, WF_FCGI_AUTHORIZER = 2, WF_FCGI_FILTER = 3 };
enum { WF_FCGI_REQUEST_COMPLETE = 0, WF_FCGI_CANT_MPX_CONN = 1, WF_FCGI_OVERLOADED = 2,
       WF_FCGI_UNKNOWN_ROLE = 3 };
#define WF_FCGI_HEADER_LEN 8

enum wf_fw_phase { WF_FW_PH_BEGIN = 0, WF_FW_PH_PARAMS, WF_FW_PH_STDIN, WF_FW_PH_ENDED,
                   WF_FW_PH_FAILED };

enum wf_fw_event {
    WF_FW_MORE = 0,   /* every byte given was consumed; more are needed */
    WF_FW_HEAD,       /* the head is complete: the last byte consumed ends the
                         empty PARAMS record (and its padding) */
    WF_FW_MGMT,       /* a management record ends with the last byte consumed;
                         it began at stream offset rec_start */
    WF_FW_END,        /* the request's empty STDIN record ends here */
    WF_FW_ABORT,      /* FCGI_ABORT_REQUEST for the request */
    WF_FW_ERROR       /* refused: why says what; the walker stays failed */
};

#define WF_FW_NUL_VALUES 16

struct wf_fcgi_walk {
    size_t max_head;          /* longest head (BEGIN_REQUEST to the empty PARAMS) */

    enum wf_fw_phase phase;
    uint64_t offset;          /* bytes walked on this connection */
    uint64_t rec_start;       /* stream offset of the current record's header */

    /* The record in hand. */
    unsigned char hdr[WF_FCGI_HEADER_LEN];
    unsigned hdr_len;         /* header bytes seen; 8 once inside the record */
    unsigned type, id;
    uint32_t content_left;
    unsigned padding_left;

    /* The request. */
    unsigned req_id;
    unsigned role;
    int keep_conn;
    unsigned char begin[8];
    unsigned begin_len;
    size_t head_len;          /* bytes of the head so far */
    unsigned nparams;         /* name/value pairs in the head */

    /* The PARAMS pair decoder: 0 name length, 1 value length, 2 the name's
     * bytes (name_len left), 3 the value's (pair_skip left). */
    int pair_state;
    unsigned char lenbuf[4];
    unsigned lenpos;
    uint32_t name_len;
    uint64_t pair_skip;
    uint32_t pair_name_len, value_len;   /* of the pair in hand */
    int value_nul;            /* its value holds a NUL (noted below) */

    /* Values that hold a NUL byte.  libfcgi hands params over as
     * "NAME=VALUE" C strings, which would end such a value at its first
     * NUL; the front end takes the whole value (libfcgi copies every byte)
     * by the length noted here.  pair: its place among the head's pairs
     * (0 = the first).  Past WF_FW_NUL_VALUES they are cut, and
     * nul_values_lost counts them. */
    unsigned n_nul_values, nul_values_lost;
    struct { uint32_t pair, name_len, value_len; } nul_values[WF_FW_NUL_VALUES];

    unsigned mgmt_type;       /* type of the management record reported */
    const char *why;          /* set with WF_FW_ERROR */
};

/* Starts a connection's walk; heads may be max_head bytes long. */
void wf_fcgi_walk_init(struct wf_fcgi_walk *w, size_t max_head);

/* Makes a walker that reported WF_FW_END ready for the next request on the
 * same connection (keeping its offset). */
void wf_fcgi_walk_next(struct wf_fcgi_walk *w);

/* Walks up to len bytes of buf, stopping right after the first event.
 * *used is set to the bytes consumed; WF_FW_MORE means all of them. */
enum wf_fw_event wf_fcgi_walk(struct wf_fcgi_walk *w, const unsigned char *buf, size_t len,
                              size_t *used);

/* The answer to a management record (whose bytes, header included, are rec
 * and len): an FCGI_GET_VALUES_RESULT naming exactly the known variables
 * asked for (FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS = 0; each once),
 * or FCGI_UNKNOWN_TYPE for any other type.  Writes the record into out and
 * returns its length, or -1 when the content is malformed or out is too
 * small (out needs 128 bytes at most). */
long wf_fcgi_mgmt_reply(const unsigned char *rec, size_t len, unsigned long max_conns,
                        unsigned long max_reqs, unsigned char *out, size_t cap);

/* An FCGI_END_REQUEST record (16 bytes) into out. */
void wf_fcgi_end_request(unsigned char out[16], unsigned req_id, uint32_t app_status,
                         unsigned protocol_status);

#endif
