/* CRC-32C via Intel ISA-L (hardware-accelerated where available). */
#include "journal/journal.h"

#include <isa-l/crc.h>

uint32_t jr_crc32c(uint32_t crc, const void *p, size_t n)
{
    /* crc32_iscsi works on the raw register (no pre/post inversion). */
    uint32_t c = ~crc;
    const unsigned char *b = p;
    while (n > 0) {
        int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
        c = crc32_iscsi((unsigned char *)b, chunk, c);
        b += chunk;
        n -= (size_t)chunk;
    }
    return ~c;
}
