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
	int v[3] = {0, 0, 0}, widths[3] = {4, 2, 2};
	size_t i = 0;

	for (int f = 0; f < 3; f++) {
		for (int k = 0; k < widths[f]; k++, i++) {
			if (i >= len || s[i] < '0' || s[i] > '9')
				return -1;
			v[f] = v[f] * 10 + (s[i] - '0');
		}
		if (f < 2 && (i >= len || s[i++] != '-'))
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

int64_t
civday_next(int64_t day)
{
	int y = (int)(day / 10000), m = (int)(day / 100 % 100), d = (int)(day % 100);

	if (++d > civday_days_in_month(y, m)) {
		d = 1;
		if (++m > 12) {
			m = 1;
			y++;
		}
	}
	return (int64_t)y * 10000 + m * 100 + d;
}
