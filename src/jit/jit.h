/* JIT: runs the system C compiler on generated source (posix_spawnp, never a
 * shell), keeps the artifacts in a content-addressed cache and dlopens them.
 * It takes C text and gives back symbols: it knows nothing of graphs, loop IR
 * or schedules, and decides none of them. */
#ifndef AICC_JIT_JIT_H
#define AICC_JIT_JIT_H

#include "core/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Host ISA -------------------------------------------------------------
 * What codegen may use for intrinsics. Detected from cpuid (through
 * __builtin_cpu_supports); read-only process facts, not mutable state. */
typedef enum aicc_jit_isa_feature {
  AICC_JIT_ISA_SSE42 = 1u << 0,
  AICC_JIT_ISA_AVX = 1u << 1,
  AICC_JIT_ISA_AVX2 = 1u << 2,
  AICC_JIT_ISA_FMA = 1u << 3,
  AICC_JIT_ISA_AVX512F = 1u << 4,
  AICC_JIT_ISA_AVX512BW = 1u << 5,
  AICC_JIT_ISA_AVX512DQ = 1u << 6,
  AICC_JIT_ISA_AVX512VL = 1u << 7,
} aicc_jit_isa_feature;

typedef struct aicc_jit_isa {
  uint32_t features; /* aicc_jit_isa_feature bits */
  int vector_bits;   /* widest usable float vector: 512, 256, 128, or 0 (scalar) */
  const char *name;  /* "avx512", "avx2", "sse4.2" or "scalar" (static string) */
} aicc_jit_isa;

/* The host's features. The environment variable AICC_ISA (scalar, sse4.2,
 * avx2, avx512) caps the answer, never raises it, so the scalar and AVX2
 * code paths can be tested on an AVX-512 machine. */
aicc_jit_isa aicc_jit_host_isa(void);

/* ---- Context ---------------------------------------------------------------
 * A context holds one toolchain description (compiler, flags, cache dir) and
 * its statistics. It is thread-safe: several threads may compile through one
 * context. No global state: two contexts never share anything but files. */
#define AICC_JIT_DEFAULT_FLAGS                                                 \
  "-O3 -march=native -fPIC -shared -std=c99 -Wall -Wextra "                    \
  "-Werror=implicit-function-declaration"
#define AICC_JIT_DEFAULT_LIBS "-lm"
#define AICC_JIT_DEFAULT_TIMEOUT_S 120

typedef struct aicc_jit_options {
  const char *cc;        /* compiler command, words split on blanks ("ccache gcc");
                            NULL: $AICC_CC, else "cc"; looked up on PATH */
  const char *flags;     /* before the source; NULL: AICC_JIT_DEFAULT_FLAGS */
  const char *libs;      /* after the source; NULL: AICC_JIT_DEFAULT_LIBS */
  const char *cache_dir; /* NULL: $AICC_CACHE_DIR, else $XDG_CACHE_HOME/aicc,
                            else $HOME/.cache/aicc; created like mkdir -p */
  int timeout_s;         /* kill the compiler after this long; 0: default */
} aicc_jit_options;

typedef struct aicc_jit_stats {
  uint64_t compiles;      /* kernels compiled (cache misses) */
  uint64_t cache_hits;    /* kernels loaded from the cache without compiling */
  uint64_t spawns;        /* processes started, the version probe included */
  double compile_ms;      /* total wall time inside the compiler */
  double last_compile_ms; /* the latest compile */
  double load_ms;         /* total wall time in dlopen */
} aicc_jit_stats;

typedef struct aicc_jit_ctx aicc_jit_ctx;
typedef struct aicc_jit_module aicc_jit_module;

/* opt may be NULL (all defaults). Creates the cache dir and removes temp
 * files older than an hour that killed processes left in it. The compiler is
 * not run here: its version is asked once, on the first compile. Caller destroys.
 * Errors: AICC_ERR_IO (cache dir), AICC_ERR_INVALID (bad options). */
AICC_MUST_USE aicc_status aicc_jit_ctx_create(const aicc_jit_options *opt,
                                              aicc_jit_ctx **out);
/* Modules created through ctx stay valid after it is destroyed. */
void aicc_jit_ctx_destroy(aicc_jit_ctx *ctx);
const char *aicc_jit_ctx_cache_dir(const aicc_jit_ctx *ctx);
void aicc_jit_ctx_stats(aicc_jit_ctx *ctx, aicc_jit_stats *out);

/* The cache key of source under this context's toolchain: SHA-256 over the
 * source, compiler path, `cc --version` output, flags, libs and the host ISA
 * (since -march=native makes the artifact depend on the CPU). digest gets 64
 * hex digits and a NUL. Runs the version probe if not yet done. */
AICC_MUST_USE aicc_status aicc_jit_ctx_key(aicc_jit_ctx *ctx, const char *source,
                                           size_t len, char digest[65]);

/* Compiles source (len bytes) unless <cache>/<digest>.so exists, and dlopens
 * the artifact. The source is kept beside it as <digest>.c. *out gets a new
 * reference (caller releases); *cache_hit (may be NULL) says whether the
 * compiler was skipped. A cached artifact that fails to load (truncated by a
 * crash, say) is rebuilt. Errors:
 *   AICC_ERR_UNSUPPORTED  the compiler is missing ("... not found (set AICC_CC)")
 *   AICC_ERR_INVALID      the compiler rejected the source (its message included)
 *   AICC_ERR_IO           cache writes, timeouts, dlopen failures. */
AICC_MUST_USE aicc_status aicc_jit_compile(aicc_jit_ctx *ctx, const char *source,
                                           size_t len, aicc_jit_module **out,
                                           bool *cache_hit);

/* Looks up a symbol; *fn is NULL on error (message from dlerror). Convert to a
 * function pointer with memcpy or *(void **)&f = p. */
AICC_MUST_USE aicc_status aicc_jit_module_symbol(const aicc_jit_module *mod,
                                                 const char *name, void **fn);
const char *aicc_jit_module_digest(const aicc_jit_module *mod); /* 64 hex digits */
const char *aicc_jit_module_path(const aicc_jit_module *mod);   /* the .so */
/* Returns mod with one more reference. */
aicc_jit_module *aicc_jit_module_retain(aicc_jit_module *mod);
/* Drops one reference; the last one dlcloses. NULL is ignored. */
void aicc_jit_module_release(aicc_jit_module *mod);

/* ---- Building blocks (used by the JIT's own files and by its tests) ------ */

/* SHA-256 (FIPS 180-4). */
typedef struct aicc_jit_sha256 {
  uint32_t h[8];
  uint64_t nbytes;
  uint8_t buf[64];
  size_t nbuf;
} aicc_jit_sha256;
void aicc_jit_sha256_init(aicc_jit_sha256 *s);
void aicc_jit_sha256_update(aicc_jit_sha256 *s, const void *data, size_t len);
void aicc_jit_sha256_final(aicc_jit_sha256 *s, uint8_t out[32]);
/* Hex digest (lower case) of the bytes so far; finalizes s. */
void aicc_jit_sha256_hex(aicc_jit_sha256 *s, char out[65]);
void aicc_jit_sha256_hex_of(const void *data, size_t len, char out[65]);

/* Runs argv[0] (looked up on PATH) with stdin from /dev/null and stdout and
 * stderr captured together, in its own process group so a timeout kills the
 * compiler's children too. Returns 0, or the errno that kept it from starting
 * (ENOENT: not found). The caller frees out->output. */
typedef struct aicc_jit_proc_result {
  int exit_code;   /* valid when neither signaled nor timed out */
  int term_signal; /* nonzero when killed by a signal */
  bool timed_out;  /* killed by us after timeout_s */
  char *output;    /* NUL-terminated; the first 64 KiB */
  size_t output_len;
  double wall_ms;
} aicc_jit_proc_result;
int aicc_jit_proc_run(char *const argv[], int timeout_s, aicc_jit_proc_result *out);

/* Resolves a command name the way posix_spawnp does (a name with a slash as
 * is, else through $PATH). Returns a malloc'd path or NULL when not found. */
char *aicc_jit_which(const char *name);

/* mkdir -p. */
AICC_MUST_USE aicc_status aicc_jit_mkdirs(const char *path);


#endif
