/* roles - who may do what through the API: the roles and the one table of their permissions.
 * Owns: role names, permission names, and role_allows (the README's role table is this table).
 * Not: which route needs which permission (route), authentication (token). */
#ifndef VL_ROLES_H
#define VL_ROLES_H

enum role {
	ROLE_ADMIN = 0, /* tokens and configuration; never evidence */
	ROLE_OFFICER,	/* search, view, export */
	ROLE_LEGAL,	/* holds, plus everything an officer may do */
	ROLE_AUDITOR,	/* the audit trail, read-only */
	ROLE_INGEST,	/* reserved for a future ingest route: nothing yet */
	ROLE_REVIEWER,	/* search, view, raw, export without Bcc: outside counsel, first pass */
	ROLE__COUNT
};

enum perm {
	PERM_SEARCH = 0,  /* POST /v1/search */
	PERM_VIEW,	  /* a message's metadata */
	PERM_RAW,	  /* a message's original bytes */
	PERM_EXPORT,	  /* exports (a later issue) */
	PERM_HOLDS,	  /* legal holds (a later issue) */
	PERM_AUDIT_READ,  /* the audit trail and its verification */
	PERM_TOKENS,	  /* list API tokens */
	PERM_BCC,	  /* see Bcc recipients: bcc:, the Bcc of metadata and load files,
			   * journal reports, messages whose own header has Bcc */
	PERM_FIELDS,	  /* set a message's business fields (電子帳簿保存法) */
	PERM__COUNT
};

/* role_parse - the role named s; -1 when there is none. */
int role_parse(const char *s);
/* role_name / perm_name - fixed text; "?" when out of range. */
const char *role_name(enum role r);
const char *perm_name(enum perm p);
/* role_allows - 1 when r holds permission p, else 0 (also for out-of-range values). */
int role_allows(enum role r, enum perm p);

#endif
