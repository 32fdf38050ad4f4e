/* civday - calendar days written YYYY-MM-DD (proleptic Gregorian, no time zone): parsing with
 * the calendar checked, and the day after. Owns: the one reading of a day that the search
 * language and the business fields share. Not: times of day or zones (config, handlers). */
#ifndef VL_CIVDAY_H
#define VL_CIVDAY_H

#include <stddef.h>
#include <stdint.h>

/* civday_parse - exactly YYYY-MM-DD in s[0..len) into *day as YYYYMMDD. Returns 0, -1 when the
 * text is not of that form, -2 when it is but names no day of the calendar (2024-13-01,
 * 2023-02-29, year 0000). */
int civday_parse(const char *s, size_t len, int64_t *day);

/* civday_days_in_month - 28..31 for month m (1..12) of year y. */
int civday_days_in_month(int y, int m);

/* civday_next - the day after day (YYYYMMDD). */
int64_t civday_next(int64_t day);

#endif
