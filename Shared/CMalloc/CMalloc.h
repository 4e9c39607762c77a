#ifndef C_MALLOC_SHIM_H
#define C_MALLOC_SHIM_H
/* glibc's heap tuning (<malloc.h>, which Swift's Glibc module does not import): a header-only
   shim, no library. RetainState's RecoveryHeap uses it while a state is rebuilt; elsewhere the
   calls do nothing. */
#include <stdlib.h>

#if defined(__GLIBC__)
#include <malloc.h>

/* Sets M_TOP_PAD: the extra bytes a heap grows by, and keeps when trimmed. */
static inline int cmalloc_set_top_pad(int bytes) { return mallopt(M_TOP_PAD, bytes); }

/* Gives the heaps' free memory back to the system. */
static inline int cmalloc_trim(void) { return malloc_trim(0); }
#else
static inline int cmalloc_set_top_pad(int bytes) { (void)bytes; return 0; }
static inline int cmalloc_trim(void) { return 0; }
#endif

#endif
