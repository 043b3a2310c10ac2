/* json.c — see json.h. */
#include "json.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	struct json_doc *doc;
	const char *s;
	size_t len, pos;
};

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		p->pos++;
	}
}

/* new_tok appends a token and returns its index, or -1 without memory. */
static int new_tok(struct parser *p, enum json_type type, size_t start)
{
	struct json_doc *d = p->doc;
	if (d->n == d->cap) {
		if (d->cap > INT_MAX / 2 || (size_t)d->cap * 2 > SIZE_MAX / sizeof *d->toks)
			return -1;
		int cap = d->cap ? d->cap * 2 : 64;
		struct json_tok *t = realloc(d->toks, (size_t)cap * sizeof *t);
		if (!t)
			return -1;
		d->toks = t;
		d->cap = cap;
	}
	struct json_tok *t = &d->toks[d->n];
	t->type = type;
	t->start = start;
	t->end = start;
	t->span = 1;
	t->size = 0;
	return d->n++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* utf8_len returns the length of the valid UTF-8 sequence at s[0, n), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp, min;
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		len = 2, cp = c & 0x1F, min = 0x80;
	else if ((c & 0xF0) == 0xE0)
		len = 3, cp = c & 0x0F, min = 0x800;
	else if ((c & 0xF8) == 0xF0)
		len = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* parse_string checks the string at p->pos (its opening quote). */
static int parse_string(struct parser *p)
{
	size_t start = p->pos++;
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->pos++;
			int t = new_tok(p, JSON_STRING, start);
			if (t < 0)
				return -1;
			p->doc->toks[t].end = p->pos;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (++p->pos >= p->len)
				return -1;
			switch (p->s[p->pos]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				p->pos++;
				break;
			case 'u':
				if (p->len - p->pos < 5)
					return -1;
				for (int i = 1; i <= 4; i++)
					if (hexval(p->s[p->pos + i]) < 0)
						return -1;
				p->pos += 5;
				break;
			default:
				return -1;
			}
			continue;
		}
		size_t n = utf8_len((const unsigned char *)p->s + p->pos, p->len - p->pos);
		if (n == 0)
			return -1;
		p->pos += n;
	}
	return -1;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int parse_number(struct parser *p)
{
	size_t start = p->pos;
	const char *s = p->s;
	if (p->pos < p->len && s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len)
		return -1;
	if (s[p->pos] == '0') {
		p->pos++;
	} else if (is_digit(s[p->pos])) {
		while (p->pos < p->len && is_digit(s[p->pos]))
			p->pos++;
	} else {
		return -1;
	}
	if (p->pos < p->len && s[p->pos] == '.') {
		p->pos++;
		if (p->pos >= p->len || !is_digit(s[p->pos]))
			return -1;
		while (p->pos < p->len && is_digit(s[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !is_digit(s[p->pos]))
			return -1;
		while (p->pos < p->len && is_digit(s[p->pos]))
			p->pos++;
	}
	int t = new_tok(p, JSON_NUMBER, start);
	if (t < 0)
		return -1;
	p->doc->toks[t].end = p->pos;
	return 0;
}

static int parse_literal(struct parser *p, const char *word, enum json_type type)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return -1;
	int t = new_tok(p, type, p->pos);
	if (t < 0)
		return -1;
	p->pos += n;
	p->doc->toks[t].end = p->pos;
	return 0;
}

static int parse_value(struct parser *p, int depth);

/* parse_container reads an array or an object (close is ']' or '}'). */
static int parse_container(struct parser *p, int depth, enum json_type type, char close)
{
	if (depth >= JSON_MAX_DEPTH)
		return -1;
	int t = new_tok(p, type, p->pos);
	if (t < 0)
		return -1;
	p->pos++;
	skip_ws(p);
	int size = 0;
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
	} else {
		for (;;) {
			skip_ws(p);
			if (type == JSON_OBJECT) {
				if (p->pos >= p->len || p->s[p->pos] != '"' || parse_string(p) < 0)
					return -1;
				skip_ws(p);
				if (p->pos >= p->len || p->s[p->pos] != ':')
					return -1;
				p->pos++;
			}
			if (parse_value(p, depth + 1) < 0)
				return -1;
			size++;
			skip_ws(p);
			if (p->pos >= p->len)
				return -1;
			if (p->s[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->s[p->pos] != close)
				return -1;
			p->pos++;
			break;
		}
	}
	struct json_tok *tok = &p->doc->toks[t];
	tok->end = p->pos;
	tok->size = size;
	tok->span = p->doc->n - t;
	return 0;
}

static int parse_value(struct parser *p, int depth)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return -1;
	switch (p->s[p->pos]) {
	case '{': return parse_container(p, depth, JSON_OBJECT, '}');
	case '[': return parse_container(p, depth, JSON_ARRAY, ']');
	case '"': return parse_string(p);
	case 't': return parse_literal(p, "true", JSON_TRUE);
	case 'f': return parse_literal(p, "false", JSON_FALSE);
	case 'n': return parse_literal(p, "null", JSON_NULL);
	default: return parse_number(p);
	}
}

int json_parse(struct json_doc *doc, const char *src, size_t len)
{
	memset(doc, 0, sizeof *doc);
	doc->src = src;
	doc->len = len;
	struct parser p = { doc, src, len, 0 };
	if (parse_value(&p, 0) == 0) {
		skip_ws(&p);
		if (p.pos == len)
			return 0;
	}
	json_free(doc);
	return -1;
}

void json_free(struct json_doc *doc)
{
	free(doc->toks);
	doc->toks = NULL;
	doc->n = doc->cap = 0;
}

static int key_equals(const struct json_doc *doc, int t, const char *key)
{
	char buf[128];
	long n = json_string(doc, t, buf, sizeof buf);
	return n >= 0 && (size_t)n == strlen(key) && memcmp(buf, key, (size_t)n) == 0;
}

int json_get(const struct json_doc *doc, int obj, const char *key)
{
	if (obj < 0 || obj >= doc->n || doc->toks[obj].type != JSON_OBJECT)
		return -1;
	int t = obj + 1;
	for (int i = 0; i < doc->toks[obj].size; i++) {
		int v = t + 1; /* a key is a string: one token */
		if (key_equals(doc, t, key))
			return v;
		t = v + doc->toks[v].span;
	}
	return -1;
}

int json_index(const struct json_doc *doc, int arr, int i)
{
	if (arr < 0 || arr >= doc->n || doc->toks[arr].type != JSON_ARRAY || i < 0 || i >= doc->toks[arr].size)
		return -1;
	int t = arr + 1;
	while (i-- > 0)
		t += doc->toks[t].span;
	return t;
}

/* put_utf8 writes code point cp at out[*n], within cap-1 bytes. */
static int put_utf8(char *out, size_t cap, size_t *n, uint32_t cp)
{
	char b[4];
	size_t k;
	if (cp < 0x80)
		b[0] = (char)cp, k = 1;
	else if (cp < 0x800)
		b[0] = (char)(0xC0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3F)), k = 2;
	else if (cp < 0x10000)
		b[0] = (char)(0xE0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
		b[2] = (char)(0x80 | (cp & 0x3F)), k = 3;
	else
		b[0] = (char)(0xF0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
		b[2] = (char)(0x80 | (cp >> 6 & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F)), k = 4;
	if (cap == 0 || *n + k > cap - 1)
		return -1;
	memcpy(out + *n, b, k);
	*n += k;
	return 0;
}

static uint32_t hex4(const char *s)
{
	return (uint32_t)(hexval(s[0]) << 12 | hexval(s[1]) << 8 | hexval(s[2]) << 4 | hexval(s[3]));
}

long json_string(const struct json_doc *doc, int t, char *out, size_t cap)
{
	if (cap == 0)
		return -1;
	out[0] = '\0'; /* on every failure too: out is never left unterminated */
	if (t < 0 || t >= doc->n || doc->toks[t].type != JSON_STRING)
		return -1;
	/* The parser checked the escapes and the UTF-8: decode without rechecking them. */
	const char *s = doc->src;
	size_t i = doc->toks[t].start + 1, end = doc->toks[t].end - 1, n = 0;
	while (i < end) {
		char c = s[i];
		if (c != '\\') {
			if (c == '\0' || n + 1 > cap - 1) {
				out[0] = '\0';
				return -1;
			}
			out[n++] = c;
			i++;
			continue;
		}
		char e = s[i + 1];
		i += 2;
		uint32_t cp;
		switch (e) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			cp = hex4(s + i);
			i += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF && end - i >= 6 && s[i] == '\\' && s[i + 1] == 'u') {
				uint32_t lo = hex4(s + i + 2);
				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					i += 6;
				}
			}
			if (cp >= 0xD800 && cp <= 0xDFFF)
				cp = 0xFFFD; /* a lone surrogate: as encoding/json does */
			break;
		default: cp = (unsigned char)e; /* " \ / */
		}
		if (cp == 0 || put_utf8(out, cap, &n, cp) < 0) {
			out[0] = '\0';
			return -1;
		}
	}
	out[n] = '\0';
	return (long)n;
}

int json_is_empty_string(const struct json_doc *doc, int t)
{
	return t >= 0 && t < doc->n && doc->toks[t].type == JSON_STRING &&
	       doc->toks[t].end - doc->toks[t].start == 2;
}

void json_buf_raw(struct json_buf *b, const char *s, size_t n)
{
	if (b->failed || n == 0)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2) {
				b->failed = 1;
				return;
			}
			cap *= 2;
		}
		char *d = realloc(b->data, cap);
		if (!d) {
			b->failed = 1;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

void json_buf_lit(struct json_buf *b, const char *s) { json_buf_raw(b, s, strlen(s)); }

void json_buf_str(struct json_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	json_buf_raw(b, "\"", 1);
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			json_buf_raw(b, esc, 2);
			i++;
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			json_buf_raw(b, esc, 6);
			i++;
		} else {
			size_t k = utf8_len((const unsigned char *)s + i, n - i);
			if (k == 0) {
				json_buf_lit(b, "\xEF\xBF\xBD"); /* invalid UTF-8: U+FFFD */
				i++;
			} else {
				json_buf_raw(b, s + i, k);
				i += k;
			}
		}
	}
	json_buf_raw(b, "\"", 1);
}

void json_buf_tok(struct json_buf *b, const struct json_doc *doc, int t)
{
	if (t < 0 || t >= doc->n) {
		json_buf_lit(b, "null");
		return;
	}
	json_buf_raw(b, doc->src + doc->toks[t].start, doc->toks[t].end - doc->toks[t].start);
}

void json_buf_free(struct json_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}
