/* Static memory plan of the main graph: every intermediate tensor gets an
 * offset in one arena, from value lifetimes over a topological order
 * (greedy by size, Pisarchyk & Lee 2020). The plan is plain data for the
 * runtime; computing it never changes the model. */
#ifndef AICC_PASSES_MEMPLAN_H
#define AICC_PASSES_MEMPLAN_H

#include "ir/graph.h"

#include <stdio.h>

enum { AICC_MEMPLAN_ALIGN = 64 };

/* One planned tensor. Lifetimes are closed intervals of steps (indices into
 * the main graph's node order): live from the step of its producer to the
 * step of its last use (uses inside subgraphs count at the holding node). */
typedef struct aicc_memplan_buf {
  uint32_t value_id;
  int32_t first, last; /* lifetime [first, last] in steps */
  int64_t size;        /* bytes, rounded up to AICC_MEMPLAN_ALIGN */
  int64_t offset;      /* in the arena; a multiple of AICC_MEMPLAN_ALIGN */
  int32_t inplace_of;  /* index of the buffer whose memory this one reuses in
                          place (it died at this buffer's producer), or -1 */
} aicc_memplan_buf;

typedef struct aicc_memplan {
  aicc_memplan_buf *bufs; /* malloc'ed; in order of definition */
  int32_t n_bufs;
  uint32_t *unplanned; /* ids of intermediates of unknown size (own buffers) */
  int32_t n_unplanned;
  int32_t n_steps;   /* nodes in the main graph */
  int32_t n_inplace; /* buffers that reuse their input's memory */
  int64_t arena_bytes; /* planned peak: size of the arena */
  int64_t naive_bytes; /* every planned tensor in its own buffer */
  int64_t lower_bound; /* max over steps of the live bytes (after in-place
                          sharing): no offset assignment can beat it */
  int64_t lower_bound_no_inplace; /* the same without in-place sharing */
} aicc_memplan;

/* Plans m's main graph (whose nodes must be in topological order). Fills
 * *out (caller storage; release with aicc_memplan_fini). Graph inputs,
 * initializers and graph outputs are not planned: they get their own
 * buffers. Values without a static tensor type are listed as unplanned. */
AICC_MUST_USE aicc_status aicc_memplan_compute(const aicc_model *m, aicc_memplan *out);
void aicc_memplan_fini(aicc_memplan *p);

/* Offset assignment alone, on buffers with first/last/size set (size
 * already aligned) and inplace_of -1: greedy by size (Pisarchyk & Lee 2020,
 * §4.3: largest first; each goes into the smallest gap that fits between
 * the lifetime-overlapping buffers already placed, else above them).
 * Sets every offset and returns the arena size in *arena_bytes. */
AICC_MUST_USE aicc_status aicc_memplan_assign(aicc_memplan_buf *bufs, int32_t n,
                                              int64_t *arena_bytes);

/* Checks the plan: offsets aligned, inside the arena, and no two buffers
 * that are live at the same step share a byte (except a buffer and the one
 * it reuses in place). Returns an error naming the pair otherwise. */
AICC_MUST_USE aicc_status aicc_memplan_check(const aicc_memplan *p);

/* Writes the plan as a table (one line per buffer, then the totals) to f. */
void aicc_memplan_print(const aicc_memplan *p, const aicc_model *m, FILE *f);

#endif
