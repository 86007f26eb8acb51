/* checkdat: a host program for the Go tests. For each file named on the
 * command line it prints "ok N" (N actions) or "bad OFFSET", with the
 * hook's own decoder (decode.c). Not part of the hook. */
#include <stdio.h>
#include <stdlib.h>
#include "decode.h"

int main(int argc, char **argv)
{
	static uint8_t buf[BH_MAX_FILE + 1];
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;
		uint32_t r;
		if (!f) {
			perror(argv[i]);
			return 2;
		}
		n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		r = bh_check(buf, (uint32_t)n);
		if (r == 0) {
			/* Walk the actions as the hook does. */
			static struct bh_action a;
			uint32_t off = BH_HEADER + bh_rd16(buf + 20), count = bh_rd32(buf + 16);
			for (uint32_t k = 0; k < count; k++)
				bh_next(buf, &off, &a);
			if (off != n) {
				printf("walk-mismatch\n");
				continue;
			}
			printf("ok %u\n", count);
		} else {
			printf("bad %u\n", r - 1);
		}
	}
	return 0;
}
