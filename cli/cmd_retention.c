/* cmd_retention - `vellum retention list|show NAME|test FILE.eml|ID|apply`: the site's policy
 * set (DATA/retention/policies.json).
 *
 *	vellum retention apply [--all] [--shorten --reason R]
 * apply records the set's version (audited when it changed) and computes retain-until for the
 * messages that have none (--all: every message): it extends, and never shortens a
 * compliance-mode retention; --shorten (an administrator's governance decision, audited with
 * its reason) lets a governance-mode retention shrink. */
#include <ctype.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "db.h"
#include "pgarray.h"
#include "retention.h"

#define FILE_ADDRS_MAX 1024
#define FILE_HEADERS_MAX 256

static int
retention_usage(void)
{
	fprintf(stderr, "usage: vellum retention list | show NAME | test FILE.eml|ID\n"
			"       vellum retention apply [--all] [--shorten --reason R]\n");
	return 2;
}

static void
print_until(const char *name, int64_t us, const char *why)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	char buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("policy %s\nretain_until %s\nwhy %s\n", name, buf, why);
}

/* File facts: the addresses and headers of one .eml, read with GMime. */
struct file_facts {
	char *addrs[2][FILE_ADDRS_MAX];
	size_t naddrs[2];
	struct policy_header hdr[FILE_HEADERS_MAX];
	char *cust[64];
	struct policy_msg m;
	GMimeMessage *msg;
};

static void
add_list(struct file_facts *f, int which, InternetAddressList *l)
{
	for (int i = 0; l && i < internet_address_list_length(l); i++) {
		InternetAddress *a = internet_address_list_get_address(l, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(a) && f->naddrs[which] < FILE_ADDRS_MAX) {
			char *s = g_ascii_strdown(
				internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)), -1);

			f->addrs[which][f->naddrs[which]++] = s;
		}
	}
}

static int
file_facts_load(struct file_facts *f, const char *path)
{
	GMimeStream *st = g_mime_stream_file_open(path, "rb", NULL);
	GMimeParser *p;
	GMimeHeaderList *hl;
	GDateTime *d;

	if (st == NULL)
		return -1;
	p = g_mime_parser_new_with_stream(st);
	f->msg = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(st);
	if (f->msg == NULL)
		return -1;
	add_list(f, 0, g_mime_message_get_from(f->msg));
	add_list(f, 0, g_mime_message_get_sender(f->msg));
	add_list(f, 1, g_mime_message_get_all_recipients(f->msg));
	hl = g_mime_object_get_header_list(GMIME_OBJECT(f->msg));
	for (int i = 0; i < g_mime_header_list_get_count(hl) && i < FILE_HEADERS_MAX; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);

		f->hdr[i].name = g_mime_header_get_name(h);
		f->hdr[i].value = g_mime_header_get_value(h);
		f->m.nheaders++;
	}
	d = g_mime_message_get_date(f->msg);
	f->m.received_us = (int64_t)time(NULL) * 1000000;
	f->m.sent_us = d ? g_date_time_to_unix(d) * 1000000 : f->m.received_us;
	f->m.senders = (const char *const *)f->addrs[0];
	f->m.nsenders = f->naddrs[0];
	f->m.recipients = (const char *const *)f->addrs[1];
	f->m.nrecipients = f->naddrs[1];
	f->m.headers = f->hdr;
	return 0;
}

/* file_custodians - the custodians whose addresses the file names. */
static enum vl_err
file_custodians(PGconn *c, struct file_facts *f, char *err)
{
	struct pgarr a = {0};
	PGresult *r = NULL;
	enum vl_err rc;

	for (int w = 0; w < 2; w++)
		for (size_t i = 0; i < f->naddrs[w]; i++)
			pgarr_text(&a, f->addrs[w][i]);
	const char *vals[] = {pgarr_str(&a)};
	rc = db_query(c, "SELECT DISTINCT custodian FROM custodian_addresses WHERE address ="
			 " ANY($1::text[])", 1, vals, &r, err);
	for (int i = 0; rc == VL_OK && i < PQntuples(r) && i < 64; i++)
		f->cust[f->m.ncustodians++] = g_strdup(PQgetvalue(r, i, 0));
	f->m.custodians = (const char *const *)f->cust;
	PQclear(r);
	pgarr_free(&a);
	return rc;
}

static void
file_facts_free(struct file_facts *f)
{
	for (int w = 0; w < 2; w++)
		for (size_t i = 0; i < f->naddrs[w]; i++)
			g_free(f->addrs[w][i]);
	for (size_t i = 0; i < f->m.ncustodians; i++)
		g_free(f->cust[i]);
	if (f->msg)
		g_object_unref(f->msg);
}

static int
no_query(void *arg, size_t i, const char *q)
{
	(void)arg;
	(void)i;
	(void)q;
	return -1;
}

static enum vl_err
retention_test(struct cli *cl, PGconn *c, const struct policy_set *s, const char *what, char *err)
{
	struct policy_result pr;
	enum vl_err rc = VL_OK;
	int isid = *what != '\0';

	for (const char *p = what; *p; p++)
		isid &= isdigit((unsigned char)*p) != 0;
	if (isid) {
		rc = retention_explain(&cl->cfg, c, s, what, &pr, err);
	} else {
		struct file_facts *f = calloc(1, sizeof(*f));

		if (f == NULL || file_facts_load(f, what) != 0)
			rc = vl_err_set(err, VL_ERR_PARSE, "%.200s: not a readable message", what);
		if (rc == VL_OK && (rc = file_custodians(c, f, err)) == VL_OK)
			policy_eval(s, &f->m, no_query, NULL, &pr);
		if (f)
			file_facts_free(f);
		free(f);
	}
	if (rc != VL_OK)
		return rc;
	if (pr.index < 0)
		printf("policy (none)\nretain_until (indefinitely)\nwhy %s\n", pr.why);
	else
		print_until(policy_name(s, (size_t)pr.index), pr.retain_until_us, pr.why);
	return VL_OK;
}

static enum vl_err
retention_cmd_apply(struct cli *cl, PGconn *c, const struct policy_set *s, int argc,
		    char **argv, char *err)
{
	struct retention_opts o = {.cfg = &cl->cfg};
	struct retention_result res;
	int shorten = 0;
	enum vl_err rc;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			o.all = 1;
		else if (strcmp(argv[i], "--shorten") == 0)
			shorten = 1;
		else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
			o.shorten_reason = argv[++i];
		else
			return vl_err_set(err, VL_ERR_PARSE, "apply: unknown option %.64s", argv[i]);
	}
	if (shorten != (o.shorten_reason != NULL))
		return vl_err_set(err, VL_ERR_PARSE, "--shorten needs --reason R (and the reverse)");
	if ((rc = retention_apply(c, cl->actor, s, &o, &res, err)) != VL_OK)
		return rc;
	printf("policy set %s\nexamined %lld, set %lld, extended %lld, kept %lld, shortened %lld,"
	       " unmatched %lld\n", res.sha256, (long long)res.examined, (long long)res.set,
	       (long long)res.extended, (long long)res.kept, (long long)res.shortened,
	       (long long)res.unmatched);
	return VL_OK;
}

static enum vl_err
retention_run(struct cli *cl, const struct policy_set *s, int argc, char **argv, char *err)
{
	struct db *db = NULL;
	enum vl_err rc = VL_OK;

	if (strcmp(argv[1], "list") == 0) {
		for (size_t i = 0; i < policy_count(s); i++)
			printf("%s\t%s\n", policy_name(s, i), policy_mode(s, i));
		return VL_OK;
	}
	if (strcmp(argv[1], "show") == 0) {
		for (size_t i = 0; i < policy_count(s); i++) {
			if (strcmp(policy_name(s, i), argv[2]) == 0) {
				char *j = policy_json(s, i);

				printf("%s\n", j);
				free(j);
				return VL_OK;
			}
		}
		return vl_err_set(err, VL_ERR_NOTFOUND, "no policy '%.128s'", argv[2]);
	}
	if ((rc = db_connect(&cl->cfg, &db, err)) == VL_OK)
		rc = strcmp(argv[1], "test") == 0
			     ? retention_test(cl, db_conn(db), s, argv[2], err)
			     : retention_cmd_apply(cl, db_conn(db), s, argc, argv, err);
	db_close(db);
	return rc;
}

int
cmd_retention(struct cli *c, int argc, char **argv)
{
	struct policy_set *s = NULL;
	char err[VL_ERRLEN];
	enum vl_err rc;

	if (argc < 2 || ((strcmp(argv[1], "show") == 0 || strcmp(argv[1], "test") == 0) &&
			 argc != 3) ||
	    (strcmp(argv[1], "list") == 0 && argc != 2) ||
	    (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "show") != 0 &&
	     strcmp(argv[1], "test") != 0 && strcmp(argv[1], "apply") != 0))
		return retention_usage();
	if ((rc = retention_load(&c->cfg, &s, err)) == VL_OK)
		rc = retention_run(c, s, argc, argv, err);
	policy_set_free(s);
	if (rc != VL_OK) {
		fprintf(stderr, "vellum retention: %s\n", err);
		return rc == VL_ERR_PARSE ? 2 : 1;
	}
	return 0;
}
