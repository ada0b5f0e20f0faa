/* String-keyed hash map (open addressing, linear probing). Keys are borrowed:
 * the caller keeps them alive (usually in an arena) for the map's lifetime. */
#ifndef AICC_CORE_HASHMAP_H
#define AICC_CORE_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct aicc_hashmap_slot {
  const char *key;
  void *value;
} aicc_hashmap_slot;

typedef struct aicc_hashmap {
  aicc_hashmap_slot *slots;
  size_t cap, len;
} aicc_hashmap;

void aicc_hashmap_init(aicc_hashmap *m);
void aicc_hashmap_fini(aicc_hashmap *m);
/* Inserts or replaces. Returns false on allocation failure. */
bool aicc_hashmap_put(aicc_hashmap *m, const char *key, void *value);
/* Returns the value, or NULL when absent. */
void *aicc_hashmap_get(const aicc_hashmap *m, const char *key);
bool aicc_hashmap_has(const aicc_hashmap *m, const char *key);

#endif
