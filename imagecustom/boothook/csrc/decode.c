/* decode.c: see decode.h. Every rule here mirrors codec.go. */
#include "decode.h"

uint16_t bh_rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

uint32_t bh_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint32_t bh_crc32(const uint8_t *p, uint32_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	for (uint32_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return ~c;
}

enum { K_TEXT, K_KEY, K_PATH, K_NONEMPTY, K_DWORD, K_QWORD, K_BINARY };

/* Whole surrogate pairs, no unit below 0x20, at most BH_MAX_STRING units. */
static int valid_text(const uint8_t *p, uint32_t units)
{
	if (units > BH_MAX_STRING)
		return 0;
	for (uint32_t i = 0; i < units; i++) {
		uint16_t c = bh_rd16(p + 2 * i);
		if (c < 0x20)
			return 0;
		if (c >= 0xD800 && c < 0xDC00) {
			uint16_t d;
			if (i + 1 == units)
				return 0;
			d = bh_rd16(p + 2 * (i + 1));
			if (d < 0xDC00 || d >= 0xE000)
				return 0;
			i++;
		} else if (c >= 0xDC00 && c < 0xE000) {
			return 0;
		}
	}
	return 1;
}

static uint16_t unit(const uint8_t *p, uint32_t i) { return bh_rd16(p + 2 * i); }

static int valid_backup(const uint8_t *p, uint32_t units)
{
	if (units == 0 || units > 255 || !valid_text(p, units))
		return 0;
	if (units == 1 && unit(p, 0) == '.')
		return 0;
	if (units == 2 && unit(p, 0) == '.' && unit(p, 1) == '.')
		return 0;
	for (uint32_t i = 0; i < units; i++) {
		switch (unit(p, i)) {
		case '\\': case '/': case ':': case '*': case '?':
		case '"': case '<': case '>': case '|':
			return 0;
		}
	}
	return 1;
}

static int valid_key(const uint8_t *p, uint32_t units)
{
	if (units == 0 || !valid_text(p, units) || unit(p, 0) == '\\' || unit(p, units - 1) == '\\')
		return 0;
	for (uint32_t i = 1; i < units; i++)
		if (unit(p, i) == '\\' && unit(p, i - 1) == '\\')
			return 0;
	return 1;
}

static int valid_path(const uint8_t *p, uint32_t units)
{
	uint32_t start = 1;
	if (units < 2 || !valid_text(p, units) || unit(p, 0) != '\\' || unit(p, units - 1) == '\\')
		return 0;
	for (uint32_t i = 1; i <= units; i++) {
		if (i == units || unit(p, i) == '\\') {
			uint32_t l = i - start;
			if (l == 0)
				return 0;
			if (l == 1 && unit(p, start) == '.')
				return 0;
			if (l == 2 && unit(p, start) == '.' && unit(p, start + 1) == '.')
				return 0;
			start = i + 1;
		}
	}
	return 1;
}

/* shape_ok is codec.go's shapeOK. */
static int shape_ok(uint8_t op, uint8_t t, uint32_t n)
{
	if (n > BH_MAX_FIELDS || (op == BH_REG_SET) != (t != 0))
		return 0;
	switch (op) {
	case BH_REG_SET:
		switch (t) {
		case BH_REG_SZ: case BH_REG_EXPAND_SZ: case BH_REG_DWORD:
		case BH_REG_QWORD: case BH_REG_BINARY:
			return n == 3;
		case BH_REG_MULTI_SZ:
			return n >= 2;
		}
		return 0;
	case BH_REG_DELETE:
		return n == 1 || n == 2;
	case BH_COPY: case BH_RENAME:
		return n == 2;
	case BH_DELETE: case BH_SAY:
		return n == 1;
	case BH_WRITE: case BH_RUN:
		return n >= 1;
	case BH_REBOOT:
		return n == 0;
	}
	return 0;
}

/* field_kind is codec.go's kind. */
static int field_kind(uint8_t op, uint8_t t, uint32_t i)
{
	switch (op) {
	case BH_REG_SET:
		if (i == 0)
			return K_KEY;
		if (i == 1)
			return K_TEXT;
		switch (t) {
		case BH_REG_DWORD: return K_DWORD;
		case BH_REG_QWORD: return K_QWORD;
		case BH_REG_BINARY: return K_BINARY;
		case BH_REG_MULTI_SZ: return K_NONEMPTY;
		}
		return K_TEXT;
	case BH_REG_DELETE:
		return i == 0 ? K_KEY : K_TEXT;
	case BH_COPY: case BH_RENAME: case BH_DELETE:
		return K_PATH;
	case BH_WRITE: case BH_RUN:
		return i == 0 ? K_PATH : K_TEXT;
	}
	return K_TEXT;
}

uint32_t bh_check(const uint8_t *b, uint32_t n)
{
	uint32_t count, bl, off;
	if (n > BH_MAX_FILE || n < BH_HEADER)
		return 1;
	if (b[0] != 'I' || b[1] != 'C' || b[2] != 'B' || b[3] != 'H')
		return 1;
	if (bh_rd16(b + 4) != 1)
		return 5;
	if (bh_rd16(b + 6) != 0)
		return 7;
	if (bh_rd32(b + 8) != n)
		return 9;
	if (bh_rd32(b + 12) != bh_crc32(b + 16, n - 16))
		return 13;
	count = bh_rd32(b + 16);
	if (count > BH_MAX_ACTIONS)
		return 17;
	bl = bh_rd16(b + 20);
	if ((bl & 1) || bl > 510 || BH_HEADER + bl > n)
		return 21;
	if (!valid_backup(b + BH_HEADER, bl / 2))
		return BH_HEADER + 1;
	off = BH_HEADER + bl;
	for (uint32_t a = 0; a < count; a++) {
		uint32_t start = off, nf;
		uint8_t op, t;
		if (n - off < 4)
			return off + 1;
		op = b[off];
		t = b[off + 1];
		nf = bh_rd16(b + off + 2);
		off += 4;
		if (op < BH_REG_SET || op > BH_REBOOT)
			return start + 1;
		if ((op == BH_REG_SET) != (t != 0))
			return start + 2;
		if (!shape_ok(op, t, nf))
			return start + 3;
		for (uint32_t i = 0; i < nf; i++) {
			uint32_t l, fo = off;
			const uint8_t *f;
			int k = field_kind(op, t, i), ok;
			if (n - off < 4)
				return off + 1;
			l = bh_rd32(b + off);
			if (l > n - off - 4)
				return off + 1;
			f = b + off + 4;
			off += 4 + l;
			switch (k) {
			case K_DWORD: ok = l == 4; break;
			case K_QWORD: ok = l == 8; break;
			case K_BINARY: ok = l <= BH_MAX_BINARY; break;
			default:
				if (l & 1)
					return fo + 1;
				switch (k) {
				case K_KEY: ok = valid_key(f, l / 2); break;
				case K_PATH: ok = valid_path(f, l / 2); break;
				case K_NONEMPTY: ok = l > 0 && valid_text(f, l / 2); break;
				default: ok = valid_text(f, l / 2); break;
				}
			}
			if (!ok)
				return fo + 1;
		}
	}
	if (off != n)
		return off + 1;
	return 0;
}

void bh_next(const uint8_t *b, uint32_t *off, struct bh_action *a)
{
	uint32_t o = *off;
	a->op = b[o];
	a->type = b[o + 1];
	a->nfields = bh_rd16(b + o + 2);
	o += 4;
	for (uint32_t i = 0; i < a->nfields && i < BH_MAX_FIELDS; i++) {
		a->f[i].len = bh_rd32(b + o);
		a->f[i].p = b + o + 4;
		o += 4 + a->f[i].len;
	}
	*off = o;
}
