/* handlers - what each API route does once the request is authenticated and allowed.
 *
 * Replies are built in SQL where the data lives (json_build_object), so each route is one
 * query; C adds what needs the store (verification, the raw bytes). Every read of evidence is
 * audited before the evidence leaves, as `vellum cat` does. */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "bizfields.h"
#include "buf.h"
#include "db.h"
#include "fsutil.h"
#include "handlers.h"
#include "log.h"
#include "reply.h"
#include "reqjson.h"
#include "token.h"

#include "query.h"
#include "search.h"
#include "unindexed.h"

#define AUDIT_LIMIT_DFLT 100
#define AUDIT_LIMIT_MAX 1000
#define FILTER_MAX 256

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* audit_row - one audit row of this request; details is stolen (may be NULL). */
static enum vl_err
audit_row(struct handler_ctx *ctx, const char *action, const char *target, json_t *details,
	  char *err)
{
	char *text = details ? json_dumps(details, JSON_COMPACT) : NULL;
	enum vl_err rc = audit_append(pool_conn(ctx->slot), ctx->actor, ctx->req->client, action,
				      target, text, err);

	free(text);
	json_decref(details);
	return rc;
}

/* ---- messages ------------------------------------------------------------------------- */

#define MESSAGE_JSON                                                                               \
	"json_build_object('id', m.id, 'received_at', " TS("m.received_at") ", 'size', m.size,"   \
	" 'sha256', encode(m.sha256, 'hex'), 'headers', json_build_object('from', m.hdr_from,"    \
	" 'to', m.hdr_to, 'cc', m.hdr_cc, 'subject', m.hdr_subject, 'date', " TS("m.hdr_date")     \
	", 'message_id', m.hdr_message_id), 'parse_error', m.parse_error,"                         \
	" 'indexed', m.indexed_at IS NOT NULL,"                                                    \
	" 'envelope', (SELECT coalesce(json_agg(json_build_object('receipt', r.id, 'source',"      \
	" r.source, 'received_at', " TS("r.received_at") ", 'mail_from', r.mail_from,"             \
	" 'client_addr', r.client_addr, 'helo', r.helo, 'tls', r.tls, 'listener', r.listener,"     \
	" 'auth_user', r.auth_user, 'xforward', r.xforward, 'journal_report',"                     \
	" r.journal_report_id,"                                                                     \
	" 'recipients', (SELECT coalesce(json_agg("                                               \
	"json_build_object('address', e.address, 'role', e.role, 'orcpt', e.orcpt)"                \
	" ORDER BY e.position), '[]'::json) FROM envelope_recipients e WHERE e.receipt_id = r.id"   \
	" AND NOT ($2::bool AND e.role = 'bcc')))"                                                \
	" ORDER BY r.id), '[]'::json) FROM receipts r WHERE r.message_id = m.id),"                 \
	" 'attachments', (SELECT coalesce(json_agg(json_build_object('position', a.position,"      \
	" 'filename', a.filename, 'content_type', a.content_type, 'size', a.size)"                 \
	" ORDER BY a.position), '[]'::json) FROM attachments a WHERE a.message_id = m.id),"         \
	" 'holds', (SELECT coalesce(json_agg(json_build_object('id', h.id, 'name', h.name,"         \
	" 'matter', h.matter, 'active', h.released_at IS NULL) ORDER BY h.name), '[]'::json)"     \
	" FROM hold_messages hm JOIN holds h ON h.id = hm.hold_id WHERE hm.message_id = m.id),"    \
	" 'fields', (SELECT " BIZFIELDS_JSON("bf", "(SELECT count(*) FROM business_fields g"       \
	" WHERE g.message_id = m.id)") " FROM business_fields_current bf"                          \
	" WHERE bf.message_id = m.id))::text"

#define MESSAGE_SQL                                                                                \
	"SELECT " MESSAGE_JSON ", b.segment_id::text, b.record_offset::text,"                      \
	" encode(b.sha256, 'hex'), s.sealed_at IS NOT NULL, m.size::text,"                         \
	" CASE WHEN EXISTS (SELECT 1 FROM receipts j WHERE j.journal_report_id = m.id) THEN 2"    \
	" ELSE coalesce((SELECT i.bcc_exposure FROM message_index i WHERE i.message_id = m.id),"  \
	" 2) END"                                                                                 \
	" FROM messages m JOIN blobs b ON b.address = m.address"                                   \
	" JOIN segments s ON s.id = b.segment_id WHERE m.id = $1::int8"

struct message_loc {
	uint64_t segment, offset, size;
	uint8_t sha256[32];
	char sha_hex[65];
	int sealed;
	int bcc_exposure; /* message_index.bcc_exposure (0015); 2 when a report or not indexed */
};

/* hide_bcc - the caller may not see Bcc recipients (roles.c, PERM_BCC). */
static int
hide_bcc(const struct handler_ctx *ctx)
{
	return !role_allows(ctx->role, PERM_BCC);
}

/* message_lookup - the row of ctx->id: 404 (answered) when there is none. */
static enum vl_err
message_lookup(struct handler_ctx *ctx, PGresult **res, struct message_loc *loc)
{
	char err[VL_ERRLEN];
	const char *vals[] = {ctx->id, hide_bcc(ctx) ? "t" : "f"};
	enum vl_err rc = db_query(pool_conn(ctx->slot), MESSAGE_SQL, 2, vals, res, err);

	if (rc != VL_OK) {
		reply_internal(ctx->resp, rc, "message lookup", err);
		return rc;
	}
	if (PQntuples(*res) != 1) {
		reply_error(ctx->resp, 404, "not_found", "no message %s", ctx->id);
		return VL_ERR_NOTFOUND;
	}
	loc->segment = strtoull(PQgetvalue(*res, 0, 1), NULL, 10);
	loc->offset = strtoull(PQgetvalue(*res, 0, 2), NULL, 10);
	snprintf(loc->sha_hex, sizeof(loc->sha_hex), "%s", PQgetvalue(*res, 0, 3));
	if (hex_decode(loc->sha256, 32, loc->sha_hex) != 0)
		return VL_ERR_CORRUPT;
	loc->sealed = PQgetvalue(*res, 0, 4)[0] == 't';
	loc->size = strtoull(PQgetvalue(*res, 0, 5), NULL, 10);
	loc->bcc_exposure = atoi(PQgetvalue(*res, 0, 6));
	return VL_OK;
}

/* bcc_refused - for a caller without Bcc visibility, refuse (403, audited as auth.denied) a
 * journal report or a message not indexed yet, whose Bcc is unknown; with raw, also a message
 * whose own header has Bcc: its bytes cannot be given without it, and evidence is never
 * altered. Returns 1 when refused (answered), 0 to go on. */
static int
bcc_refused(struct handler_ctx *ctx, const struct message_loc *loc, int raw, const char *target)
{
	static const char *const why[] = {
		"", "its own header names Bcc recipients",
		"it is a journal report, whose body lists Bcc recipients, or not indexed yet"};
	char err[VL_ERRLEN] = "";
	enum vl_err rc;

	if (!hide_bcc(ctx) || loc->bcc_exposure < (raw ? 1 : 2))
		return 0;
	rc = audit_row(ctx, "auth.denied", target,
		       json_pack("{s:s,s:s,s:s}", "role", role_name(ctx->role), "needs", "bcc",
				 "why", why[loc->bcc_exposure]),
		       err);
	if (rc != VL_OK)
		reply_internal(ctx->resp, rc, "audit", err);
	else
		reply_error(ctx->resp, 403, "forbidden", "the role %s may not read message %s: %s",
			    role_name(ctx->role), ctx->id, why[loc->bcc_exposure]);
	return 1;
}

/* read_record - the message's exact bytes to fn, verified against its SHA-256 first (vault);
 * on VL_ERR_NOKEY the vault is read again once (keys rotated, dictionary trained). */
static enum vl_err
read_record(struct handler_ctx *ctx, const struct message_loc *loc, record_write_fn fn, void *arg,
	    struct record_info *info, char *err)
{
	struct vault *v;
	enum vl_err rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = pool_vault(ctx->slot, &v, err)) != VL_OK)
			return rc;
		rc = vault_read(v, loc->segment, loc->offset, loc->sha256, fn, arg, info, err);
		if (rc != VL_ERR_NOKEY)
			return rc;
		pool_vault_reset(ctx->slot);
	}
	return rc;
}

static enum vl_err
discard_fn(void *arg, const uint8_t *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return VL_OK;
}

void
handle_message(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "", target[40];
	PGresult *r = NULL;
	struct message_loc loc;
	struct record_info info;
	json_t *o;
	enum vl_err rc;

	snprintf(target, sizeof(target), "message:%s", ctx->id);
	if (message_lookup(ctx, &r, &loc) != VL_OK || bcc_refused(ctx, &loc, 0, target))
		goto out;
	if ((o = json_loads(PQgetvalue(r, 0, 0), 0, NULL)) == NULL) {
		reply_internal(ctx->resp, VL_ERR_INTERNAL, "message json", "unparsable");
		goto out;
	}
	if ((rc = audit_row(ctx, "message.view", target, NULL, err)) != VL_OK) {
		json_decref(o);
		reply_internal(ctx->resp, rc, "audit", err);
		goto out;
	}
	/* Verification: the record decrypts, authenticates and hashes to the evidence SHA-256.
	 * What fails for a reason of the moment (the record not openable just now, the database,
	 * memory) is no verdict on it: 503, not "damaged". A key missing is one: key_missing. */
	rc = read_record(ctx, &loc, discard_fn, NULL, &info, err);
	if (vl_err_http(rc) == 503 && rc != VL_ERR_NOKEY) {
		json_decref(o);
		reply_internal(ctx->resp, rc, "verification", err);
		goto out;
	}
	json_object_set_new(o, "verification",
			    json_pack("{s:s,s:b,s:b}", "record",
				      rc == VL_OK		? "ok"
				      : rc == VL_ERR_NOKEY ? "key_missing"
							   : "damaged",
				      "sha256_matches", rc == VL_OK, "segment_sealed", loc.sealed));
	if (rc != VL_OK)
		log_warnx("api: message %s does not verify: %s", ctx->id, err);
	reply_json(ctx->resp, 200, o);
out:
	PQclear(r);
}

static enum vl_err
fd_fn(void *arg, const uint8_t *p, size_t n)
{
	return fs_write_full(*(int *)arg, p, n);
}

/* raw_headers - type, evidence hash (hex, and RFC 9530 Repr-Digest), a file name. */
static void
raw_headers(struct handler_ctx *ctx, const struct message_loc *loc)
{
	char b64[64], digest[96], disp[96];

	sodium_bin2base64(b64, sizeof(b64), loc->sha256, 32, sodium_base64_VARIANT_ORIGINAL);
	snprintf(digest, sizeof(digest), "sha-256=:%s:", b64);
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.eml\"", ctx->id);
	ctx->resp->content_type = "message/rfc822";
	http_resp_header(ctx->resp, "X-Vellum-SHA256", loc->sha_hex);
	http_resp_header(ctx->resp, "Repr-Digest", digest);
	http_resp_header(ctx->resp, "Content-Disposition", disp);
}

void
handle_message_raw(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "", target[40], tmpdir[CONFIG_PATH_MAX];
	PGresult *r = NULL;
	struct message_loc loc;
	struct record_info info;
	enum vl_err rc;
	int fd = -1;

	snprintf(target, sizeof(target), "message:%s", ctx->id);
	if (message_lookup(ctx, &r, &loc) != VL_OK || bcc_refused(ctx, &loc, 1, target))
		goto out;
	/* Audited before the bytes leave, like `vellum cat`. */
	rc = audit_row(ctx, "message.raw", target,
		       json_pack("{s:s,s:I}", "sha256", loc.sha_hex, "size", (json_int_t)loc.size),
		       err);
	if (rc != VL_OK) {
		reply_internal(ctx->resp, rc, "audit", err);
		goto out;
	}
	/* The bytes go through an unnamed file in the store's scratch folder, so a message of
	 * any size is served in bounded memory, and only once it verified whole. */
	config_path(tmpdir, ctx->cfg, "store/tmp");
	if ((fd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0) {
		reply_internal(ctx->resp, VL_ERR_IO, "raw scratch file", tmpdir);
		goto out;
	}
	rc = read_record(ctx, &loc, fd_fn, &fd, &info, err);
	if (rc == VL_OK && lseek(fd, 0, SEEK_SET) != 0)
		rc = vl_err_set(err, VL_ERR_IO, "seek");
	if (rc != VL_OK) {
		reply_internal(ctx->resp, rc, "reading the message", err);
		goto out;
	}
	raw_headers(ctx, &loc);
	ctx->resp->status = 200;
	ctx->resp->fd = fd;
	ctx->resp->fd_size = info.raw_len;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	PQclear(r);
}

/* ---- audit ---------------------------------------------------------------------------- */

int
handlers_time_valid(const char *s)
{
	const char *pat = "dddd-dd-ddTdd:dd:dd";
	size_t len = strlen(s), i;

	if (len == 10) {
		for (i = 0; i < 10; i++)
			if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
				return 0;
		return 1;
	}
	if (len < 20 || s[len - 1] != 'Z')
		return 0;
	for (i = 0; pat[i]; i++)
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return 0;
	if (s[i] == 'Z')
		return i == len - 1;
	if (s[i] != '.' || len - i - 2 < 1 || len - i - 2 > 6)
		return 0;
	return strspn(s + i + 1, "0123456789") == len - i - 2;
}

/* digits_in - s is 1..maxlen digits with a value from lo to hi. */
static int
digits_in(const char *s, size_t maxlen, long long lo, long long hi)
{
	size_t n = strlen(s);

	if (n == 0 || n > maxlen || strspn(s, "0123456789") != n)
		return 0;
	long long v = strtoll(s, NULL, 10);
	return v >= lo && v <= hi;
}

/* audit_filters - the query's filters, checked; 400 (answered) when one is bad. */
static int
audit_filters(struct handler_ctx *ctx, const char *f[6])
{
	static const char *const names[] = {"actor", "action", "since", "until", "after", "limit"};

	for (int i = 0; i < 6; i++) {
		f[i] = http_req_arg(ctx->req, names[i]);
		if (f[i] && strlen(f[i]) > FILTER_MAX) {
			reply_error(ctx->resp, 400, "bad_field", "%s is longer than %d bytes",
				    names[i], FILTER_MAX);
			return 0;
		}
	}
	for (int i = 2; i < 4; i++) {
		if (f[i] && !handlers_time_valid(f[i])) {
			reply_error(ctx->resp, 400, "bad_field",
				    "%s must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.ffffff]Z (UTC)",
				    names[i]);
			return 0;
		}
	}
	if (f[4] && !digits_in(f[4], 18, 0, INT64_MAX)) {
		reply_error(ctx->resp, 400, "bad_field", "after must be an audit sequence number");
		return 0;
	}
	if (f[5] && !digits_in(f[5], 4, 1, AUDIT_LIMIT_MAX)) {
		reply_error(ctx->resp, 400, "bad_field", "limit must be from 1 to %d",
			    AUDIT_LIMIT_MAX);
		return 0;
	}
	return 1;
}

#define AUDIT_SQL                                                                                  \
	"SELECT coalesce(json_agg(json_build_object('seq', seq, 'at', " TS("at") ", 'actor',"     \
	" actor, 'client', client_addr, 'action', action, 'target', target, 'details', details)"   \
	" ORDER BY seq), '[]'::json)::text, count(*), max(seq) FROM (SELECT * FROM audit"          \
	" WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR action = $2)"            \
	" AND ($3::timestamptz IS NULL OR at >= $3::timestamptz)"                                  \
	" AND ($4::timestamptz IS NULL OR at < $4::timestamptz)"                                   \
	" AND seq > coalesce($5::int8, 0) ORDER BY seq LIMIT $6::int) x"

void
handle_audit(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "", limit[8];
	const char *f[6];
	PGresult *r = NULL;
	json_t *rows, *details;
	enum vl_err rc;

	if (!audit_filters(ctx, f))
		return;
	snprintf(limit, sizeof(limit), "%s", f[5] ? f[5] : "100");
	const char *vals[] = {f[0], f[1], f[2], f[3], f[4], limit};
	/* The time texts are checked above; PostgreSQL still judges the calendar (2024-02-30). */
	rc = db_query(pool_conn(ctx->slot), AUDIT_SQL, 6, vals, &r, err);
	if (rc != VL_OK) {
		if (strstr(err, "out of range") || strstr(err, "invalid input syntax"))
			reply_error(ctx->resp, 400, "bad_field", "since or until is not a valid time");
		else
			reply_internal(ctx->resp, rc, "audit query", err);
		return;
	}
	rows = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	long long n = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	details = json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?,s:I}", "actor", f[0], "action", f[1],
			    "since", f[2], "until", f[3], "after", f[4], "rows", (json_int_t)n);
	if ((rc = audit_row(ctx, "audit.read", NULL, details, err)) != VL_OK) {
		json_decref(rows);
		reply_internal(ctx->resp, rc, "audit", err);
		goto out;
	}
	reply_json(ctx->resp, 200,
		   json_pack("{s:o,s:o}", "rows", rows ? rows : json_array(), "next",
			     n == atoi(limit) ? json_string(PQgetvalue(r, 0, 2)) : json_null()));
out:
	PQclear(r);
}

struct verify_state {
	uint64_t breaks, first_seq;
	char first_why[160];
};

static void
verify_bad(void *arg, uint64_t seq, const char *why)
{
	struct verify_state *st = arg;

	if (st->breaks++ == 0) {
		st->first_seq = seq;
		snprintf(st->first_why, sizeof(st->first_why), "%s", why);
	}
}

void
handle_audit_verify(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "";
	struct verify_state st = {0};
	uint64_t rows = 0;
	json_t *first = json_null();
	enum vl_err rc;

	rc = audit_walk(pool_conn(ctx->slot), verify_bad, &st, &rows, err);
	if (rc != VL_OK && rc != VL_ERR_CORRUPT) {
		reply_internal(ctx->resp, rc, "audit walk", err);
		return;
	}
	if (st.breaks)
		first = json_pack("{s:I,s:s}", "seq", (json_int_t)st.first_seq, "why", st.first_why);
	rc = audit_row(ctx, "audit.verify", NULL,
		       json_pack("{s:b,s:I,s:I}", "ok", st.breaks == 0, "rows", (json_int_t)rows,
				 "breaks", (json_int_t)st.breaks),
		       err);
	if (rc != VL_OK) {
		json_decref(first);
		reply_internal(ctx->resp, rc, "audit", err);
		return;
	}
	reply_json(ctx->resp, 200,
		   json_pack("{s:b,s:I,s:I,s:o}", "ok", st.breaks == 0, "rows", (json_int_t)rows,
			     "breaks", (json_int_t)st.breaks, "first_broken", first));
}

/* ---- tokens --------------------------------------------------------------------------- */

void
handle_tokens(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "";
	json_t *list;
	enum vl_err rc;

	if ((rc = token_list(pool_conn(ctx->slot), &list, err)) != VL_OK) {
		reply_internal(ctx->resp, rc, "token list", err);
		return;
	}
	rc = audit_row(ctx, "token.list", NULL,
		       json_pack("{s:I}", "tokens", (json_int_t)json_array_size(list)), err);
	if (rc != VL_OK) {
		json_decref(list);
		reply_internal(ctx->resp, rc, "audit", err);
		return;
	}
	reply_json(ctx->resp, 200, json_pack("{s:o}", "tokens", list));
}

/* ---- search --------------------------------------------------------------------------- */

static json_t *
jstr(const char *s)
{
	json_t *v = s ? json_string(s) : NULL;

	return v ? v : json_null();
}

static json_t *
jtime(int64_t us)
{
	char out[48];
	time_t t = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
	long frac = (long)(us - (int64_t)t * 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + strlen(out), sizeof(out) - strlen(out), ".%06ldZ", frac);
	return json_string(out);
}

static json_t *
hit_json(const struct search_hit *h)
{
	json_t *att = json_array();

	for (size_t i = 0; i < h->nattachments; i++)
		json_array_append_new(att, jstr(h->attachments[i]));
	return json_pack("{s:I,s:o,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)h->id,
			 "sent_at", jtime(h->sent_us), "received_at", jtime(h->received_us), "size",
			 (json_int_t)h->size, "from", jstr(h->from), "to", jstr(h->to), "subject",
			 jstr(h->subject), "message_id", jstr(h->message_id), "attachments", att,
			 "snippet", jstr(h->snippet));
}

/* search_vault - the slot's vault, for the snippets; NULL (every snippet "") when it cannot be
 * opened: the search itself needs only the database. */
static struct vault *
search_vault(struct handler_ctx *ctx)
{
	struct vault *v = NULL;
	char err[VL_ERRLEN];

	if (pool_vault(ctx->slot, &v, err) != VL_OK) {
		log_warnx("search: no snippets: %s", err);
		return NULL;
	}
	return v;
}

/* search_error - the engine's refusal as a 400 (403, audited, for an operator the role may not
 * use), or a failure of ours. */
void
search_error(struct handler_ctx *ctx, enum vl_err rc, const char *err)
{
	char aerr[VL_ERRLEN];
	enum vl_err arc;

	if (rc == VL_ERR_PARSE && strstr(err, QUERY_ERR_BCC) != NULL) {
		arc = audit_row(ctx, "auth.denied", NULL,
				json_pack("{s:s,s:s,s:s}", "role", role_name(ctx->role), "needs",
					  "bcc", "why", err),
				aerr);
		if (arc != VL_OK)
			reply_internal(ctx->resp, arc, "audit", aerr);
		else
			reply_error(ctx->resp, 403, "forbidden", "%s", err);
	} else if (rc == VL_ERR_PARSE)
		reply_error(ctx->resp, 400, "bad_query", "%s", err);
	else if (rc == VL_ERR_CONFIG)
		reply_error(ctx->resp, 400, "bad_field", "%s", err);
	else
		reply_internal(ctx->resp, rc, "search", err);
}

static const struct reqjson_field search_fields[] = {
	{"query", RJ_STRING, 1},
	{"limit", RJ_INT, 0},
	{"cursor", RJ_STRING, 0},
	{"count", RJ_BOOL, 0},
};

void
handle_search(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "";
	const char *code;
	json_t *in, *hits, *out;
	struct search_page page = {0};
	struct search_total total = {0};
	struct unindexed_summary unidx = {0};
	struct search_who who = {ctx->actor, ctx->req->client, hide_bcc(ctx)};
	struct timespec t0, t1;
	enum vl_err rc;

	if (reqjson_parse(&in, (const char *)ctx->req->body, ctx->req->body_len, search_fields,
			  sizeof(search_fields) / sizeof(search_fields[0]), &code, err) != VL_OK) {
		reply_error(ctx->resp, 400, code, "%s", err);
		return;
	}
	json_int_t limit = json_integer_value(json_object_get(in, "limit"));
	if (json_object_get(in, "limit") == NULL)
		limit = SEARCH_LIMIT_DFLT;
	if (limit < 1 || limit > SEARCH_LIMIT_MAX) {
		reply_error(ctx->resp, 400, "bad_field", "limit must be from 1 to %d",
			    SEARCH_LIMIT_MAX);
		goto out;
	}
	const char *query = json_string_value(json_object_get(in, "query"));
	const char *cursor = json_string_value(json_object_get(in, "cursor"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = search_page_get(pool_conn(ctx->slot), search_vault(ctx), &who, query, (size_t)limit,
			     cursor, &page, err);
	if (page.stale_vault)
		pool_vault_reset(ctx->slot);
	if (rc == VL_OK && json_is_true(json_object_get(in, "count")))
		rc = search_total_get(pool_conn(ctx->slot), &who, query, 0, &total, err);
	if (rc == VL_OK) /* every search carries its scope's unindexed items (unindexed.h) */
		rc = unindexed_summary_get(pool_conn(ctx->slot), query, hide_bcc(ctx), &unidx, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_observe(ctx->search_seconds, (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
							(t1.tv_nsec - t0.tv_nsec) / 1000));
	if (rc != VL_OK) {
		search_error(ctx, rc, err);
		goto out;
	}
	hits = json_array();
	for (size_t i = 0; i < page.n; i++)
		json_array_append_new(hits, hit_json(&page.hits[i]));
	out = json_pack("{s:o,s:o,s:o}", "hits", hits, "next",
			page.next[0] ? json_string(page.next) : json_null(), "unindexed",
			unindexed_summary_json(&unidx));
	if (json_is_true(json_object_get(in, "count")))
		json_object_set_new(out, "total",
				    json_pack("{s:I,s:b}", "n", (json_int_t)total.n, "estimated",
					      total.estimated));
	reply_json(ctx->resp, 200, out);
out:
	search_page_free(&page);
	json_decref(in);
}
