/*
 * json.h — a small, strict, bounds-checked JSON reader and writer for
 * Sluice connectors in C.
 *
 * The reader tokenises a whole document (RFC 8259; no comments, no
 * trailing commas, nesting at most JSON_MAX_DEPTH) into a flat array of
 * tokens in document order, jsmn style: each token spans its bytes in the
 * source and knows how many tokens it covers, so the next sibling of token
 * i is i + toks[i].span. Nothing is copied or decoded until asked for:
 * json_string() decodes one string token (escapes, \uXXXX and surrogate
 * pairs) into a caller's buffer.
 *
 * The writer appends to a growable buffer; json_buf_raw() copies bytes
 * that are already JSON (a token's source text), json_buf_str() writes a
 * C string as a JSON string with every needed escape.
 */
#ifndef SLUICE_EXAMPLE_JSON_H
#define SLUICE_EXAMPLE_JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_tok {
	enum json_type type;
	size_t start, end; /* the token's bytes: src[start, end) */
	int span;          /* tokens this one covers, itself included */
	int size;          /* arrays: elements; objects: members (a key and its value are two tokens) */
};

struct json_doc {
	const char *src;
	size_t len;
	struct json_tok *toks;
	int n, cap;
};

/* json_parse reads src[0, len) into doc. It returns 0, or -1 for invalid
 * JSON or when memory runs out (doc is then empty). Free with json_free. */
int json_parse(struct json_doc *doc, const char *src, size_t len);
void json_free(struct json_doc *doc);

/* json_get returns the token of member key of object token obj, or -1
 * when obj is not an object or has no such member (the first one wins). */
int json_get(const struct json_doc *doc, int obj, const char *key);

/* json_index returns the token of element i of array token arr, or -1. */
int json_index(const struct json_doc *doc, int arr, int i);

/* json_string decodes string token t into out (NUL-terminated, at most
 * cap-1 bytes). It returns the decoded length, or -1 when t is not a
 * string, the string holds a NUL, or it does not fit; then out is ""
 * (when cap > 0). */
long json_string(const struct json_doc *doc, int t, char *out, size_t cap);

/* json_is_empty_string reports whether token t is the string "". */
int json_is_empty_string(const struct json_doc *doc, int t);

struct json_buf {
	char *data;
	size_t len, cap;
	int failed; /* set once an append ran out of memory; later appends do nothing */
};

void json_buf_raw(struct json_buf *b, const char *s, size_t n);
void json_buf_lit(struct json_buf *b, const char *s);        /* raw, NUL-terminated */
void json_buf_str(struct json_buf *b, const char *s, size_t n); /* as a JSON string */
void json_buf_tok(struct json_buf *b, const struct json_doc *doc, int t); /* a token's source */
void json_buf_free(struct json_buf *b);

#endif
