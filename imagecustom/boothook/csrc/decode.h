/* decode.h: the hook's reader of the data file (System32\vmprep.dat).
 *
 * Freestanding C (no C runtime), also built for the host by the Go tests,
 * which feed it the fuzz corpus and compare its verdicts with the Go
 * decoder's (boothook.Decode). The format and the rules are those of
 * codec.go; keep the two in step. */
#ifndef BOOTHOOK_DECODE_H
#define BOOTHOOK_DECODE_H

#include <stdint.h>

#define BH_MAX_FILE    (1u << 20)
#define BH_MAX_ACTIONS 4096u
#define BH_MAX_FIELDS  256u
#define BH_MAX_STRING  4096u
#define BH_MAX_BINARY  65536u
#define BH_HEADER      24u
/* Offset 22: the run timeout in seconds, 0 for the default. */

enum bh_op {
	BH_REG_SET = 1, BH_REG_DELETE, BH_COPY, BH_RENAME, BH_DELETE,
	BH_WRITE, BH_RUN, BH_SAY, BH_REBOOT
};

enum bh_type {
	BH_REG_SZ = 1, BH_REG_EXPAND_SZ = 2, BH_REG_BINARY = 3,
	BH_REG_DWORD = 4, BH_REG_MULTI_SZ = 7, BH_REG_QWORD = 11
};

/* One decoded field: bytes in the file, not aligned. */
struct bh_field {
	const uint8_t *p;
	uint32_t len;
};

/* One action, after bh_check accepted the file. */
struct bh_action {
	uint8_t op, type;
	uint32_t nfields;
	struct bh_field f[BH_MAX_FIELDS];
};

uint16_t bh_rd16(const uint8_t *p);
uint32_t bh_rd32(const uint8_t *p);
uint32_t bh_crc32(const uint8_t *p, uint32_t n);

/* bh_check returns 0 when b[0:n] is a valid data file, else the offset of
 * the first problem plus one. */
uint32_t bh_check(const uint8_t *b, uint32_t n);

/* bh_next decodes the action at *off of a file bh_check accepted and moves
 * *off past it. */
void bh_next(const uint8_t *b, uint32_t *off, struct bh_action *a);

#endif
