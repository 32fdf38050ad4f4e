/* civday - calendar days written YYYY-MM-DD (proleptic Gregorian, no time zone): parsing with
 * the calendar checked, and counting days. Owns: the one reading of a day that the search
 * language and the business fields share. Not: times of day or zones (query_field, handlers). */
#ifndef VL_CIVDAY_H
#define VL_CIVDAY_H

#include <stddef.h>
#include <stdint.h>

/* civday_parse - exactly YYYY-MM-DD in s[0..len) into *day as YYYYMMDD. Returns 0, -1 when the
 * text is not of that form, -2 when it is but names no day of the calendar (2024-13-01,
 * 2023-02-29, year 0000). */
int civday_parse(const char *s, size_t len, int64_t *day);

/* civday_parse_sep - civday_parse with sep between the fields instead of '-' (Gmail's '/'). */
int civday_parse_sep(const char *s, size_t len, char sep, int64_t *day);

/* civday_days_in_month - 28..31 for month m (1..12) of year y. */
int civday_days_in_month(int y, int m);

/* civday_ordinal - the days from 0001-01-01 to day (YYYYMMDD, year >= 1). */
int64_t civday_ordinal(int64_t day);

/* civday_of_ordinal - the inverse of civday_ordinal: the day (YYYYMMDD) n days after
 * 0001-01-01 (n >= 0). */
int64_t civday_of_ordinal(int64_t n);

#endif
