/* String hash map: FNV-1a hashing, linear probing, load factor <= 1/2. */
#include "core/hashmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

void aicc_hashmap_init(aicc_hashmap *m) {
  m->slots = NULL;
  m->cap = m->len = 0;
}

void aicc_hashmap_fini(aicc_hashmap *m) {
  free(m->slots);
  aicc_hashmap_init(m);
}

static aicc_hashmap_slot *find(aicc_hashmap_slot *slots, size_t cap,
                               const char *key) {
  size_t i = hash_str(key) & (cap - 1);
  while (slots[i].key && strcmp(slots[i].key, key) != 0) i = (i + 1) & (cap - 1);
  return &slots[i];
}

static bool rehash(aicc_hashmap *m, size_t cap) {
  aicc_hashmap_slot *s = calloc(cap, sizeof *s);
  if (!s) return false;
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].key) *find(s, cap, m->slots[i].key) = m->slots[i];
  free(m->slots);
  m->slots = s;
  m->cap = cap;
  return true;
}

bool aicc_hashmap_put(aicc_hashmap *m, const char *key, void *value) {
  if ((m->len + 1) * 2 > m->cap && !rehash(m, m->cap ? m->cap * 2 : 16))
    return false;
  aicc_hashmap_slot *s = find(m->slots, m->cap, key);
  if (!s->key) {
    s->key = key;
    m->len++;
  }
  s->value = value;
  return true;
}

void *aicc_hashmap_get(const aicc_hashmap *m, const char *key) {
  if (!m->cap) return NULL;
  aicc_hashmap_slot *s = find(m->slots, m->cap, key);
  return s->key ? s->value : NULL;
}

bool aicc_hashmap_has(const aicc_hashmap *m, const char *key) {
  return m->cap && find(m->slots, m->cap, key)->key != NULL;
}
