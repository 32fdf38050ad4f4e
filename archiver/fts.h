/* fts - the one tokenizer that index and query share, and the tsvector built in C.
 * Owns: what a word is (a run of Unicode word characters, lower-cased; CJK runs as overlapping
 * bigrams), the CJK range table, and tsvector input literals within PostgreSQL's limits.
 * Not: the database (indexer), the query language (search/query). Pure: no I/O, no globals. */
#ifndef VL_FTS_H
#define VL_FTS_H

#include <stddef.h>
#include <stdint.h>

#define FTS_LEXEME_MAX 255	     /* bytes of one lexeme; longer words are skipped whole */
#define FTS_POS_MAX 16383	     /* PostgreSQL's MAXENTRYPOS - 1: later positions clamp to it */
#define FTS_POSITIONS_MAX 256	     /* positions kept per lexeme (PostgreSQL's MAXNUMPOS) */
#define FTS_VEC_BYTES_MAX 1000000u   /* a vector's lexeme bytes + 8 per lexeme + 2 per position;
				      * PostgreSQL refuses lexeme bytes of 1 MiB or more */
#define FTS_FIELD_GAP 1		     /* positions left empty between fts_vec_add calls, so that a
				      * phrase never spans two fields (subject, names, body) */

/* fts_token_fn - called once per lexeme, in order; lex is lower-case UTF-8, not NUL-terminated.
 * Return 0 to go on, non-zero to stop. */
typedef int (*fts_token_fn)(void *ctx, const char *lex, size_t len);

/* fts_tokens - split UTF-8 text into lexemes; returns the callback's non-zero value if it
 * stopped, else 0.
 * A lexeme is a maximal run of word characters, as Python's re \w (letters Lu Ll Lt Lm Lo,
 * numbers Nd Nl No, '_') plus combining marks (Mn Mc Me), lower-cased with g_unichar_tolower
 * and the few simple case foldings that differ from it (ς ſ ϐ ϑ ϕ ϖ ϰ ϱ ϵ ẛ ι, to σ s β θ φ π κ
 * ρ ε ṡ ι), so a word matches where a case-insensitive \bword\b would: "kenneth.lay@enron.com"
 * gives kenneth, lay, enron, com; "Lay's" gives lay, s. Fullwidth ASCII U+FF01-FF5E is read as
 * ASCII first (ＨＴＭＬ is html, ＠ a separator). A run of CJK characters (the ranges of
 * fts_is_cjk) gives its overlapping bigrams, one lexeme each at consecutive positions
 * (契約書 -> 契約, 約書); a run of one character gives itself. A change between CJK and other
 * word characters ends a run (abc契約def -> abc, 契約, def); a combining mark inside a CJK run
 * (a variation selector after an ideograph) is dropped without ending it. Invalid UTF-8 (also
 * overlong forms and surrogates) and NUL separate words. A word longer than FTS_LEXEME_MAX
 * bytes once lower-cased is skipped whole (PostgreSQL skips words over 2047 bytes). Linear in
 * len, no allocation. */
int fts_tokens(const char *utf8, size_t len, fts_token_fn fn, void *ctx);

/* fts_is_cjk - whether code point c is one that fts_tokens turns into bigrams: Hangul Jamo
 * U+1100-11FF; CJK and Kangxi radicals U+2E80-2FDF; the ideographic marks 々〆〇 U+3005-3007,
 * 〡-〩 U+3021-3029, 〱-〵 U+3031-3035, 〻〼 U+303B-303C; Hiragana U+3041-309F; Katakana
 * U+30A1-30FA and ー-ヿ U+30FC-30FF (the middle dot ・ U+30FB separates); Bopomofo, Hangul
 * compatibility Jamo, Kanbun, Bopomofo extended, Katakana extensions U+3105-31FF; CJK Extension
 * A U+3400-4DBF; CJK Unified U+4E00-9FFF; Hangul Jamo extended U+A960-A97F and U+D7B0-D7FF;
 * Hangul syllables U+AC00-D7A3; CJK compatibility ideographs U+F900-FAFF; halfwidth Katakana and
 * Hangul U+FF66-FFDC; Kana supplement and extensions U+1AFF0-1B16F; CJK Extensions B-F and the
 * compatibility supplement U+20000-2FA1F; Extensions G-H U+30000-323AF. */
int fts_is_cjk(uint32_t c);

/* A tsvector under construction: distinct lexemes, each with its positions and weights. */
struct fts_vec;

/* fts_vec_new - an empty vector, owned by the caller (fts_vec_free). Never NULL. */
struct fts_vec *fts_vec_new(void);

/* fts_vec_add - add the lexemes of fts_tokens(utf8, len) with weight 'A', 'B', 'C' or 'D'
 * (anything else is 'D'), at the next positions: they continue across calls, after a gap of
 * FTS_FIELD_GAP. Positions past FTS_POS_MAX are clamped to it (as to_tsvector does; equal
 * positions of a lexeme merge, keeping the higher weight); a lexeme keeps its first
 * FTS_POSITIONS_MAX positions. Once FTS_VEC_BYTES_MAX is reached the vector is full: later
 * lexemes and positions are dropped (fts_vec_full tells). */
void fts_vec_add(struct fts_vec *v, const char *utf8, size_t len, char weight);

/* fts_vec_add_lexeme - add one lexeme as it is, at the next position, under the same rules. lex
 * must be valid UTF-8 without NUL, 1..FTS_LEXEME_MAX bytes; other input is ignored. For
 * callers that know their own terms; fts_vec_add is the usual way in. */
void fts_vec_add_lexeme(struct fts_vec *v, const char *lex, size_t len, char weight);

/* fts_vec_full - non-zero when something was dropped for FTS_VEC_BYTES_MAX. */
int fts_vec_full(const struct fts_vec *v);

/* fts_vec_nlexemes - the number of distinct lexemes. */
size_t fts_vec_nlexemes(const struct fts_vec *v);

/* fts_vec_literal - the vector in tsvector input syntax, for `$1::tsvector`: "'lex':1A,5A
 * 'other':2" (weight D is written without a letter; lexemes quoted, ' doubled, \ escaped), or
 * "" when empty. NUL-terminated; *len (when not NULL) is its length. Borrowed: valid until the
 * next call on v. */
const char *fts_vec_literal(struct fts_vec *v, size_t *len);

/* fts_vec_reset - empty v for the next document, keeping its memory. */
void fts_vec_reset(struct fts_vec *v);

/* fts_vec_free - release v; NULL is a no-op. */
void fts_vec_free(struct fts_vec *v);

#endif
