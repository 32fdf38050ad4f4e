/* hold - legal holds: placed, previewed, swept over new mail, released; all audited. */
#include <ctype.h>
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "buf.h"
#include "db.h"
#include "hold.h"
#include "log.h"
#include "query.h"

/* The coverage condition: $1 hold id, $2 date_from, $3 date_to, $4 ids (int8[] or NULL), $5
 * indexed since (or NULL), then the compiled query's parameters from $6. */
#define HOLD_FIRST_PARAM 6
#define HOLD_FROM_SQL                                                                          \
	" FROM message_index mi WHERE ($2::timestamptz IS NULL OR mi.sent_at >= $2::timestamptz)" \
	" AND ($3::timestamptz IS NULL OR mi.sent_at < $3::timestamptz)"                         \
	" AND ($4::int8[] IS NULL OR mi.message_id = ANY($4::int8[]))"                           \
	" AND ($5::timestamptz IS NULL OR mi.message_id IN (SELECT m.id FROM messages m"        \
	" WHERE m.indexed_at >= $5::timestamptz)) AND (%s)"

/* A sweep looks at mail indexed since the hold's last sweep, less this margin: the indexer
 * stamps indexed_at when its transaction starts, and commits a little later. */
#define HOLD_SWEEP_MARGIN "1 hour"

#define INSERT_FMT                                                                             \
	"INSERT INTO hold_messages (hold_id, message_id) SELECT $1::int8, mi.message_id"        \
	HOLD_FROM_SQL " ON CONFLICT DO NOTHING"
#define COUNT_FMT "SELECT count(*) FROM (SELECT $1::int8 AS h, mi.message_id" HOLD_FROM_SQL ") s"

static const char hold_obj_sql[] =
	"json_build_object('name', h.name, 'matter', h.matter, 'description', h.description,"
	" 'id', h.id, 'query', h.query, 'custodians', h.custodians, 'date_from', h.date_from, 'date_to',"
	" h.date_to, 'placed_by', h.placed_by, 'placed_at', h.placed_at, 'active',"
	" h.released_at IS NULL, 'released_by', h.released_by, 'released_at', h.released_at,"
	" 'release_reason', h.release_reason, 'messages', (SELECT count(*) FROM hold_messages hm"
	" WHERE hm.hold_id = h.id))";

int
hold_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > HOLD_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s)) && *s != '.' &&
		    *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* hold_query_text - "(custodian:a OR custodian:b) (query)": what the hold covers, in the
 * search language. custodians is space-separated. Caller frees. */
static char *
hold_query_text(const char *query, const char *custodians)
{
	struct buf b = {0};
	char *list = xstrdup(custodians ? custodians : ""), *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		buf_appendf(&b, "%scustodian:%s", n++ ? " OR " : "(", tok);
	if (n)
		buf_append_str(&b, ")");
	if (query && *query)
		buf_appendf(&b, "%s(%s)", n ? " " : "", query);
	buf_append(&b, "", 1);
	free(list);
	return (char *)b.data;
}

static char *
spec_custodians(const struct hold_spec *s)
{
	struct buf b = {0};

	for (int i = 0; i < s->ncustodians; i++)
		buf_appendf(&b, "%s%s", i ? " " : "", s->custodians[i]);
	buf_append(&b, "", 1);
	for (char *p = (char *)b.data; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return (char *)b.data;
}

/* hold_cover - cover matching messages for one hold (count: only count them): *n is the rows
 * it inserted, or the count. */
static enum vl_err
hold_cover(PGconn *c, int count, const char *id, const char *from, const char *to,
	   const char *ids, const char *since, const char *query, const char *custodians,
	   int64_t *n, char *err)
{
	struct query_sql q = {0};
	char *text = hold_query_text(query, custodians), *sql;
	const char **vals;
	PGresult *r = NULL;
	enum vl_err rc;

	rc = query_compile(&q, text, HOLD_FIRST_PARAM, err);
	free(text);
	if (rc != VL_OK)
		return rc;
	sql = count ? xasprintf(COUNT_FMT, q.where) : xasprintf(INSERT_FMT, q.where);
	vals = xcalloc((size_t)q.nparams + 5, sizeof(*vals));
	vals[0] = id;
	vals[1] = from;
	vals[2] = to;
	vals[3] = ids;
	vals[4] = since;
	for (int i = 0; i < q.nparams; i++)
		vals[5 + i] = q.params[i];
	rc = db_query(c, sql, q.nparams + 5, vals, &r, err);
	if (rc == VL_OK)
		*n = PQntuples(r) == 1 && PQnfields(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
							      : strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	free(vals);
	free(sql);
	query_sql_free(&q);
	return rc;
}


static enum vl_err
spec_check(const struct hold_spec *s, char *err)
{
	if (!hold_name_ok(s->name))
		return vl_err_set(err, VL_ERR_PARSE, "hold name: 1 to %d of a-z 0-9 . _ -",
				  HOLD_NAME_MAX);
	if (s->matter && !hold_name_ok(s->matter))
		return vl_err_set(err, VL_ERR_PARSE, "matter name: 1 to %d of a-z 0-9 . _ -",
				  HOLD_NAME_MAX);
	if (s->ncustodians > HOLD_CUSTODIANS_MAX)
		return vl_err_set(err, VL_ERR_LIMIT, "at most %d custodians", HOLD_CUSTODIANS_MAX);
	for (int i = 0; i < s->ncustodians; i++)
		if (!hold_name_ok(s->custodians[i]))
			return vl_err_set(err, VL_ERR_PARSE, "'%.64s' is not a custodian name",
					  s->custodians[i]);
	if ((s->query == NULL || *s->query == '\0') && s->ncustodians == 0)
		return vl_err_set(err, VL_ERR_PARSE, "a hold needs custodians or a query");
	return VL_OK;
}

enum vl_err
hold_preview(PGconn *c, const struct hold_spec *spec, int64_t *count, char *err)
{
	char *cust;
	enum vl_err rc;

	if ((rc = spec_check(spec, err)) != VL_OK)
		return rc;
	cust = spec_custodians(spec);
	rc = hold_cover(c, 1, "0", spec->date_from, spec->date_to, NULL, NULL, spec->query, cust,
			count, err);
	free(cust);
	return rc;
}

static char *
place_details(const struct hold_spec *s, int64_t covered)
{
	json_t *a = json_array(), *d;
	char *txt;

	for (int i = 0; i < s->ncustodians; i++)
		json_array_append_new(a, json_string(s->custodians[i]));
	d = json_pack("{s:s, s:s, s:o, s:s?, s:s?, s:I}", "matter", s->matter, "query",
		      s->query ? s->query : "", "custodians", a, "date_from", s->date_from,
		      "date_to", s->date_to, "covered", (json_int_t)covered);
	txt = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("{}");
	json_decref(d);
	return txt;
}

static const char place_sql[] =
	"INSERT INTO holds (name, matter, description, query, custodians, date_from, date_to,"
	" placed_by, swept_at) SELECT $1, $2, coalesce($3, ''), coalesce($4, ''),"
	" string_to_array($5, ' '), $6::timestamptz, $7::timestamptz, $8, now()"
	" WHERE NOT EXISTS (SELECT 1 FROM holds WHERE name = $1) RETURNING id";

/* hold_place_tx - inside the caller's transaction: matter, hold row, coverage. */
static enum vl_err
hold_place_tx(PGconn *c, const char *actor, const struct hold_spec *s, const char *cust,
	      int64_t *covered, char *err)
{
	const char *mv[] = {s->matter, actor};
	const char *hv[] = {s->name, s->matter, s->description, s->query, cust,
			    s->date_from, s->date_to, actor};
	PGresult *r = NULL;
	enum vl_err rc;
	char id[24];

	if ((rc = db_exec(c, "SELECT pg_advisory_xact_lock(" HOLD_LOCK_KEY ")", 0, NULL, err)) !=
		    VL_OK ||
	    (rc = db_exec(c, "INSERT INTO matters (name, created_by) VALUES ($1, $2)"
			     " ON CONFLICT (name) DO NOTHING", 2, mv, err)) != VL_OK ||
	    (rc = db_query(c, place_sql, 8, hv, &r, err)) != VL_OK)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return vl_err_set(err, VL_ERR_EXISTS, "hold '%s' exists (names are never reused)",
				  s->name);
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return hold_cover(c, 0, id, s->date_from, s->date_to, NULL, NULL, s->query, cust, covered,
			  err);
}

enum vl_err
hold_place(PGconn *c, const char *actor, const char *client, const struct hold_spec *spec,
	   int64_t *covered, char *err)
{
	char *cust, *details;
	enum vl_err rc;

	if ((rc = spec_check(spec, err)) != VL_OK)
		return rc;
	if (spec->matter == NULL)
		return vl_err_set(err, VL_ERR_PARSE, "a hold belongs to a matter");
	if ((rc = db_begin(c, err)) != VL_OK)
		return rc;
	cust = spec_custodians(spec);
	rc = hold_place_tx(c, actor, spec, cust, covered, err);
	if (rc == VL_OK) {
		details = place_details(spec, *covered);
		/* audit_append commits the transaction with its row. */
		rc = audit_append(c, actor, client, "hold.place", spec->name, details, err);
		free(details);
	} else {
		db_rollback(c, NULL);
	}
	free(cust);
	return rc;
}

enum vl_err
hold_release(PGconn *c, const char *actor, const char *client, const char *name,
	     const char *reason, char *err)
{
	const char *vals[] = {name, actor, reason ? reason : ""};
	PGresult *r = NULL;
	enum vl_err rc;
	char *details;

	if ((rc = db_begin(c, err)) != VL_OK)
		return rc;
	rc = db_query(c,
		      "UPDATE holds SET released_by = $2, released_at = now(), release_reason = $3"
		      " WHERE name = $1 AND released_at IS NULL RETURNING id",
		      3, vals, &r, err);
	if (rc == VL_OK && PQntuples(r) == 0) {
		PQclear(r);
		r = NULL;
		rc = db_query(c, "SELECT 1 FROM holds WHERE name = $1", 1, vals, &r, err);
		if (rc == VL_OK)
			rc = PQntuples(r) ? vl_err_set(err, VL_ERR_EXISTS, "hold '%.128s' is "
							 "already released", name)
					  : vl_err_set(err, VL_ERR_NOTFOUND, "no hold '%.128s'", name);
	}
	PQclear(r);
	if (rc != VL_OK) {
		db_rollback(c, NULL);
		return rc;
	}
	{
		json_t *d = json_pack("{s:s}", "reason", vals[2]);

		details = d ? json_dumps(d, JSON_COMPACT) : xstrdup("{}");
		json_decref(d);
	}
	rc = audit_append(c, actor, client, "hold.release", name, details, err);
	free(details);
	return rc;
}

/* hold_sweep_goes_on - a full sweep steps over a hold whose query no longer compiles (the
 * query language may have changed since it was placed; no SQL ran for it) so that the other
 * holds still cover new mail; the failure is still returned. A sweep over disposal candidates
 * (ids) never does: what a hold could not look at must not be disposed of. */
static int
hold_sweep_goes_on(enum vl_err rc, const char *ids)
{
	return ids == NULL && (rc == VL_ERR_PARSE || rc == VL_ERR_LIMIT);
}

enum vl_err
hold_sweep(PGconn *c, const char *ids, int64_t *added, char *err)
{
	PGresult *r = NULL;
	enum vl_err rc, first = VL_OK;
	char first_err[VL_ERRLEN] = "";
	int64_t total = 0;

	/* A full sweep looks at what was indexed since the last one (all of it the first time)
	 * and moves swept_at to this sweep's start; a sweep over ids looks at those only. */
	rc = db_query(c,
		      "SELECT id, date_from, date_to, query, array_to_string(custodians, ' '),"
		      " swept_at - interval '" HOLD_SWEEP_MARGIN "', now(), name"
		      " FROM holds WHERE released_at IS NULL ORDER BY id",
		      0, NULL, &r, err);
	for (int i = 0; rc == VL_OK && i < PQntuples(r); i++) {
		int64_t n = 0;
		const char *from = PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1);
		const char *to = PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2);
		const char *since = ids || PQgetisnull(r, i, 5) ? NULL : PQgetvalue(r, i, 5);
		const char *uv[] = {PQgetvalue(r, i, 0), PQgetvalue(r, i, 6)};

		rc = hold_cover(c, 0, PQgetvalue(r, i, 0), from, to, ids, since, PQgetvalue(r, i, 3),
				PQgetvalue(r, i, 4), &n, err);
		total += n;
		if (rc == VL_OK && ids == NULL)
			rc = db_exec(c, "UPDATE holds SET swept_at = $2::timestamptz WHERE id = $1::int8",
				     2, uv, err);
		if (hold_sweep_goes_on(rc, ids)) {
			/* Kept to be returned; its swept_at stays, so its next sweep starts there. */
			if (first == VL_OK) {
				first = rc;
				snprintf(first_err, sizeof(first_err), "hold %s: %s", PQgetvalue(r, i, 7),
					 err);
			}
			log_warnx("hold sweep: hold %s not swept: %s", PQgetvalue(r, i, 7), err);
			rc = VL_OK;
		}
	}
	PQclear(r);
	if (added)
		*added = total;
	if (rc == VL_OK && first != VL_OK)
		rc = vl_err_set(err, first, "%s", first_err);
	return rc;
}

static enum vl_err
json_one(PGconn *c, const char *sql, int n, const char *const *vals, char **json, char *err)
{
	PGresult *r = NULL;
	enum vl_err rc = db_query(c, sql, n, vals, &r, err);

	if (rc == VL_OK && (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)))
		rc = vl_err_set(err, VL_ERR_NOTFOUND, "not found");
	if (rc == VL_OK)
		*json = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}

enum vl_err
hold_list_json(PGconn *c, char **json, char *err)
{
	char *sql = xasprintf("SELECT coalesce(json_agg(%s ORDER BY h.name), '[]')::text"
			      " FROM holds h", hold_obj_sql);
	enum vl_err rc = json_one(c, sql, 0, NULL, json, err);

	free(sql);
	return rc;
}

enum vl_err
hold_show_json(PGconn *c, const char *name, char **json, char *err)
{
	char *sql = xasprintf("SELECT %s::text FROM holds h WHERE h.name = $1", hold_obj_sql);
	const char *vals[] = {name};
	enum vl_err rc = json_one(c, sql, 1, vals, json, err);

	free(sql);
	if (rc == VL_ERR_NOTFOUND)
		rc = vl_err_set(err, VL_ERR_NOTFOUND, "no hold '%.128s'", name);
	return rc;
}

enum vl_err
hold_matters_json(PGconn *c, char **json, char *err)
{
	return json_one(c,
			"SELECT coalesce(json_agg(json_build_object('name', m.name, 'description',"
			" m.description, 'created_by', m.created_by, 'created_at', m.created_at,"
			" 'holds', (SELECT coalesce(json_agg(h.name ORDER BY h.name), '[]') FROM"
			" holds h WHERE h.matter = m.name)) ORDER BY m.name), '[]')::text"
			" FROM matters m",
			0, NULL, json, err);
}

enum vl_err
hold_matter_create(PGconn *c, const char *actor, const char *client, const char *name,
		   const char *description, char *err)
{
	const char *vals[] = {name, description ? description : "", actor};
	PGresult *r = NULL;
	enum vl_err rc;

	if (!hold_name_ok(name))
		return vl_err_set(err, VL_ERR_PARSE, "matter name: 1 to %d of a-z 0-9 . _ -",
				  HOLD_NAME_MAX);
	if ((rc = db_begin(c, err)) != VL_OK)
		return rc;
	rc = db_query(c, "INSERT INTO matters (name, description, created_by) VALUES ($1, $2, $3)"
			 " ON CONFLICT (name) DO NOTHING RETURNING name", 3, vals, &r, err);
	if (rc == VL_OK && PQntuples(r) == 0)
		rc = vl_err_set(err, VL_ERR_EXISTS, "matter '%.128s' exists", name);
	PQclear(r);
	if (rc != VL_OK) {
		db_rollback(c, NULL);
		return rc;
	}
	return audit_append(c, actor, client, "matter.create", name, NULL, err);
}

enum vl_err
hold_of_message_json(PGconn *c, const char *id, char **json, char *err)
{
	const char *vals[] = {id};

	return json_one(c,
			"SELECT coalesce(json_agg(json_build_object('name', h.name, 'matter',"
			" h.matter, 'active', h.released_at IS NULL) ORDER BY h.name), '[]')::text"
			" FROM hold_messages hm JOIN holds h ON h.id = hm.hold_id"
			" WHERE hm.message_id = $1::int8",
			1, vals, json, err);
}

enum vl_err
hold_name_by_id(PGconn *c, const char *id, char *name, char *err)
{
	char *json = NULL;
	const char *vals[] = {id};
	enum vl_err rc = json_one(c, "SELECT name FROM holds WHERE id = $1::int8", 1, vals, &json,
				  err);

	if (rc == VL_ERR_NOTFOUND)
		rc = vl_err_set(err, VL_ERR_NOTFOUND, "no hold %.24s", id);
	if (rc == VL_OK)
		snprintf(name, HOLD_NAME_MAX + 1, "%s", json);
	free(json);
	return rc;
}
