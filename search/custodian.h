/* custodian - the people a matter is about and the addresses each of them uses, so that
 * custodian:NAME searches all of them. Owns: validating and storing custodians (audited).
 * Not: how custodian: is searched (query). */
#ifndef VL_CUSTODIAN_H
#define VL_CUSTODIAN_H

#include <libpq-fe.h>
#include <stddef.h>

#include "vl_err.h"

#define CUSTODIAN_NAME_MAX 128	/* bytes of a name: lower-case letters, digits, . _ - */
#define CUSTODIAN_ADDR_MAX 320	/* bytes of one address (RFC 5321: 64 + 1 + 255) */
#define CUSTODIAN_ADDRS_MAX 1000 /* addresses added in one call */

/* custodian_add - create custodian name (lower-cased) if missing and add the addresses
 * (lower-cased; already present ones are kept), in one transaction with an audit row
 * "custodian.add". VL_ERR_PARSE naming the first bad name or address; VL_ERR_DB. */
enum vl_err custodian_add(PGconn *c, const char *actor, const char *client, const char *name,
			  char *const *addrs, size_t n, char *err) VL_MUST_CHECK;

/* custodian_remove - forget custodian name and its addresses (audited "custodian.remove");
 * the mail stays. VL_ERR_NOTFOUND when there is none of that name. */
enum vl_err custodian_remove(PGconn *c, const char *actor, const char *client,
			     const char *name, char *err) VL_MUST_CHECK;

/* custodian_list - every custodian: rows of (name, addresses as a JSON array text), by name.
 * The caller PQclear()s *res. */
enum vl_err custodian_list(PGconn *c, PGresult **res, char *err) VL_MUST_CHECK;

#endif
