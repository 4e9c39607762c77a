#ifndef C_CRC32C_SHIM_H
#define C_CRC32C_SHIM_H
/* CRC-32C with the SSE4.2 `crc32` instruction, which Swift cannot call directly: a header-only
   shim, no library. RetainStorage's CRC32C uses it when the CPU has SSE4.2 and its tables
   otherwise; both give the same values (CRC32CTests). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

/* Whether this CPU has SSE4.2 (and so the crc32 instruction). */
static inline int ccrc32c_hardware_available(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & bit_SSE4_2) != 0;
}

/* Extends the running (pre-inverted) CRC-32C `state` over `count` bytes. The compiler's builtins,
   not <nmmintrin.h>'s wrappers: Swift imports those as external functions that nothing defines. */
__attribute__((target("sse4.2")))
static inline uint32_t ccrc32c_hardware_update(uint32_t state, const void *bytes, size_t count) {
    const uint8_t *p = (const uint8_t *)bytes;
    uint64_t crc = state;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc = __builtin_ia32_crc32di(crc, word);
        p += 8;
        count -= 8;
    }
    uint32_t crc32 = (uint32_t)crc;
    while (count > 0) {
        crc32 = __builtin_ia32_crc32qi(crc32, *p);
        p += 1;
        count -= 1;
    }
    return crc32;
}
#else
static inline int ccrc32c_hardware_available(void) { return 0; }
static inline uint32_t ccrc32c_hardware_update(uint32_t state, const void *bytes, size_t count) {
    (void)bytes;
    (void)count;
    return state;
}
#endif
#endif
