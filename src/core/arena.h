/* Growable arena: a list of chunks, freed all at once. The graph IR lives in
 * one. Allocation never fails silently: it returns NULL only when malloc does,
 * and callers turn that into AICC_ERR_NOMEM. */
#ifndef AICC_CORE_ARENA_H
#define AICC_CORE_ARENA_H

#include <stddef.h>

typedef struct aicc_arena_chunk aicc_arena_chunk;

typedef struct aicc_arena {
  aicc_arena_chunk *head;
  size_t chunk_size; /* size of the next ordinary chunk; grows geometrically */
  size_t used;       /* total bytes handed out, for statistics */
} aicc_arena;

void aicc_arena_init(aicc_arena *a);
void aicc_arena_fini(aicc_arena *a);

/* Zeroed memory aligned to align (a power of two <= 4096). */
void *aicc_arena_alloc(aicc_arena *a, size_t size, size_t align);
#define AICC_ARENA_NEW(a, T) ((T *)aicc_arena_alloc((a), sizeof(T), _Alignof(T)))
#define AICC_ARENA_ARRAY(a, T, n)                                              \
  ((T *)aicc_arena_alloc((a), sizeof(T) * (size_t)(n), _Alignof(T)))

char *aicc_arena_strdup(aicc_arena *a, const char *s);
char *aicc_arena_strndup(aicc_arena *a, const char *s, size_t n);
void *aicc_arena_memdup(aicc_arena *a, const void *p, size_t n);

#endif
