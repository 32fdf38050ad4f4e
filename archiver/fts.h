/* fts - the one tokenizer of full-text search: the indexer builds tsvectors with it and search
 * turns query words into the same lexemes, so index and query always agree.
 * STAND-IN: a minimal version for search/query until the real archiver/fts.c lands; the
 * integrator replaces this pair. Owns: splitting UTF-8 text into lexemes. */
#ifndef VL_FTS_H
#define VL_FTS_H

#include <stddef.h>

/* fts_token_fn - called once per lexeme, in order; lex is lower-case UTF-8, not NUL-terminated.
 * Return 0 to go on, non-zero to stop. */
typedef int (*fts_token_fn)(void *ctx, const char *lex, size_t len);

/* fts_tokens - split UTF-8 text into lexemes: lower-cased runs of word characters (letters,
 * digits, underscore); runs of CJK characters become overlapping bigrams (a lone one stays
 * itself). Returns the callback's non-zero value if it stopped, else 0. */
int fts_tokens(const char *utf8, size_t len, fts_token_fn fn, void *ctx);

#endif
