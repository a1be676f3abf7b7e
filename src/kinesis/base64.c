/* kinesis: the base64 of a record's Data, decoded.
 *
 *   canonical text ──► AVX2, 32 characters at a time (where the CPU has it:
 *                      Muła and Lemire's range check and pack), the rest
 *                      and the '=' padding 4 at a time by a table
 *   anything else  ──► EVP_DecodeBlock, which is what decoded Data before
 *                      (blanks around the text trimmed, '=' decoding as
 *                      zero anywhere): same records refused, same bytes
 *
 * "Canonical": the length a multiple of 4, every character in the alphabet
 * but one or two '=' at the end.  EVP_DecodeBlock decodes such a text to
 * the same bytes; on any other it is the one that answers. */
#include "kinesis/kinesis.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define KN_AVX2 1
#endif

static signed char DEC[256]; /* value of a character, -1 outside the alphabet */
static pthread_once_t dec_once = PTHREAD_ONCE_INIT;

static void dec_init(void)
{
    static const char ALPHA[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    memset(DEC, -1, sizeof DEC);
    for (int i = 0; i < 64; i++) DEC[(unsigned char)ALPHA[i]] = (signed char)i;
}

#ifdef KN_AVX2
/* Whole blocks of 32 characters from in while 44 remain (the 32-byte store
 * stays inside n / 4 * 3 and the last group is left to the table); the
 * characters done (up to a block with one outside the alphabet). */
__attribute__((target("avx2"))) static size_t dec_avx2(unsigned char *out, const char *in,
                                                       size_t n)
{
    const __m256i lut_lo = _mm256_setr_epi8(
        0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B,
        0x1B, 0x1A, 0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A,
        0x1B, 0x1B, 0x1B, 0x1A);
    const __m256i lut_hi = _mm256_setr_epi8(
        0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
        0x10, 0x10, 0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10,
        0x10, 0x10, 0x10, 0x10);
    const __m256i lut_roll = _mm256_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0,
                                              0, 0, 0, 0, 16, 19, 4, -65, -65, -71, -71, 0, 0,
                                              0, 0, 0, 0, 0, 0);
    const __m256i m2f = _mm256_set1_epi8(0x2f);
    const __m256i pack = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1,
                                          -1, 2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1,
                                          -1, -1);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
    size_t i = 0;
    for (; i + 44 <= n; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(in + i));
        __m256i hi = _mm256_and_si256(_mm256_srli_epi32(v, 4), m2f);
        __m256i lo = _mm256_shuffle_epi8(lut_lo, _mm256_and_si256(v, m2f));
        if (!_mm256_testz_si256(lo, _mm256_shuffle_epi8(lut_hi, hi))) break;
        __m256i slash = _mm256_cmpeq_epi8(v, m2f);
        v = _mm256_add_epi8(v, _mm256_shuffle_epi8(lut_roll, _mm256_add_epi8(slash, hi)));
        v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));
        v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x00011000));
        v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, pack), lanes);
        _mm256_storeu_si256((__m256i *)(void *)(out + i / 4 * 3), v);
    }
    return i;
}

static int have_avx2(void)
{
    static int have = -1;
    int h = __atomic_load_n(&have, __ATOMIC_RELAXED);
    if (h < 0) {
        h = __builtin_cpu_supports("avx2") ? 1 : 0;
        __atomic_store_n(&have, h, __ATOMIC_RELAXED);
    }
    return h;
}
#endif

/* Groups of 4 from in[i] to the end of a canonical text; 0, or -1 when it
 * is not one. */
static int dec_groups(unsigned char *out, const char *in, size_t i, size_t n)
{
    const unsigned char *s = (const unsigned char *)in;
    for (; i < n; i += 4) {
        int pad = i + 4 < n ? 0 : (s[i + 3] == '=') + (s[i + 3] == '=' && s[i + 2] == '=');
        int a = DEC[s[i]], b = DEC[s[i + 1]], c = pad == 2 ? 0 : DEC[s[i + 2]],
            d = pad ? 0 : DEC[s[i + 3]];
        if ((a | b | c | d) < 0) return -1;
        unsigned long v = (unsigned long)a << 18 | (unsigned long)b << 12 |
                          (unsigned long)c << 6 | (unsigned long)d;
        unsigned char *o = out + i / 4 * 3;
        o[0] = (unsigned char)(v >> 16), o[1] = (unsigned char)(v >> 8), o[2] = (unsigned char)v;
    }
    return 0;
}

int kn_base64_decode(unsigned char *out, const char *in, size_t n)
{
    if (n > (size_t)1 << 30) return -1;
    pthread_once(&dec_once, dec_init);
    if (n % 4 == 0) {
        size_t i = 0;
#ifdef KN_AVX2
        if (have_avx2()) i = dec_avx2(out, in, n);
#endif
        if (dec_groups(out, in, i, n) == 0) return (int)(n / 4 * 3);
    }
    return n ? EVP_DecodeBlock(out, (const unsigned char *)in, (int)n) : 0;
}
