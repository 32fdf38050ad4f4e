/* civday - calendar days written YYYY-MM-DD (see civday.h). */
#include <stdbool.h>

#include "civday.h"

int
civday_days_in_month(int y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

int
civday_parse(const char *s, size_t len, int64_t *day)
{
	return civday_parse_sep(s, len, '-', day);
}

int
civday_parse_sep(const char *s, size_t len, char sep, int64_t *day)
{
	int v[3] = {0, 0, 0}, widths[3] = {4, 2, 2};
	size_t i = 0;

	for (int f = 0; f < 3; f++) {
		for (int k = 0; k < widths[f]; k++, i++) {
			if (i >= len || s[i] < '0' || s[i] > '9')
				return -1;
			v[f] = v[f] * 10 + (s[i] - '0');
		}
		if (f < 2 && (i >= len || s[i++] != sep))
			return -1;
	}
	if (i != len)
		return -1;
	if (v[0] < 1 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
	    v[2] > civday_days_in_month(v[0], v[1]))
		return -2;
	*day = (int64_t)v[0] * 10000 + v[1] * 100 + v[2];
	return 0;
}

static int
days_in_year(int y)
{
	return civday_days_in_month(y, 2) == 29 ? 366 : 365;
}

int64_t
civday_ordinal(int64_t day)
{
	int y = (int)(day / 10000) - 1, m = (int)(day / 100 % 100);
	int64_t n = (int64_t)y * 365 + y / 4 - y / 100 + y / 400;

	for (int k = 1; k < m; k++)
		n += civday_days_in_month(y + 1, k);
	return n + day % 100 - 1;
}

int64_t
civday_of_ordinal(int64_t n)
{
	int64_t rest = n % 146097; /* 400 years: 146,097 days */
	int y = (int)(n / 146097 * 400) + 1, m = 1;

	for (int len = days_in_year(y); rest >= len; len = days_in_year(++y))
		rest -= len;
	while (rest >= civday_days_in_month(y, m))
		rest -= civday_days_in_month(y, m++);
	return (int64_t)y * 10000 + m * 100 + rest + 1;
}
