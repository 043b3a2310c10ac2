/* sluice.c — see sluice.h. */
#include "sluice.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *sluice_read_input(int32_t n)
{
	if (n < 0)
		return NULL;
	char *b = malloc((size_t)n + 1);
	if (!b)
		return NULL;
	if (n > 0)
		sluice_input_read(b);
	b[n] = '\0';
	return b;
}

int32_t sluice_result(const struct json_buf *b)
{
	if (b->failed)
		return sluice_error("connector_error", "out of memory writing the result");
	sluice_output_write(b->data, (int32_t)b->len);
	return SLUICE_OK;
}

int32_t sluice_error(const char *code, const char *msg)
{
	struct json_buf b = { 0 };
	json_buf_lit(&b, "{\"code\":");
	json_buf_str(&b, code, strlen(code));
	json_buf_lit(&b, ",\"message\":");
	json_buf_str(&b, msg, strlen(msg));
	json_buf_lit(&b, "}");
	if (b.failed) {
		static const char oom[] = "{\"code\":\"connector_error\",\"message\":\"out of memory\"}";
		sluice_output_write(oom, sizeof oom - 1);
	} else {
		sluice_output_write(b.data, (int32_t)b.len);
	}
	json_buf_free(&b);
	return SLUICE_ERROR;
}

void sluice_logf(int32_t level, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line)
		n = sizeof line - 1; /* truncated */
	sluice_log(level, line, n);
}

int sluice_host_call_json(const char *op, const struct json_buf *req, struct sluice_reply *reply)
{
	memset(reply, 0, sizeof *reply);
	reply->result = reply->error = -1;
	if (req->failed)
		return -1;
	int32_t n = sluice_host_call(op, (int32_t)strlen(op), req->data, (int32_t)req->len);
	if (n <= 0)
		return -1; /* the host always answers an envelope: never happens */
	reply->raw = malloc((size_t)n);
	if (!reply->raw)
		return -1;
	sluice_host_response_read(reply->raw);
	if (json_parse(&reply->doc, reply->raw, (size_t)n) < 0) {
		sluice_reply_free(reply);
		return -1;
	}
	reply->result = json_get(&reply->doc, 0, "result");
	reply->error = json_get(&reply->doc, 0, "error");
	if ((reply->result < 0) == (reply->error < 0)) {
		sluice_reply_free(reply);
		return -1;
	}
	return 0;
}

void sluice_reply_free(struct sluice_reply *reply)
{
	json_free(&reply->doc);
	free(reply->raw);
	reply->raw = NULL;
}

int32_t sluice_pass_error(const struct sluice_reply *reply)
{
	const struct json_tok *t = &reply->doc.toks[reply->error];
	sluice_output_write(reply->raw + t->start, (int32_t)(t->end - t->start));
	return SLUICE_ERROR;
}
