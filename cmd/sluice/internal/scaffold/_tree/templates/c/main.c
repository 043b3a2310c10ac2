/*
 * main.c — login and getUser over a PostgreSQL user table, in C.
 *
 * The table is examples/postgres/schema.sql's (USERS_TABLE names it,
 * "users" by default). The SQL runs on the host (sql.query), and so does
 * the password check (password.verify): bcrypt or any other format the
 * host recognises. Enough for LAZY_MIGRATION, which calls only these two.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sluice.h"

SLUICE_EXPORT("sluice_abi_version") int32_t sluice_abi_version(void) { return 1; }

/* columns are the selected columns, in order, and the User field each
 * fills; the password hash comes last and is never returned. */
static const struct {
	const char *sql, *field;
} columns[] = {
	{ "id::text", "id" },
	{ "email", "email" },
	{ "email_verified", "emailVerified" },
	{ "username", "username" },
	{ "phone", "phone" },
	{ "phone_verified", "phoneVerified" },
	{ "nickname", "nickname" },
	{ "name", "name" },
	{ "given_name", "givenName" },
	{ "family_name", "familyName" },
	{ "photo", "photo" },
	{ "gender", "gender" },
	{ "birthdate", "birthdate" },
	{ "address", "address" },
	{ "company", "company" },
	{ "website", "website" },
	{ "blocked", "blocked" },
	{ "custom_data", "customData" },
	{ "coalesce(password_hash, '')", NULL },
};
#define NCOLUMNS ((int)(sizeof columns / sizeof columns[0]))

/* users_table returns USERS_TABLE ("users" when unset), or NULL when it
 * is not a plain name (letters, digits, _; schema.table): it goes into
 * the SQL text. */
static const char *users_table(void)
{
	const char *t = getenv("USERS_TABLE");
	if (!t || !*t)
		return "users";
	size_t n = strlen(t), part = 0;
	if (n > 127)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		if (c == '.') {
			if (part == 0)
				return NULL;
			part = 0;
			continue;
		}
		int letter = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		int digit = c >= '0' && c <= '9';
		if (!letter && !(digit && part > 0))
			return NULL;
		if (++part > 63)
			return NULL;
	}
	return part ? t : NULL;
}

/* A looked-up user: the reply holding its row, or row -1 for none. */
struct found {
	struct sluice_reply reply;
	int row;
};

/* find runs SELECT ... WHERE cond with one argument (JSON text). It
 * returns -1 after writing the call's error, else 0. */
static int find(const char *cond, const char *arg, size_t arg_len, struct found *f, int32_t *status)
{
	f->row = -1;
	const char *table = users_table();
	if (!table) {
		*status = sluice_error("connector_error",
		                       "USERS_TABLE is not a table name (letters, digits and _, optionally schema.table)");
		return -1;
	}
	struct json_buf sql = { 0 }, req = { 0 };
	json_buf_lit(&sql, "SELECT ");
	for (int i = 0; i < NCOLUMNS; i++) {
		if (i)
			json_buf_lit(&sql, ", ");
		json_buf_lit(&sql, columns[i].sql);
	}
	json_buf_lit(&sql, " FROM ");
	json_buf_lit(&sql, table);
	json_buf_lit(&sql, " WHERE ");
	json_buf_lit(&sql, cond);
	json_buf_lit(&sql, " ORDER BY id LIMIT 1");
	json_buf_lit(&req, "{\"sql\":");
	json_buf_str(&req, sql.data, sql.len);
	json_buf_lit(&req, ",\"args\":[");
	json_buf_raw(&req, arg, arg_len);
	json_buf_lit(&req, "]}");
	int rc = sluice_host_call_json("sql.query", &req, &f->reply);
	json_buf_free(&sql);
	json_buf_free(&req);
	if (rc < 0) {
		*status = sluice_error("connector_error", "sql.query: unreadable answer (out of memory?)");
		return -1;
	}
	if (f->reply.error >= 0) {
		sluice_logf(SLUICE_WARN, "sql.query on %s failed", table);
		*status = sluice_pass_error(&f->reply);
		sluice_reply_free(&f->reply);
		return -1;
	}
	int rows = json_get(&f->reply.doc, f->reply.result, "rows");
	int row = json_index(&f->reply.doc, rows, 0);
	if (row >= 0 && (f->reply.doc.toks[row].type != JSON_ARRAY || f->reply.doc.toks[row].size != NCOLUMNS)) {
		*status = sluice_error("connector_error", "sql.query: a row without the selected columns");
		sluice_reply_free(&f->reply);
		return -1;
	}
	f->row = row;
	return 0;
}

/* write_user appends the found row as a User, leaving out NULL cells and
 * false flags (as the Go SDK's User does: absent means false). */
static void write_user(struct json_buf *out, const struct found *f)
{
	const struct json_doc *d = &f->reply.doc;
	json_buf_lit(out, "{");
	int first = 1;
	for (int i = 0; i < NCOLUMNS; i++) {
		int cell = json_index(d, f->row, i);
		if (!columns[i].field || d->toks[cell].type == JSON_NULL || d->toks[cell].type == JSON_FALSE)
			continue;
		if (!first)
			json_buf_lit(out, ",");
		first = 0;
		json_buf_str(out, columns[i].field, strlen(columns[i].field));
		json_buf_lit(out, ":");
		json_buf_tok(out, d, cell); /* a cell is JSON already: copy it */
	}
	json_buf_lit(out, "}");
}

/* nonempty_string returns member key of obj when it is a non-empty
 * string, else -1. */
static int nonempty_string(const struct json_doc *d, int obj, const char *key)
{
	int t = json_get(d, obj, key);
	if (t < 0 || d->toks[t].type != JSON_STRING || json_is_empty_string(d, t))
		return -1;
	return t;
}

/* find_by runs find for the first of email, username, phone that query
 * has; *none is set when it has none of them. */
static int find_by(const struct json_doc *in, int query, struct found *f, int32_t *status, int *none)
{
	static const struct {
		const char *key, *cond;
	} by[] = {
		{ "email", "lower(email) = lower($1)" },
		{ "username", "lower(username) = lower($1)" },
		{ "phone", "phone = $1" },
	};
	*none = 0;
	for (size_t i = 0; i < sizeof by / sizeof by[0]; i++) {
		int t = nonempty_string(in, query, by[i].key);
		if (t < 0)
			continue;
		/* The string token is valid JSON: pass it on as the argument as it is. */
		const struct json_tok *tok = &in->toks[t];
		return find(by[i].cond, in->src + tok->start, tok->end - tok->start, f, status);
	}
	*none = 1;
	return -1;
}

/* dummy_hash is a bcrypt hash of no one's password, as a JSON string, of
 * the cost examples/postgres writes (10): what login checks the password
 * against when there is no user, no hash or one the host cannot read, so
 * that every login costs one bcrypt run and its time does not tell
 * whether the user exists. Change its cost with your table's. */
static const char dummy_hash[] = "\"$2a$10$ej.mhiNIACqO92cj6.uiD.esOUzQZrnQQRpwSGD0xGbjthrulcvJ.\"";

/* check sends password.verify of password token pw against hash (JSON
 * text): 1 right, 0 wrong, 2 when the host cannot read the hash
 * (invalid_input: malformed, unknown or over its caps; *why gets the
 * host's message), -1 after writing the call's error. */
static int check(const char *hash, size_t hash_len, const struct json_doc *in, int pw, char *why, size_t why_cap,
                 int32_t *status)
{
	struct json_buf req = { 0 };
	json_buf_lit(&req, "{\"hash\":");
	json_buf_raw(&req, hash, hash_len);
	json_buf_lit(&req, ",\"password\":");
	json_buf_tok(&req, in, pw);
	json_buf_lit(&req, "}");
	struct sluice_reply r;
	int rc = sluice_host_call_json("password.verify", &req, &r);
	json_buf_free(&req);
	if (rc < 0) {
		*status = sluice_error("connector_error", "password.verify: unreadable answer (out of memory?)");
		return -1;
	}
	if (r.error >= 0) {
		char code[32];
		if (json_string(&r.doc, json_get(&r.doc, r.error, "code"), code, sizeof code) > 0 &&
		    strcmp(code, "invalid_input") == 0) {
			json_string(&r.doc, json_get(&r.doc, r.error, "message"), why, why_cap);
			sluice_reply_free(&r);
			return 2;
		}
		*status = sluice_pass_error(&r); /* timeout and the like: the call's error */
		sluice_reply_free(&r);
		return -1;
	}
	int valid = json_get(&r.doc, r.result, "valid");
	int ok = valid >= 0 && r.doc.toks[valid].type == JSON_TRUE;
	sluice_reply_free(&r);
	return ok;
}

/* verify checks password token pw against the found user's hash on the
 * host (against dummy_hash when f has no user): 1 right, 0 wrong, -1
 * after writing the call's error. No hash, or one the host cannot read
 * ("!" or "*" of a disabled account, a damaged one), matches no
 * password: it is a wrong password, after a check of dummy_hash so that
 * it takes as long, and the call logs a warning naming the user. */
static int verify(const struct json_doc *in, int pw, const struct found *f, int32_t *status)
{
	char why[512] = "";
	if (f->row < 0)
		return check(dummy_hash, sizeof dummy_hash - 1, in, pw, why, sizeof why, status) < 0 ? -1 : 0;
	const struct json_doc *d = &f->reply.doc;
	int hash = json_index(d, f->row, NCOLUMNS - 1);
	int ok = 2;
	if (!json_is_empty_string(d, hash)) {
		const struct json_tok *t = &d->toks[hash];
		ok = check(d->src + t->start, t->end - t->start, in, pw, why, sizeof why, status);
		if (ok == 2) {
			char id[32] = "?";
			json_string(d, json_index(d, f->row, 0), id, sizeof id);
			sluice_logf(SLUICE_WARN, "user %s: the host cannot read the stored password hash, so no password matches it: %s",
			            id, why);
		}
	}
	if (ok == 2) /* no usable hash: as long as a wrong password */
		ok = check(dummy_hash, sizeof dummy_hash - 1, in, pw, why, sizeof why, status) < 0 ? -1 : 0;
	return ok;
}

/* read_call reads and parses the call's input; -1 after writing the error. */
static int read_call(int32_t n, char **raw, struct json_doc *in, int32_t *status)
{
	*raw = sluice_read_input(n);
	if (!*raw) {
		*status = sluice_error("connector_error", "out of memory reading the input");
		return -1;
	}
	if (json_parse(in, *raw, (size_t)n) < 0 || in->toks[0].type != JSON_OBJECT) {
		free(*raw);
		*status = sluice_error("invalid_input", "the input is not a JSON object");
		return -1;
	}
	return 0;
}

SLUICE_EXPORT("login") int32_t login(int32_t n)
{
	char *raw;
	struct json_doc in;
	int32_t status;
	if (read_call(n, &raw, &in, &status) < 0)
		return status;
	int query = json_get(&in, 0, "query");
	int pw = json_get(&in, 0, "password");
	struct found f;
	int none;
	if (pw < 0 || in.toks[pw].type != JSON_STRING) {
		status = sluice_error("invalid_input", "password must be a string");
	} else if (find_by(&in, query, &f, &status, &none) < 0) {
		if (none)
			status = sluice_error("invalid_input", "the query needs an email, username or phone");
	} else {
		int ok = verify(&in, pw, &f, &status); /* with no user too: as long */
		if (ok >= 0 && f.row < 0) {
			status = sluice_error("user_not_found", "no such user");
		} else if (ok == 0) {
			status = sluice_error("wrong_password", "wrong password");
		} else if (ok > 0) {
			struct json_buf out = { 0 };
			write_user(&out, &f);
			status = sluice_result(&out);
			json_buf_free(&out);
		}
		sluice_reply_free(&f.reply);
	}
	json_free(&in);
	free(raw);
	return status;
}

/* parse_id reads a decimal id of the table (1 to 2^63-1) from string
 * token t into digits; 0 when t is not one (no user has it). */
static int parse_id(const struct json_doc *d, int t, char *digits, size_t cap)
{
	long n = json_string(d, t, digits, cap);
	if (n <= 0 || n > 19)
		return 0;
	for (long i = 0; i < n; i++)
		if (digits[i] < '0' || digits[i] > '9')
			return 0;
	errno = 0;
	char *end;
	long long v = strtoll(digits, &end, 10);
	return errno == 0 && *end == '\0' && v > 0;
}

SLUICE_EXPORT("getUser") int32_t getUser(int32_t n)
{
	char *raw;
	struct json_doc in;
	int32_t status;
	if (read_call(n, &raw, &in, &status) < 0)
		return status;
	int query = json_get(&in, 0, "query");
	int id = nonempty_string(&in, query, "id");
	struct found f;
	int rc, none = 0;
	if (id >= 0) {
		char digits[32];
		if (!parse_id(&in, id, digits, sizeof digits)) {
			static const char null[] = "null"; /* not an id of this table */
			sluice_output_write(null, sizeof null - 1);
			json_free(&in);
			free(raw);
			return SLUICE_OK;
		}
		rc = find("id = $1", digits, strlen(digits), &f, &status); /* a JSON integer */
	} else {
		rc = find_by(&in, query, &f, &status, &none);
	}
	if (rc == 0) {
		struct json_buf out = { 0 };
		if (f.row < 0)
			json_buf_lit(&out, "null");
		else
			write_user(&out, &f);
		status = sluice_result(&out);
		json_buf_free(&out);
		sluice_reply_free(&f.reply);
	} else if (none) {
		status = sluice_error("invalid_input", "the query needs an id, email, username or phone");
	}
	json_free(&in);
	free(raw);
	return status;
}
