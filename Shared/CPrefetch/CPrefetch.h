#ifndef C_PREFETCH_SHIM_H
#define C_PREFETCH_SHIM_H
/* Software prefetch, which Swift cannot ask for directly: a header-only shim, no library. A
   batch that will read scattered memory (hash slots, accounts, lots) asks for the cache lines of
   the items a few steps ahead while it works on the current one, so their misses overlap instead
   of each stalling in turn. A prefetch never faults and changes no value. */

/* Asks for the cache line holding `address`, to be read soon. */
static inline void cprefetch_read(const void *address) { __builtin_prefetch(address, 0, 3); }

/* Asks for the cache line holding `address`, to be written soon. */
static inline void cprefetch_write(const void *address) { __builtin_prefetch(address, 1, 3); }
#endif
