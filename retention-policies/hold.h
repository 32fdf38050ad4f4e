/* hold - legal holds: matters, holds by custodians and/or a search query and a sent-date
 * range, their materialised coverage (hold_messages), preview, release (recorded, never a
 * deletion) and the sweep that extends every active hold to mail indexed since it was placed.
 * Owns: the holds tables' writes (audited) and reads as JSON text.
 * Not: the query language (search/query), the delete guard (schema 0005), disposal (dispose).
 *
 * Coverage of later arrivals: a hold matches only indexed messages (message_index). Every
 * active hold is swept again by `vellum index` and serve's upkeep (hold_sweep with ids NULL),
 * and disposal sweeps every active hold over its candidates inside its own transaction before
 * deleting (hold_sweep with ids), and never disposes a message that is not yet indexed: so no
 * message a hold's query matches can go, however recently it arrived. */
#ifndef VL_HOLD_H
#define VL_HOLD_H

#include <libpq-fe.h>
#include <stdint.h>

#include "vl_err.h"

#define HOLD_NAME_MAX 128
#define HOLD_CUSTODIANS_MAX 100
#define HOLD_LOCK_KEY "7283006" /* pg_advisory_xact_lock: placing, sweeping, disposing */

struct hold_spec {
	const char *name;        /* [a-z0-9._-]{1,128} */
	const char *matter;      /* created when missing */
	const char *description; /* may be NULL */
	const char *query;       /* search language; may be NULL or "" when custodians are given */
	char *const *custodians; /* ncustodians custodian names */
	int ncustodians;
	const char *date_from;   /* sent at or after (timestamptz text); may be NULL */
	const char *date_to;     /* sent before; may be NULL */
};

/* hold_preview - how many indexed messages spec would cover now. VL_ERR_PARSE for a bad
 * name, query or date; VL_ERR_DB. */
enum vl_err hold_preview(PGconn *c, const struct hold_spec *spec, int64_t *count,
			 char *err) VL_MUST_CHECK;

/* hold_place - create the hold (and its matter), cover every matching indexed message, audit
 * "hold.place"; one transaction. *covered: messages covered. VL_ERR_EXISTS for a taken name. */
enum vl_err hold_place(PGconn *c, const char *actor, const char *client,
		       const struct hold_spec *spec, int64_t *covered, char *err) VL_MUST_CHECK;

/* hold_release - mark hold name released with reason (audited "hold.release"). Its coverage
 * rows stay, as history. VL_ERR_NOTFOUND, VL_ERR_EXISTS when already released. */
enum vl_err hold_release(PGconn *c, const char *actor, const char *client, const char *name,
			 const char *reason, char *err) VL_MUST_CHECK;

/* hold_sweep - add to every active hold the matching indexed messages it does not cover yet;
 * ids (a PostgreSQL int8[] literal) restricts the sweep to those messages, NULL sweeps all.
 * Runs inside the caller's transaction if there is one. *added may be NULL. A full sweep goes
 * on past a hold whose query no longer compiles (logged; that failure is returned at the end),
 * so one such hold does not keep new mail from the others; a sweep over ids stops at the first
 * failure. */
enum vl_err hold_sweep(PGconn *c, const char *ids, int64_t *added, char *err) VL_MUST_CHECK;

/* hold_list_json / hold_show_json / hold_matters_json - JSON text (caller frees): every hold
 * (array), one hold with its coverage count (VL_ERR_NOTFOUND), every matter with its holds. */
enum vl_err hold_list_json(PGconn *c, char **json, char *err) VL_MUST_CHECK;
enum vl_err hold_show_json(PGconn *c, const char *name, char **json, char *err) VL_MUST_CHECK;
enum vl_err hold_matters_json(PGconn *c, char **json, char *err) VL_MUST_CHECK;

/* hold_matter_create - a matter (audited "matter.create"). VL_ERR_EXISTS when it exists. */
enum vl_err hold_matter_create(PGconn *c, const char *actor, const char *client,
			       const char *name, const char *description, char *err) VL_MUST_CHECK;

/* hold_of_message_json - the holds covering message id, as a JSON array text of
 * {"name", "matter", "active"} (caller frees). */
enum vl_err hold_of_message_json(PGconn *c, const char *id, char **json, char *err) VL_MUST_CHECK;

/* hold_name_by_id - the name of hold id (HOLD_NAME_MAX + 1 bytes). VL_ERR_NOTFOUND. */
enum vl_err hold_name_by_id(PGconn *c, const char *id, char *name, char *err) VL_MUST_CHECK;

/* hold_name_ok - the name and matter rule. */
int hold_name_ok(const char *s);

#endif
