/* export - evidence export: the messages a query finds, as exact original bytes (EML files
 * named by Bates number, or mbox), with Concordance DAT, CSV and EDRM XML load files (edrm.h),
 * a results count per custodian (custodian_count.h), the unindexed items of the query's scope
 * (data/unindexed.csv) and a signed BagIt-style manifest (manifest.h), written so a failed
 * export never looks complete.
 * Owns: walking the hits by keyset pages, streaming each message through the vault into its
 * file, the load-file rows, the custodian column and dedup, export.json, the audit rows
 * ("export.start" before any byte leaves, "export" with the counts and manifest hash after).
 * Not: the query language (query), verifying an export (manifest), HTTP jobs (api). */
#ifndef VL_EXPORT_H
#define VL_EXPORT_H

#include <libpq-fe.h>
#include <signal.h>
#include <stdint.h>

#include "config.h"
#include "vl_err.h"

#define EXPORT_PAGE 500		 /* hits fetched per keyset page */
#define EXPORT_PREFIX_MAX 16	 /* bytes of a Bates prefix: letters and digits */
#define EXPORT_PREFIX_DFLT "VL"
#define EXPORT_CUSTODIANS_MAX 256 /* open mbox files of a per-custodian export */
#define EXPORT_NO_CUSTODIAN "_no-custodian"
#define EXPORT_IDS_MAX 1000000	 /* message ids in one --ids list */

enum export_format { EXPORT_EML, EXPORT_MBOX };

struct export_counts {
	uint64_t messages; /* distinct messages exported */
	uint64_t documents;/* rows of the load files (a message held by k custodians counts k
			    * times in a per-custodian export without dedup) */
	uint64_t files;	   /* files under data/ */
	uint64_t bytes;	   /* bytes of original messages written */
	uint64_t custodians; /* groups of a per-custodian export (0 otherwise) */
	uint64_t unindexed;  /* messages of the export's scope in data/unindexed.csv: the index
			      * lacks something of each (search/unindexed.h) */
};

/* progress(arg, done, total): total is an estimate above SEARCH_COUNT_EXACT_MAX. */
typedef void (*export_progress_fn)(void *arg, uint64_t done, uint64_t total);

struct export_opts {
	const char *query;   /* the search query ("" = everything) */
	const int64_t *ids;  /* when not NULL: only these messages (ANDed with query) */
	size_t nids;
	const char *out_dir; /* must not exist; created whole at the end */
	const char *actor;   /* for the audit trail and export.json */
	const char *client;  /* client address or NULL */
	const char *id;	     /* the export's id (audit target "export:ID"); NULL: made up */
	enum export_format format;
	int per_custodian; /* one mbox (or EML folder) per custodian */
	int dedup;	   /* per_custodian: one copy, under the first custodian, all listed */
	const char *prefix;/* Bates prefix; NULL: EXPORT_PREFIX_DFLT */
	int hide_bcc;	   /* a caller without Bcc visibility (API roles without bcc): no BCC
			    * column, no journal report, custodians without Bcc, and a message
			    * whose own header has Bcc withheld, named in data/errors.csv */
	export_progress_fn progress;
	void *progress_arg;
	const volatile sig_atomic_t *cancel; /* non-zero (a signal, another thread): stop; or NULL */
};

/* export_run - write the export of o->query to o->out_dir. Everything is written under
 * "<out_dir>.partial", then renamed to out_dir (which must not exist) once complete; on any
 * failure or cancellation the partial folder is removed and out_dir does not appear.
 * manifest_sha256 (65 bytes, may be NULL) receives the hex SHA-256 of the tag manifest
 * (what the signature covers). VL_ERR_PARSE for a bad query, VL_ERR_EXISTS when out_dir
 * (or its .partial) exists, VL_ERR_BUSY ("cancelled") when cancelled, VL_ERR_CONFIG for bad options, or the error of
 * the vault or the database. */
enum vl_err export_run(const struct vl_config *cfg, PGconn *c, const struct export_opts *o,
		       struct export_counts *counts, char *manifest_sha256, char *err)
	VL_MUST_CHECK;

/* export_zip - DIR (a finished export) as DIR.zip, written to DIR.zip.partial and renamed
 * into place (never over anything): stored entries under the folder's name (zip.h). */
enum vl_err export_zip(const char *dir, char *err) VL_MUST_CHECK;

#endif
