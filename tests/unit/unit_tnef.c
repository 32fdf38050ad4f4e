/* unit_tnef - TNEF streams built in the unit tests ([MS-OXTNEF] 2.1.3): the header, an
 * attribute with its checksum, a variable-size MAPI property, a file attached by value. */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "unit.h"

#define ATT_REND_DATA 0x00069002u
#define ATT_ATTACH_DATA 0x0006800Fu
#define ATT_ATTACH_TITLE 0x00018010u

void
unit_tnef_head(struct buf *b)
{
	buf_append_u32le(b, 0x223E9F78u);
	buf_append(b, "\x01\x00", 2);
}

void
unit_tnef_attr(struct buf *b, uint8_t level, uint32_t id, const void *data, size_t n)
{
	uint16_t sum = 0;

	buf_append(b, &level, 1);
	buf_append_u32le(b, id);
	buf_append_u32le(b, (uint32_t)n);
	buf_append(b, data, n);
	for (size_t i = 0; i < n; i++)
		sum = (uint16_t)(sum + ((const uint8_t *)data)[i]);
	buf_append(b, (uint8_t[]){(uint8_t)sum, (uint8_t)(sum >> 8)}, 2);
}

void
unit_tnef_prop_var(struct buf *l, uint32_t tag, const void *data, size_t n)
{
	buf_append_u32le(l, tag);
	buf_append_u32le(l, 1);
	buf_append_u32le(l, (uint32_t)n);
	buf_append(l, data, n);
	buf_append(l, "\0\0\0", (4 - n % 4) % 4);
}

void
unit_tnef_file(struct buf *b, const char *title, const void *data, size_t n)
{
	unit_tnef_attr(b, 2, ATT_REND_DATA,
		       "\x01\x00\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00", 14);
	unit_tnef_attr(b, 2, ATT_ATTACH_TITLE, title, strlen(title) + 1);
	unit_tnef_attr(b, 2, ATT_ATTACH_DATA, data, n);
}
