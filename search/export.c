/* export - evidence export of a query's hits: EML or mbox, load files, signed manifest.
 *
 * One pass over the hits, oldest first by sent date, by keyset pages of EXPORT_PAGE (never one
 * giant result set, never OFFSET). Each message streams from the vault into its file through
 * a SHA-256 state, so memory is a page of metadata plus the vault's bounded read whatever the
 * export's size; the manifest and load files are appended as we go. Everything is written
 * under OUT.partial and renamed to OUT only after the signature is written and the folder
 * synced; any failure removes OUT.partial. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "db.h"
#include "export.h"
#include "fsutil.h"
#include "keyring.h"
#include "loadfile.h"
#include "manifest.h"
#include "mboxrd.h"
#include "query.h"
#include "custodian.h"
#include "custodian_count.h"
#include "edrm.h"
#include "search.h"
#include "unindexed.h"
#include "vault.h"
#include "zip.h"

#define PAGE_PARAMS 4 /* $1 limit, $2 cursor sent_us, $3 cursor id, $4 hide Bcc */
#define ERRORS_FILE "data/errors.csv" /* what a caller without Bcc was not given, and why */
#define DAT_FILE "data/loadfile.dat"
#define CSV_FILE "data/loadfile.csv"
#define XML_FILE "data/loadfile.xml"		/* EDRM XML 1.2 (edrm.h) */
#define COUNTS_FILE "data/custodian-counts.csv" /* results count per custodian */
#define PATH_MAX_EX 4096
#define CUSTODIAN_GROUP_MAX (CUSTODIAN_NAME_MAX + 1)
#define OUT_FLUSH (1u << 16) /* bytes of escaped mbox text buffered before a write */

/* The page is chosen from message_index alone, in the order of its (sent_at, message_id)
 * index, before anything is joined: so each page costs its own rows, not a join and sort of
 * every hit (which would make an export quadratic in its size). A message's addresses are its
 * "field:a:address" terms (0003_search.sql, vellum_addr_list of 0007_index_size.sql): bx are
 * Bcc (header and envelope), fstcbxer are From, Sender, To, Cc, Bcc (both), envelope sender
 * and envelope recipients. With $4 (a caller without Bcc visibility) there is no Bcc, and
 * custodians come from the other fields only: a custodian who was only blind-copied is not
 * named. */
static const char page_sql[] =
	"WITH page AS MATERIALIZED (SELECT mi.message_id, mi.received_at, mi.sent_at,"
	" mi.addr_terms, mi.attachment_names, mi.bcc_exposure FROM message_index mi"
	" WHERE (%s) AND ($2::int8 IS NULL"
	" OR (mi.sent_at, mi.message_id) > (vellum_ts($2::int8), $3::int8))"
	" ORDER BY mi.sent_at, mi.message_id LIMIT $1::int8)"
	" SELECT p.message_id, vellum_us(p.sent_at), b.segment_id, b.record_offset,"
	" encode(b.sha256, 'hex'), m.hdr_from, m.hdr_to, m.hdr_cc,"
	" CASE WHEN $4::bool THEN NULL"
	"  ELSE array_to_string(vellum_addr_list(p.addr_terms, 'bx'), '; ') END,"
	" m.hdr_subject,"
	" to_char(p.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	" to_char(p.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	" m.hdr_message_id, array_to_string(p.attachment_names, '; '), m.size,"
	" array_to_string(array(SELECT DISTINCT ca.custodian FROM custodian_addresses ca"
	"  WHERE ca.address = ANY (vellum_addr_list(p.addr_terms,"
	"  CASE WHEN $4::bool THEN 'fstcer' ELSE 'fstcbxer' END)) ORDER BY 1), ';'),"
	" coalesce(p.bcc_exposure, 2)"
	" FROM page p"
	" JOIN messages m ON m.id = p.message_id AND m.received_at = p.received_at"
	" JOIN blobs b ON b.address = m.address"
	" ORDER BY p.sent_at, p.message_id";

enum { C_ID, C_SENT_US, C_SEG, C_OFF, C_SHA, C_FROM, C_TO, C_CC, C_BCC, C_SUBJECT, C_SENT,
       C_RECEIVED, C_MSGID, C_ATT, C_SIZE, C_CUST, C_BCC_EXPOSURE };

/* A group of a per-custodian export (or the one "all" mbox): its EML folder, or its mbox
 * file, open until the end, with the SHA-256 of what was written to it. */
struct mbox_out {
	char name[EXPORT_PREFIX_MAX + 160];
	char rel[PATH_MAX_EX];
	int fd; /* -1 for an EML folder */
	crypto_hash_sha256_state sha;
};

struct exporter {
	const struct export_opts *o;
	PGconn *c;
	struct vault *v;
	char id[40], partial[PATH_MAX_EX], prefix[EXPORT_PREFIX_MAX + 1];
	FILE *manifest, *dat, *csv, *xml, *unidx, *errors; /* errors: only without Bcc visibility */
	struct custodian_count *counts;		   /* of the exported messages, by custodian */
	unsigned omit;			     /* load-file columns left out (loadfile.h) */
	uint64_t withheld;		     /* hits left out, each a row of ERRORS_FILE */
	struct mbox_out *mboxes;
	size_t nmbox;
	struct buf scratch;
	struct export_counts n;
	uint64_t bates, total;
	int64_t audit_seq;
	char started[32];
	/* the message being written */
	int fd;
	crypto_hash_sha256_state sha;
	struct mboxrd rd;
	struct mbox_out *mb;
	uint64_t written;
};

static void
now_iso(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* rm_tree - remove path and all under it; no symlink is followed. */
static void
rm_tree(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir_under - the folder rel (and its parents) under the partial folder. */
static enum vl_err
mkdir_under(struct exporter *x, const char *rel, char *err)
{
	char path[PATH_MAX_EX * 2];

	snprintf(path, sizeof(path), "%s/%s", x->partial, rel);
	return fs_mkdir_p(path, 0750, err);
}

/* open_under - create the file rel under the partial folder; its folder exists. */
static enum vl_err
open_under(struct exporter *x, const char *rel, int *fd, char *err)
{
	char path[PATH_MAX_EX * 2];

	snprintf(path, sizeof(path), "%s/%s", x->partial, rel);
	*fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (*fd < 0)
		return vl_err_set(err, errno == ENOSPC ? VL_ERR_NOSPACE : VL_ERR_IO, "%s: %s", rel,
				  strerror(errno));
	return VL_OK;
}

static enum vl_err
fopen_under(struct exporter *x, const char *rel, FILE **f, char *err)
{
	int fd;
	enum vl_err rc = open_under(x, rel, &fd, err);

	if (rc != VL_OK)
		return rc;
	if ((*f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return vl_err_set(err, VL_ERR_NOMEM, "%s: %s", rel, strerror(errno));
	}
	return VL_OK;
}

static enum vl_err
write_ok(FILE *f, const void *p, size_t n, const char *what, char *err)
{
	if (n && fwrite(p, 1, n, f) != n)
		return vl_err_set(err, errno == ENOSPC ? VL_ERR_NOSPACE : VL_ERR_IO, "%s: %s",
				  what, strerror(errno));
	return VL_OK;
}

/* manifest_add - the manifest line of rel with its SHA-256. */
static enum vl_err
manifest_add(struct exporter *x, const uint8_t sha[32], const char *rel, char *err)
{
	enum vl_err rc;

	buf_reset(&x->scratch);
	manifest_line(&x->scratch, sha, rel);
	rc = write_ok(x->manifest, x->scratch.data, x->scratch.len, MANIFEST_FILE, err);
	x->n.files += rc == VL_OK;
	return rc;
}

/* ---- the per-message sinks ---- */

static enum vl_err
eml_sink(void *arg, const uint8_t *p, size_t n)
{
	struct exporter *x = arg;

	crypto_hash_sha256_update(&x->sha, p, n);
	x->written += n;
	return fs_write_full(x->fd, p, n);
}

static enum vl_err
mbox_sink(void *arg, const uint8_t *p, size_t n)
{
	struct exporter *x = arg;
	enum vl_err rc = VL_OK;

	crypto_hash_sha256_update(&x->sha, p, n); /* of the original bytes */
	x->written += n;
	mboxrd_feed(&x->rd, p, n, &x->scratch);
	if (x->scratch.len >= OUT_FLUSH) {
		crypto_hash_sha256_update(&x->mb->sha, x->scratch.data, x->scratch.len);
		rc = fs_write_full(x->mb->fd, x->scratch.data, x->scratch.len);
		buf_reset(&x->scratch);
	}
	return rc;
}

/* group_get - the group (custodian folder or mbox) of that name, added on first use; for
 * mbox its file is opened then. */
static enum vl_err
group_get(struct exporter *x, const char *group, struct mbox_out **out, char *err)
{
	struct mbox_out *m;
	enum vl_err rc;

	for (size_t i = 0; i < x->nmbox; i++)
		if (strcmp(x->mboxes[i].name, group) == 0)
			return *out = &x->mboxes[i], VL_OK;
	if (x->nmbox == EXPORT_CUSTODIANS_MAX)
		return vl_err_set(err, VL_ERR_LIMIT, "more than %d custodians in one export",
				  EXPORT_CUSTODIANS_MAX);
	m = &x->mboxes[x->nmbox];
	m->fd = -1;
	snprintf(m->name, sizeof(m->name), "%s", group);
	snprintf(m->rel, sizeof(m->rel), "data/messages/%s", group);
	if (x->o->format == EXPORT_EML && (rc = mkdir_under(x, m->rel, err)) != VL_OK)
		return rc;
	if (x->o->format == EXPORT_MBOX) {
		snprintf(m->rel, sizeof(m->rel), "data/mbox/%s.mbox", group);
		if ((rc = open_under(x, m->rel, &m->fd, err)) != VL_OK)
			return rc;
		crypto_hash_sha256_init(&m->sha);
	}
	x->nmbox++;
	return *out = m, VL_OK;
}

static enum vl_err
mbox_write(struct mbox_out *m, struct buf *b)
{
	enum vl_err rc;

	crypto_hash_sha256_update(&m->sha, b->data, b->len);
	rc = fs_write_full(m->fd, b->data, b->len);
	buf_reset(b);
	return rc;
}

/* ---- one document ---- */

struct doc {
	const PGresult *r;
	int row;
	const char *group;     /* custodian folder/mbox, or NULL */
	const char *custodians;/* the CUSTODIAN column */
};

static enum vl_err
read_message(struct exporter *x, const struct doc *d, record_write_fn fn, char *err)
{
	uint8_t want[32], got[32];
	struct record_info info;
	char detail[VL_ERRLEN];
	enum vl_err rc;

	if (hex_decode(want, 32, PQgetvalue(d->r, d->row, C_SHA)) != 0)
		return vl_err_set(err, VL_ERR_CORRUPT, "message %s: bad sha256",
				  PQgetvalue(d->r, d->row, C_ID));
	crypto_hash_sha256_init(&x->sha);
	x->written = 0;
	rc = vault_read(x->v, strtoull(PQgetvalue(d->r, d->row, C_SEG), NULL, 10),
			strtoull(PQgetvalue(d->r, d->row, C_OFF), NULL, 10), want, fn, x, &info,
			detail);
	if (rc != VL_OK)
		return vl_err_set(err, rc, "message %s cannot be read: %s",
				  PQgetvalue(d->r, d->row, C_ID), detail);
	crypto_hash_sha256_final(&x->sha, got);
	if (sodium_memcmp(got, want, 32) != 0)
		return vl_err_set(err, VL_ERR_CORRUPT, "message %s: bytes written differ from evidence",
				  PQgetvalue(d->r, d->row, C_ID));
	x->n.bytes += x->written;
	return VL_OK;
}

static enum vl_err
write_eml(struct exporter *x, const struct doc *d, const char *bates, char *rel, char *err)
{
	uint8_t sha[32];
	enum vl_err rc;

	if (d->group && (rc = group_get(x, d->group, &x->mb, err)) != VL_OK)
		return rc;
	if (d->group)
		snprintf(rel, PATH_MAX_EX, "data/messages/%s/%s.eml", d->group, bates);
	else
		snprintf(rel, PATH_MAX_EX, "data/messages/%s.eml", bates);
	if ((rc = open_under(x, rel, &x->fd, err)) != VL_OK)
		return rc;
	rc = read_message(x, d, eml_sink, err);
	if (close(x->fd) != 0 && rc == VL_OK)
		rc = vl_err_set(err, VL_ERR_IO, "%s: close: %s", rel, strerror(errno));
	if (rc != VL_OK)
		return rc;
	hex_decode(sha, 32, PQgetvalue(d->r, d->row, C_SHA));
	return manifest_add(x, sha, rel, err);
}

static enum vl_err
write_mbox(struct exporter *x, const struct doc *d, char *rel, char *err)
{
	enum vl_err rc;

	if ((rc = group_get(x, d->group ? d->group : "all", &x->mb, err)) != VL_OK)
		return rc;
	snprintf(rel, PATH_MAX_EX, "%s", x->mb->rel);
	buf_reset(&x->scratch);
	mboxrd_begin(&x->rd, strtoll(PQgetvalue(d->r, d->row, C_SENT_US), NULL, 10) / 1000000,
		     &x->scratch);
	if ((rc = read_message(x, d, mbox_sink, err)) != VL_OK)
		return rc;
	mboxrd_end(&x->rd, &x->scratch);
	if ((rc = mbox_write(x->mb, &x->scratch)) != VL_OK)
		return vl_err_set(err, rc, "%s: write failed", rel);
	return VL_OK;
}

static const char *
col(const struct doc *d, int c)
{
	return PQgetisnull(d->r, d->row, c) ? "" : PQgetvalue(d->r, d->row, c);
}

/* write_edrm - the Document of the row f in the EDRM load file. An EML file is its native
 * (the bytes written, whose SHA-256 read_message checked is the evidence hash); a message in an
 * mbox has no file of its own (edrm.h). */
static enum vl_err
write_edrm(struct exporter *x, const char *const *f, const char *rel, char *err)
{
	const char *slash = strrchr(rel, '/');
	char dir[PATH_MAX_EX];
	struct edrm_native nat = {dir, slash ? slash + 1 : rel, x->written, f[LF_SHA256]};

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - rel) : 0, rel);
	buf_reset(&x->scratch);
	edrm_document(&x->scratch, f, x->omit, x->o->format == EXPORT_EML ? &nat : NULL);
	return write_ok(x->xml, x->scratch.data, x->scratch.len, XML_FILE, err);
}

static enum vl_err
write_rows(struct exporter *x, const struct doc *d, const char *bates, const char *rel,
	   char *err)
{
	const char *f[LF__COUNT] = {
		[LF_BEGDOC] = bates,	   [LF_ENDDOC] = bates,
		[LF_CUSTODIAN] = d->custodians, [LF_FROM] = col(d, C_FROM),
		[LF_TO] = col(d, C_TO),	   [LF_CC] = col(d, C_CC),
		[LF_BCC] = col(d, C_BCC),  [LF_SUBJECT] = col(d, C_SUBJECT),
		[LF_DATESENT] = col(d, C_SENT), [LF_DATERECEIVED] = col(d, C_RECEIVED),
		[LF_MESSAGEID] = col(d, C_MSGID), [LF_ATTACHMENTNAMES] = col(d, C_ATT),
		[LF_SHA256] = col(d, C_SHA), [LF_FILEPATH] = rel,
		[LF_VELLUMID] = col(d, C_ID), [LF_SIZE] = col(d, C_SIZE),
	};
	enum vl_err rc;

	buf_reset(&x->scratch);
	loadfile_row_omit(&x->scratch, LOADFILE_DAT, f, x->omit);
	if ((rc = write_ok(x->dat, x->scratch.data, x->scratch.len, DAT_FILE, err)) != VL_OK)
		return rc;
	buf_reset(&x->scratch);
	loadfile_row_omit(&x->scratch, LOADFILE_CSV, f, x->omit);
	if ((rc = write_ok(x->csv, x->scratch.data, x->scratch.len, CSV_FILE, err)) != VL_OK)
		return rc;
	return write_edrm(x, f, rel, err);
}

static enum vl_err
export_doc(struct exporter *x, const struct doc *d, char *err)
{
	char bates[EXPORT_PREFIX_MAX + 24], rel[PATH_MAX_EX];
	enum vl_err rc;

	snprintf(bates, sizeof(bates), "%s%07" PRIu64, x->prefix, ++x->bates);
	rc = x->o->format == EXPORT_EML ? write_eml(x, d, bates, rel, err)
					: write_mbox(x, d, rel, err);
	if (rc == VL_OK && (rc = write_rows(x, d, bates, rel, err)) == VL_OK)
		x->n.documents++;
	return rc;
}

/* group_safe - a custodian name as a file name: names are [a-z0-9._-], so only a leading dot
 * ("..", a hidden file) needs changing. */
static void
group_safe(char *group)
{
	if (group[0] == '.')
		group[0] = '_';
}

/* withhold - a hit whose own bytes name Bcc recipients, for a caller without Bcc visibility:
 * not exported (its bytes are evidence and are never altered), a row of ERRORS_FILE instead.
 * The query already leaves out journal reports (2); one here would be a bug, withheld all the
 * same. */
static enum vl_err
withhold(struct exporter *x, const PGresult *r, int row, char *err)
{
	const char *f[3] = {PQgetvalue(r, row, C_ID), PQgetvalue(r, row, C_MSGID),
			    atoi(PQgetvalue(r, row, C_BCC_EXPOSURE)) == 1
				    ? "withheld: its own header names Bcc recipients (needs the "
				      "bcc permission)"
				    : "withheld: a journal report, whose body lists Bcc recipients "
				      "(needs the bcc permission)"};

	x->withheld++;
	buf_reset(&x->scratch);
	loadfile_csv_row(&x->scratch, f, 3);
	return write_ok(x->errors, x->scratch.data, x->scratch.len, ERRORS_FILE, err);
}

/* export_row - one hit: one document, or one per custodian (per_custodian without dedup). */
static enum vl_err
export_row(struct exporter *x, const PGresult *r, int row, char *err)
{
	const char *cust = PQgetvalue(r, row, C_CUST);
	struct doc d = {.r = r, .row = row, .custodians = cust};
	char group[CUSTODIAN_GROUP_MAX];
	enum vl_err rc = VL_OK;

	if (x->o->hide_bcc && atoi(PQgetvalue(r, row, C_BCC_EXPOSURE)) != 0)
		return withhold(x, r, row, err);
	x->n.messages++;
	if ((rc = custodian_count_add(x->counts, cust, err)) != VL_OK)
		return rc;
	if (!x->o->per_custodian)
		return export_doc(x, &d, err);
	d.group = group;
	if (*cust == '\0' || x->o->dedup) {
		snprintf(group, sizeof(group), "%.*s", (int)strcspn(cust, ";"),
			 *cust ? cust : EXPORT_NO_CUSTODIAN);
		group_safe(group);
		return export_doc(x, &d, err);
	}
	for (const char *p = cust; rc == VL_OK && *p;) {
		size_t len = strcspn(p, ";");

		snprintf(group, sizeof(group), "%.*s", (int)len, p);
		group_safe(group);
		rc = export_doc(x, &d, err);
		p += len + (p[len] == ';');
	}
	return rc;
}

/* ---- the walk ---- */

/* ids_param - "{1,2,3}": an int8[] in PostgreSQL's text form. */
static void
ids_param(const int64_t *ids, size_t n, struct buf *out)
{
	buf_append_str(out, "{");
	for (size_t i = 0; i < n; i++)
		buf_appendf(out, "%s%" PRId64, i ? "," : "", ids[i]);
	buf_append(out, "}", 2); /* with the NUL */
}

static int
cancelled(const struct exporter *x)
{
	return x->o->cancel && *x->o->cancel;
}

static enum vl_err
walk_pages(struct exporter *x, char *err)
{
	char lim[24], sent[24] = "", id[24] = "", qerr[VL_ERRLEN];
	struct query_sql s = {0};
	struct buf idlist = {0};
	const char **vals;
	char *sql;
	enum vl_err rc;
	int n, rows;

	if ((rc = query_compile_for(&s, x->o->query ? x->o->query : "", PAGE_PARAMS + 1,
				    x->o->hide_bcc, qerr)) != VL_OK)
		return vl_err_set(err, rc, "query: %s", qerr);
	n = PAGE_PARAMS + s.nparams + (x->o->ids != NULL);
	vals = xcalloc((size_t)n, sizeof(*vals));
	for (int i = 0; i < s.nparams; i++)
		vals[PAGE_PARAMS + i] = s.params[i];
	snprintf(lim, sizeof(lim), "%d", EXPORT_PAGE);
	vals[0] = lim;
	vals[3] = x->o->hide_bcc ? "t" : "f";
	if (x->o->ids) {
		/* the list travels as one int8[] parameter, after the query's */
		char *w = xasprintf("(%s) AND mi.message_id = ANY ($%d::int8[])", s.where, n);

		ids_param(x->o->ids, x->o->nids, &idlist);
		vals[n - 1] = (const char *)idlist.data;
		sql = xasprintf(page_sql, w);
		free(w);
	} else {
		sql = xasprintf(page_sql, s.where);
	}
	do {
		PGresult *r = NULL;

		vals[1] = *sent ? sent : NULL;
		vals[2] = *id ? id : NULL;
		if ((rc = db_query(x->c, sql, n, vals, &r, err)) != VL_OK)
			break;
		rows = PQntuples(r);
		for (int i = 0; rc == VL_OK && i < rows; i++) {
			rc = cancelled(x) ? vl_err_set(err, VL_ERR_BUSY, "cancelled")
					  : export_row(x, r, i, err);
			if (rc == VL_OK && x->o->progress)
				x->o->progress(x->o->progress_arg, x->n.messages, x->total);
		}
		if (rows > 0) {
			snprintf(sent, sizeof(sent), "%s", PQgetvalue(r, rows - 1, C_SENT_US));
			snprintf(id, sizeof(id), "%s", PQgetvalue(r, rows - 1, C_ID));
		}
		PQclear(r);
	} while (rc == VL_OK && rows == EXPORT_PAGE);
	free(sql);
	free(vals);
	buf_free(&idlist);
	query_sql_free(&s);
	return rc;
}

/* ---- the unindexed items of the export's scope (unindexed.h) ---- */

#define UNIDX_FILE "data/unindexed.csv"

/* The columns of unindexed.csv: one row per exception; EXPORTED says whether the message is
 * among the exported (it matched on what was indexed). */
static const char *const unidx_cols[] = {"VELLUMID", "SHA256", "DATESENT", "FROM", "SUBJECT",
					 "EXPORTED", "PART", "FILENAME", "CONTENTTYPE", "REASON",
					 "DETAIL"};
#define UNIDX_NCOLS ((int)(sizeof(unidx_cols) / sizeof(unidx_cols[0])))

static enum vl_err
unidx_row(void *arg, const struct unindexed_row *r, char *err)
{
	struct exporter *x = arg;
	char id[24];
	const char *f[] = {id, r->sha256, r->sent, r->from, r->subject, r->matched ? "Y" : "N",
			   r->part, r->filename, r->content_type, r->reason, r->detail};

	static_assert(sizeof(f) / sizeof(f[0]) == UNIDX_NCOLS, "one value a column");
	snprintf(id, sizeof(id), "%" PRId64, r->id);
	buf_reset(&x->scratch);
	loadfile_csv_row(&x->scratch, f, UNIDX_NCOLS);
	return write_ok(x->unidx, x->scratch.data, x->scratch.len, UNIDX_FILE, err);
}

/* write_unindexed - the rows of unindexed.csv, by keyset pages of EXPORT_PAGE messages. */
static enum vl_err
write_unindexed(struct exporter *x, char *err)
{
	struct buf idlist = {0};
	int64_t after = 0;
	size_t n = 0;
	enum vl_err rc;

	if (x->o->ids)
		ids_param(x->o->ids, x->o->nids, &idlist);
	do {
		rc = cancelled(x) ? vl_err_set(err, VL_ERR_BUSY, "cancelled")
				  : unindexed_walk(x->c, x->o->query, x->o->hide_bcc,
						   x->o->ids ? (const char *)idlist.data : NULL,
						   EXPORT_PAGE, &after, &n, unidx_row, x, err);
		x->n.unindexed += n;
	} while (rc == VL_OK && n == EXPORT_PAGE);
	buf_free(&idlist);
	return rc;
}

/* ---- start and finish ---- */

static enum vl_err
audit_start(struct exporter *x, char *err)
{
	char target[64];
	const char *vals[1] = {target};
	json_t *d = json_pack("{s:s, s:s, s:s, s:b, s:b}", "query", x->o->query ? x->o->query : "",
			      "format", x->o->format == EXPORT_EML ? "eml" : "mbox", "out",
			      x->o->out_dir, "per_custodian", x->o->per_custodian, "dedup",
			      x->o->dedup);

	if (x->o->ids)
		json_object_set_new(d, "ids", json_integer((json_int_t)x->o->nids));
	if (x->o->hide_bcc)
		json_object_set_new(d, "bcc", json_false());
	char *txt = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	PGresult *r = NULL;
	enum vl_err rc;

	json_decref(d);
	snprintf(target, sizeof(target), "export:%s", x->id);
	rc = audit_append(x->c, x->o->actor, x->o->client, "export.start", target, txt, err);
	free(txt);
	if (rc == VL_OK)
		rc = db_query(x->c,
			      "SELECT seq FROM audit WHERE target = $1 AND action = 'export.start'"
			      " ORDER BY seq DESC LIMIT 1",
			      1, vals, &r, err);
	if (rc == VL_OK)
		x->audit_seq = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return rc;
}

static enum vl_err
close_file(FILE **f, const char *what, char *err)
{
	int bad = fflush(*f) != 0 || ferror(*f);

	bad |= fclose(*f) != 0;
	*f = NULL;
	return bad ? vl_err_set(err, VL_ERR_IO, "%s: write failed", what) : VL_OK;
}

/* close_edrm - the end of the EDRM load file, then the file closed. */
static enum vl_err
close_edrm(struct exporter *x, char *err)
{
	enum vl_err rc;

	buf_reset(&x->scratch);
	edrm_end(&x->scratch);
	if ((rc = write_ok(x->xml, x->scratch.data, x->scratch.len, XML_FILE, err)) != VL_OK)
		return rc;
	return close_file(&x->xml, XML_FILE, err);
}

/* write_counts - COUNTS_FILE, whole: the tally is complete once the last message is counted. */
static enum vl_err
write_counts(struct exporter *x, char *err)
{
	FILE *f = NULL;
	enum vl_err rc;

	if ((rc = fopen_under(x, COUNTS_FILE, &f, err)) != VL_OK)
		return rc;
	buf_reset(&x->scratch);
	custodian_count_csv(&x->scratch, x->counts);
	rc = write_ok(f, x->scratch.data, x->scratch.len, COUNTS_FILE, err);
	if (rc != VL_OK) {
		fclose(f);
		return rc;
	}
	return close_file(&f, COUNTS_FILE, err);
}

/* close_data - the mbox files and load files, into the manifest. */
static enum vl_err
close_data(struct exporter *x, char *err)
{
	/* ERRORS_FILE last: it exists only without Bcc visibility */
	const char *lf[] = {DAT_FILE, CSV_FILE, XML_FILE, COUNTS_FILE, UNIDX_FILE, ERRORS_FILE};
	const size_t nlf = sizeof(lf) / sizeof(lf[0]) - !x->o->hide_bcc;
	char path[PATH_MAX_EX * 2];
	uint8_t sha[32];
	enum vl_err rc = VL_OK;

	for (size_t i = 0; i < x->nmbox; i++) {
		if (x->mboxes[i].fd < 0)
			continue; /* an EML folder */
		crypto_hash_sha256_final(&x->mboxes[i].sha, sha);
		if (close(x->mboxes[i].fd) != 0 && rc == VL_OK)
			rc = vl_err_set(err, VL_ERR_IO, "%s: close failed", x->mboxes[i].rel);
		x->mboxes[i].fd = -1;
		if (rc == VL_OK)
			rc = manifest_add(x, sha, x->mboxes[i].rel, err);
	}
	if (rc == VL_OK && (rc = close_file(&x->dat, DAT_FILE, err)) == VL_OK &&
	    (rc = close_file(&x->csv, CSV_FILE, err)) == VL_OK &&
	    (rc = close_edrm(x, err)) == VL_OK && (rc = write_counts(x, err)) == VL_OK)
		rc = close_file(&x->unidx, UNIDX_FILE, err);
	if (rc == VL_OK && x->errors)
		rc = close_file(&x->errors, ERRORS_FILE, err);
	for (size_t i = 0; rc == VL_OK && i < nlf; i++) {
		snprintf(path, sizeof(path), "%s/%s", x->partial, lf[i]);
		if ((rc = manifest_file_sha256(path, sha, err)) == VL_OK)
			rc = manifest_add(x, sha, lf[i], err);
	}
	if (rc == VL_OK)
		rc = close_file(&x->manifest, MANIFEST_FILE, err);
	return rc;
}

static enum vl_err
write_tag(struct exporter *x, const char *name, const void *p, size_t n, struct buf *tags,
	  char *err)
{
	char path[PATH_MAX_EX * 2];
	uint8_t sha[32];
	enum vl_err rc;

	snprintf(path, sizeof(path), "%s/%s", x->partial, name);
	if ((rc = fs_write_atomic(path, p, n, 0640, err)) != VL_OK)
		return rc;
	crypto_hash_sha256(sha, p, n);
	if (tags)
		manifest_line(tags, sha, name);
	return VL_OK;
}

static json_t *
info_json(const struct exporter *x, const uint8_t man_sha[32], const uint8_t pk[32])
{
	char mhex[65], pkhex[65], finished[32];

	hex_encode(mhex, man_sha, 32);
	hex_encode(pkhex, pk, 32);
	now_iso(finished);
	return json_pack(
		"{s:i, s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:b, s:b, s:s,"
		" s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:s, s:s}, s:s, s:s, s:s, s:[s, s, s],"
		" s:s, s:s}",
		"vellum_export", 1, "id", x->id, "query", x->o->query ? x->o->query : "",
		"actor", x->o->actor, "client", x->o->client, "started", x->started, "finished",
		finished, "format", x->o->format == EXPORT_EML ? "eml" : "mboxrd",
		"per_custodian", x->o->per_custodian, "dedup", x->o->dedup, "bates_prefix",
		x->prefix, "counts", "messages", (json_int_t)x->n.messages, "documents",
		(json_int_t)x->n.documents, "files", (json_int_t)x->n.files, "bytes",
		(json_int_t)x->n.bytes, "custodians", (json_int_t)(x->o->per_custodian ? x->nmbox : 0),
		"unindexed", (json_int_t)x->n.unindexed, "audit", "seq",
		(json_int_t)x->audit_seq, "action", "export.start", "target", "", "manifest_sha256",
		mhex, "public_key", pkhex, "signature", "ed25519 over " MANIFEST_TAG_FILE " in " MANIFEST_SIG_FILE,
		"load_files", DAT_FILE, CSV_FILE, XML_FILE, "custodian_counts", COUNTS_FILE,
		"unindexed_items", UNIDX_FILE);
}

/* write_tags - bagit.txt, export.json, the tag manifest and its signature. */
static enum vl_err
write_tags(struct exporter *x, char *tag_hex, char *err)
{
	struct buf tags = {0};
	char path[PATH_MAX_EX * 2], sighex[129], target[64];
	uint8_t man_sha[32], pk[32], sig[64], tsha[32];
	json_t *info = NULL;
	char *txt = NULL;
	enum vl_err rc;

	snprintf(path, sizeof(path), "%s/%s", x->partial, MANIFEST_FILE);
	if ((rc = manifest_file_sha256(path, man_sha, err)) != VL_OK)
		return rc;
	manifest_line(&tags, man_sha, MANIFEST_FILE);
	manifest_public_key(keyring_sign_seed(vault_keyring(x->v)), pk);
	snprintf(target, sizeof(target), "export:%s", x->id);
	info = info_json(x, man_sha, pk);
	json_object_set_new(json_object_get(info, "audit"), "target", json_string(target));
	if (x->o->ids)
		json_object_set_new(info, "ids", json_integer((json_int_t)x->o->nids));
	if (x->o->hide_bcc)
		json_object_set_new(info, "bcc",
				    json_pack("{s:b, s:I, s:s}", "visible", 0, "withheld",
					      (json_int_t)x->withheld, "errors_file", ERRORS_FILE));
	txt = json_dumps(info, JSON_INDENT(2) | JSON_SORT_KEYS);
	if ((rc = write_tag(x, MANIFEST_BAGIT_FILE, MANIFEST_BAGIT_TEXT,
			    strlen(MANIFEST_BAGIT_TEXT), &tags, err)) != VL_OK ||
	    (rc = write_tag(x, MANIFEST_INFO_FILE, txt, strlen(txt), &tags, err)) != VL_OK ||
	    (rc = write_tag(x, MANIFEST_TAG_FILE, tags.data, tags.len, NULL, err)) != VL_OK)
		goto out;
	manifest_sign(keyring_sign_seed(vault_keyring(x->v)), tags.data, tags.len, sig, NULL);
	hex_encode(sighex, sig, 64);
	sighex[128] = '\n';
	rc = write_tag(x, MANIFEST_SIG_FILE, sighex, 129, NULL, err);
	crypto_hash_sha256(tsha, tags.data, tags.len);
	hex_encode(tag_hex, tsha, 32);
out:
	free(txt);
	json_decref(info);
	buf_free(&tags);
	return rc;
}

static enum vl_err
audit_done(struct exporter *x, const char *tag_hex, char *err)
{
	char target[64];
	json_t *d = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:I}", "query",
			      x->o->query ? x->o->query : "", "messages", (json_int_t)x->n.messages,
			      "documents", (json_int_t)x->n.documents, "files",
			      (json_int_t)x->n.files, "bytes", (json_int_t)x->n.bytes,
			      "tagmanifest_sha256", tag_hex, "start_seq", (json_int_t)x->audit_seq);
	char *txt = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	enum vl_err rc;

	json_decref(d);
	snprintf(target, sizeof(target), "export:%s", x->id);
	rc = audit_append(x->c, x->o->actor, x->o->client, "export", target, txt, err);
	free(txt);
	return rc;
}

/* publish - sync the partial folder and rename it to out_dir, never over anything. */
static enum vl_err
publish(struct exporter *x, char *err)
{
	int fd = open(x->partial, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || syncfs(fd) != 0) {
		if (fd >= 0)
			close(fd);
		return vl_err_set(err, VL_ERR_IO, "%s: sync: %s", x->partial, strerror(errno));
	}
	close(fd);
	if (renameat2(AT_FDCWD, x->partial, AT_FDCWD, x->o->out_dir, RENAME_NOREPLACE) != 0)
		return vl_err_set(err, errno == EEXIST ? VL_ERR_EXISTS : VL_ERR_IO,
				  "%s: %s", x->o->out_dir, strerror(errno));
	return fs_fsync_dir(x->o->out_dir);
}

/* errors_start - ERRORS_FILE with its header row: a caller without Bcc visibility gets it even
 * when empty, so that "nothing was withheld" is said, not implied. */
static enum vl_err
errors_start(struct exporter *x, char *err)
{
	static const char *const hdr[3] = {"VELLUMID", "MESSAGEID", "REASON"};
	enum vl_err rc;

	if ((rc = fopen_under(x, ERRORS_FILE, &x->errors, err)) != VL_OK)
		return rc;
	buf_reset(&x->scratch);
	loadfile_csv_row(&x->scratch, hdr, 3);
	return write_ok(x->errors, x->scratch.data, x->scratch.len, ERRORS_FILE, err);
}

static enum vl_err
prepare(struct exporter *x, const struct vl_config *cfg, char *err)
{
	const char *pre = x->o->prefix ? x->o->prefix : EXPORT_PREFIX_DFLT;
	struct stat st;
	struct buf hdr = {0};
	enum vl_err rc;

	if (strlen(pre) == 0 || strlen(pre) > EXPORT_PREFIX_MAX ||
	    strspn(pre, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") !=
		    strlen(pre))
		return vl_err_set(err, VL_ERR_CONFIG, "Bates prefix: 1 to %d letters and digits",
				  EXPORT_PREFIX_MAX);
	snprintf(x->prefix, sizeof(x->prefix), "%s", pre);
	if (x->o->out_dir == NULL || *x->o->out_dir == '\0' ||
	    strlen(x->o->out_dir) > PATH_MAX_EX - 64)
		return vl_err_set(err, VL_ERR_CONFIG, "an output folder is needed");
	snprintf(x->partial, sizeof(x->partial), "%s.partial", x->o->out_dir);
	if (lstat(x->o->out_dir, &st) == 0 || lstat(x->partial, &st) == 0)
		return vl_err_set(err, VL_ERR_EXISTS,
				  "%s or %s exists: an export never writes over anything",
				  x->o->out_dir, x->partial);
	if (mkdir(x->partial, 0750) != 0)
		return vl_err_set(err, VL_ERR_IO, "%s: %s", x->partial, strerror(errno));
	if ((rc = mkdir_under(x, x->o->format == EXPORT_EML ? "data/messages" : "data/mbox",
			      err)) != VL_OK ||
	    (rc = vault_open(&x->v, cfg, x->c, err)) != VL_OK ||
	    (rc = fopen_under(x, MANIFEST_FILE, &x->manifest, err)) != VL_OK ||
	    (rc = fopen_under(x, DAT_FILE, &x->dat, err)) != VL_OK ||
	    (rc = fopen_under(x, CSV_FILE, &x->csv, err)) != VL_OK ||
	    (rc = fopen_under(x, XML_FILE, &x->xml, err)) != VL_OK ||
	    (rc = fopen_under(x, UNIDX_FILE, &x->unidx, err)) != VL_OK)
		return rc;
	x->omit = x->o->hide_bcc ? LOADFILE_OMIT(LF_BCC) : 0;
	loadfile_start_omit(&hdr, LOADFILE_DAT, x->omit);
	rc = write_ok(x->dat, hdr.data, hdr.len, DAT_FILE, err);
	buf_reset(&hdr);
	loadfile_start_omit(&hdr, LOADFILE_CSV, x->omit);
	if (rc == VL_OK)
		rc = write_ok(x->csv, hdr.data, hdr.len, CSV_FILE, err);
	buf_reset(&hdr);
	edrm_start(&hdr, "Vellum evidence export");
	if (rc == VL_OK)
		rc = write_ok(x->xml, hdr.data, hdr.len, XML_FILE, err);
	buf_reset(&hdr);
	loadfile_csv_row(&hdr, unidx_cols, UNIDX_NCOLS);
	if (rc == VL_OK)
		rc = write_ok(x->unidx, hdr.data, hdr.len, UNIDX_FILE, err);
	if (rc == VL_OK && x->o->hide_bcc)
		rc = errors_start(x, err);
	buf_free(&hdr);
	return rc;
}

static void
exporter_cleanup(struct exporter *x, int failed)
{
	for (size_t i = 0; i < x->nmbox; i++)
		if (x->mboxes[i].fd >= 0)
			close(x->mboxes[i].fd);
	if (x->manifest)
		fclose(x->manifest);
	if (x->dat)
		fclose(x->dat);
	if (x->csv)
		fclose(x->csv);
	if (x->xml)
		fclose(x->xml);
	custodian_count_free(x->counts);
	if (x->errors)
		fclose(x->errors);
	if (x->unidx)
		fclose(x->unidx);
	if (failed && x->partial[0])
		rm_tree(x->partial);
	free(x->mboxes);
	buf_free(&x->scratch);
	vault_free(x->v);
}

static void
total_get(struct exporter *x)
{
	struct search_who who = {x->o->actor, x->o->client, x->o->hide_bcc};
	struct search_total t;
	char err[VL_ERRLEN];

	if (x->o->ids) {
		x->total = x->o->nids;
		return;
	}
	if (x->o->progress && search_total_get(x->c, &who, x->o->query, 1, &t, err) == VL_OK)
		x->total = (uint64_t)t.n;
}

enum vl_err
export_run(const struct vl_config *cfg, PGconn *c, const struct export_opts *o,
	   struct export_counts *counts, char *manifest_sha256, char *err)
{
	struct exporter x = {.o = o, .c = c, .fd = -1};
	char tag_hex[65] = "";
	uint8_t rnd[16];
	enum vl_err rc;

	memset(counts, 0, sizeof(*counts));
	if (o->id)
		snprintf(x.id, sizeof(x.id), "%s", o->id);
	else {
		randombytes_buf(rnd, sizeof(rnd));
		hex_encode(x.id, rnd, sizeof(rnd));
	}
	now_iso(x.started);
	x.mboxes = xcalloc(EXPORT_CUSTODIANS_MAX, sizeof(*x.mboxes));
	x.counts = custodian_count_new();
	if ((rc = prepare(&x, cfg, err)) != VL_OK) {
		if (rc == VL_ERR_EXISTS)
			x.partial[0] = '\0'; /* not ours to remove */
		goto out;
	}
	total_get(&x);
	if ((rc = audit_start(&x, err)) != VL_OK || (rc = walk_pages(&x, err)) != VL_OK ||
	    (rc = write_unindexed(&x, err)) != VL_OK || (rc = close_data(&x, err)) != VL_OK || (rc = write_tags(&x, tag_hex, err)) != VL_OK ||
	    (rc = publish(&x, err)) != VL_OK)
		goto out;
	x.partial[0] = '\0'; /* published: nothing to remove */
	rc = audit_done(&x, tag_hex, err);
out:
	exporter_cleanup(&x, rc != VL_OK);
	x.n.custodians = x.o->per_custodian ? x.nmbox : 0;
	*counts = x.n;
	if (manifest_sha256)
		snprintf(manifest_sha256, 65, "%s", tag_hex);
	return rc;
}

enum vl_err
export_zip(const char *dir, char *err)
{
	char zip[PATH_MAX_EX], partial[PATH_MAX_EX + 16];
	const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	enum vl_err rc;
	int fd;

	if (strlen(dir) > PATH_MAX_EX - 32 || *base == '\0')
		return vl_err_set(err, VL_ERR_CONFIG, "%s: not a folder name", dir);
	snprintf(zip, sizeof(zip), "%s.zip", dir);
	snprintf(partial, sizeof(partial), "%s.partial", zip);
	if ((fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0)
		return vl_err_set(err, VL_ERR_IO, "%s: %s", partial, strerror(errno));
	rc = zip_dir(fd, dir, base, err);
	if (rc == VL_OK && fsync(fd) != 0)
		rc = vl_err_set(err, VL_ERR_IO, "%s: fsync: %s", partial, strerror(errno));
	if (close(fd) != 0 && rc == VL_OK)
		rc = vl_err_set(err, VL_ERR_IO, "%s: close: %s", partial, strerror(errno));
	if (rc == VL_OK && renameat2(AT_FDCWD, partial, AT_FDCWD, zip, RENAME_NOREPLACE) != 0)
		rc = vl_err_set(err, errno == EEXIST ? VL_ERR_EXISTS : VL_ERR_IO, "%s: %s", zip,
				strerror(errno));
	if (rc != VL_OK)
		unlink(partial);
	return rc;
}
