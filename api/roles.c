/* roles - who may do what through the API: the roles and the one table of their permissions. */
#include <string.h>

#include "roles.h"

static const char *const role_names[ROLE__COUNT] = {
	[ROLE_ADMIN] = "admin",	    [ROLE_OFFICER] = "officer", [ROLE_LEGAL] = "legal",
	[ROLE_AUDITOR] = "auditor", [ROLE_INGEST] = "ingest",	[ROLE_REVIEWER] = "reviewer",
};

static const char *const perm_names[PERM__COUNT] = {
	[PERM_SEARCH] = "search",     [PERM_VIEW] = "view",	      [PERM_RAW] = "raw",
	[PERM_EXPORT] = "export",     [PERM_HOLDS] = "holds",	      [PERM_AUDIT_READ] = "audit",
	[PERM_TOKENS] = "tokens",     [PERM_BCC] = "bcc",	      [PERM_FIELDS] = "fields",
};

/* The whole policy. Separation of duties: the admin manages access but reads no evidence, and
 * the auditor reads the trail of who read evidence but not the evidence itself. The reviewer
 * (outside counsel, a first-pass review) reads evidence without Bcc: whoever was blind-copied
 * stays unknown to it (REQUIREMENTS, eDiscovery: "bcc: and Bcc columns are absent"). */
static const unsigned char allowed[ROLE__COUNT][PERM__COUNT] = {
	[ROLE_ADMIN] = {[PERM_TOKENS] = 1},
	[ROLE_OFFICER] = {[PERM_SEARCH] = 1,
			  [PERM_VIEW] = 1,
			  [PERM_RAW] = 1,
			  [PERM_EXPORT] = 1,
			  [PERM_BCC] = 1,
			  [PERM_FIELDS] = 1},
	[ROLE_LEGAL] = {[PERM_SEARCH] = 1,
			[PERM_VIEW] = 1,
			[PERM_RAW] = 1,
			[PERM_EXPORT] = 1,
			[PERM_HOLDS] = 1,
			[PERM_BCC] = 1,
			[PERM_FIELDS] = 1},
	[ROLE_AUDITOR] = {[PERM_AUDIT_READ] = 1},
	[ROLE_INGEST] = {0},
	[ROLE_REVIEWER] = {[PERM_SEARCH] = 1, [PERM_VIEW] = 1, [PERM_RAW] = 1, [PERM_EXPORT] = 1},
};

int
role_parse(const char *s)
{
	for (int i = 0; i < ROLE__COUNT; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

const char *
role_name(enum role r)
{
	return (unsigned)r < ROLE__COUNT ? role_names[r] : "?";
}

const char *
perm_name(enum perm p)
{
	return (unsigned)p < PERM__COUNT ? perm_names[p] : "?";
}

int
role_allows(enum role r, enum perm p)
{
	if ((unsigned)r >= ROLE__COUNT || (unsigned)p >= PERM__COUNT)
		return 0;
	return allowed[r][p];
}
