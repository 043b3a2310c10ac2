/*
 * sluice.h — the Sluice guest ABI, version 1, for C (guest-sdk/ABI.md).
 *
 * The host module "sluice" and the small helpers every connector needs:
 * read the input, write a result or an error envelope, log, and make a
 * host call.
 */
#ifndef SLUICE_EXAMPLE_SLUICE_H
#define SLUICE_EXAMPLE_SLUICE_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define SLUICE_IMPORT(name) __attribute__((import_module("sluice"), import_name(name)))
#define SLUICE_EXPORT(name) __attribute__((export_name(name)))

SLUICE_IMPORT("input_read") void sluice_input_read(void *ptr);
SLUICE_IMPORT("output_write") void sluice_output_write(const void *ptr, int32_t len);
SLUICE_IMPORT("log") void sluice_log(int32_t level, const void *ptr, int32_t len);
SLUICE_IMPORT("host_call")
int32_t sluice_host_call(const void *op, int32_t op_len, const void *req, int32_t req_len);
SLUICE_IMPORT("host_response_read") void sluice_host_response_read(void *ptr);

/* Export statuses (ABI.md, "One call, step by step"). */
#define SLUICE_OK 0
#define SLUICE_ERROR 1

enum { SLUICE_DEBUG, SLUICE_INFO, SLUICE_WARN, SLUICE_ERROR_LEVEL };

/* sluice_read_input reads the call's input of n bytes into a new buffer
 * (NUL-terminated; free it). NULL without memory. */
char *sluice_read_input(int32_t n);

/* sluice_result writes b as the call's result and returns SLUICE_OK; an
 * out-of-memory buffer becomes an error. */
int32_t sluice_result(const struct json_buf *b);

/* sluice_error writes the envelope {"code":code,"message":msg} and
 * returns SLUICE_ERROR. */
int32_t sluice_error(const char *code, const char *msg);

/* sluice_logf logs one line (printf format) at level. */
void sluice_logf(int32_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A host call's answer: the envelope parsed, with result or error set to
 * its token (the other -1). */
struct sluice_reply {
	char *raw;
	struct json_doc doc;
	int result, error;
};

/* sluice_host_call runs op with the JSON request req. It returns 0 with
 * reply filled, or -1 when the answer could not be read (no memory, or
 * not an envelope). Free the reply with sluice_reply_free. */
int sluice_host_call_json(const char *op, const struct json_buf *req, struct sluice_reply *reply);
void sluice_reply_free(struct sluice_reply *reply);

/* sluice_pass_error writes a host call's error object on as the call's
 * error envelope and returns SLUICE_ERROR: its code reaches the caller
 * (as connector_error when it is not a connector code, ABI.md). */
int32_t sluice_pass_error(const struct sluice_reply *reply);

#endif
