/* Growable arena allocator. */
#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct aicc_arena_chunk {
  aicc_arena_chunk *next;
  size_t size, pos;
  unsigned char data[];
};

enum { FIRST_CHUNK = 4096, MAX_CHUNK = 1 << 24 };

void aicc_arena_init(aicc_arena *a) {
  a->head = NULL;
  a->chunk_size = FIRST_CHUNK;
  a->used = 0;
}

void aicc_arena_fini(aicc_arena *a) {
  aicc_arena_chunk *c = a->head;
  while (c) {
    aicc_arena_chunk *n = c->next;
    free(c);
    c = n;
  }
  a->head = NULL;
}

void *aicc_arena_alloc(aicc_arena *a, size_t size, size_t align) {
  if (align == 0) align = 1;
  aicc_arena_chunk *c = a->head;
  if (c) {
    /* Align the address, not the offset: malloc gives only 16-byte chunks. */
    uintptr_t base = (uintptr_t)c->data;
    size_t p = (size_t)(((base + c->pos + align - 1) & ~(uintptr_t)(align - 1)) - base);
    if (p <= c->size && size <= c->size - p) {
      c->pos = p + size;
      a->used += size;
      return memset(c->data + p, 0, size);
    }
  }
  size_t need = size + align;
  if (need < size) return NULL; /* overflow */
  size_t csize = a->chunk_size;
  if (csize < need) csize = need;
  else if (a->chunk_size < MAX_CHUNK) a->chunk_size *= 2;
  aicc_arena_chunk *n = malloc(sizeof *n + csize);
  if (!n) return NULL;
  n->size = csize;
  n->pos = 0;
  /* A big one-off allocation goes behind the head so the head keeps its room. */
  if (c && size > a->chunk_size / 2) {
    n->next = c->next;
    c->next = n;
  } else {
    n->next = c;
    a->head = n;
  }
  size_t p = (size_t)(-(uintptr_t)n->data) & (align - 1);
  n->pos = p + size;
  a->used += size;
  return memset(n->data + p, 0, size);
}

char *aicc_arena_strndup(aicc_arena *a, const char *s, size_t n) {
  char *d = aicc_arena_alloc(a, n + 1, 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = 0;
  }
  return d;
}

char *aicc_arena_strdup(aicc_arena *a, const char *s) {
  return s ? aicc_arena_strndup(a, s, strlen(s)) : NULL;
}

void *aicc_arena_memdup(aicc_arena *a, const void *p, size_t n) {
  void *d = aicc_arena_alloc(a, n ? n : 1, 16);
  if (d && n) memcpy(d, p, n);
  return d;
}
