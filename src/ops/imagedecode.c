/* ImageDecoder (opset 20): decodes one encoded image (a 1-D uint8 tensor) to
 * uint8 [H, W, 3] (RGB or BGR) or [H, W, 1] (Grayscale). JPEG, PNG, TIFF, WebP
 * and JPEG 2000 go through their C libraries when the build found them
 * (AICC_HAVE_<CODEC>, see cmake/codecs.cmake); BMP and PNM are decoded here.
 * Output bytes follow what the reference (Pillow) produces. Bad input gives an
 * error, never a crash: every codec's error path is caught (setjmp/longjmp
 * for libjpeg and libpng) and nothing is printed. */
#include "ops/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Refuse images above this many pixels (256 Mi): a few bytes of header can
 * otherwise ask for gigabytes. */
#define IMG_MAX_PIXELS ((int64_t)1 << 28)

/* A decoded image: ch 1 (gray) or 3 (RGB), rows top to bottom, px malloc'ed.
 * Alpha is dropped and other colour models are converted by each decoder. */
typedef struct img_buf {
  int64_t w, h;
  int ch;
  uint8_t *px;
} img_buf;

typedef enum { PIX_RGB, PIX_BGR, PIX_GRAY } pix_format;

static aicc_status img_alloc(img_buf *im, int64_t w, int64_t h, int ch, const char *fmt) {
  if (w <= 0 || h <= 0)
    return aicc_errorf(AICC_ERR_INVALID, "%s: invalid image size %lldx%lld", fmt, (long long)w,
                       (long long)h);
  if (w > IMG_MAX_PIXELS || h > IMG_MAX_PIXELS || w * h > IMG_MAX_PIXELS)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: image of %lldx%lld pixels exceeds the limit of %lld pixels",
                       fmt, (long long)w, (long long)h, (long long)IMG_MAX_PIXELS);
  im->px = malloc((size_t)(w * h * ch));
  if (!im->px) return aicc_errorf(AICC_ERR_NOMEM, "%s: out of memory for %lldx%lld image", fmt,
                                  (long long)w, (long long)h);
  im->w = w, im->h = h, im->ch = ch;
  return NULL;
}

/* Drops a failed decode's pixels. */
static void img_free(img_buf *im) {
  free(im->px);
  im->px = NULL;
}

/* Stores row y from samples of nch >= im->ch channels per pixel, keeping the
 * first im->ch (the alpha, if any, is dropped). */
__attribute__((unused)) static void img_put_row(img_buf *im, int64_t y, const uint8_t *row,
                                                int nch) {
  uint8_t *o = im->px + (size_t)(y * im->w) * (size_t)im->ch;
  for (int64_t x = 0; x < im->w; x++) memcpy(o + (size_t)x * im->ch, row + (size_t)x * nch, im->ch);
}

__attribute__((unused)) static aicc_status img_no_codec(const char *fmt, const char *lib) {
  return aicc_errorf(AICC_ERR_UNSUPPORTED, "aicc was built without %s support (%s was not found at build time)", fmt, lib);
}

/* Pillow's CMYK -> RGB (Convert.c cmyk2rgb): r = (255-k) - (c*(255-k))/255,
 * with its rounded divide-by-255. c, m, y, k are ink amounts (not inverted). */
__attribute__((unused)) static uint8_t muldiv255(unsigned a, unsigned b) {
  unsigned t = a * b + 128;
  return (uint8_t)(((t >> 8) + t) >> 8);
}
__attribute__((unused)) static void cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb) {
  unsigned nk = 255u - cmyk[3];
  for (int i = 0; i < 3; i++) rgb[i] = (uint8_t)(nk - muldiv255(cmyk[i], nk));
}

__attribute__((unused)) static uint8_t clamp8(double v) { return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)lrint(v); }

/* ------------------------------------------------------------------ JPEG */
#ifdef AICC_HAVE_JPEG
#include <jerror.h>
#include <jpeglib.h>
#include <setjmp.h>

typedef struct jpeg_err {
  struct jpeg_error_mgr pub;
  jmp_buf jb;
  char msg[JMSG_LENGTH_MAX + 32];
} jpeg_err;

/* libjpeg's default error_exit calls exit(): jump back instead. */
static void jpeg_on_error(j_common_ptr ci) {
  jpeg_err *e = (jpeg_err *)ci->err;
  (*ci->err->format_message)(ci, e->msg);
  longjmp(e->jb, 1);
}
/* Warnings are silent, except running out of data: libjpeg would pad the
 * image with grey and carry on, Pillow calls it a truncated file. */
static void jpeg_on_emit(j_common_ptr ci, int level) {
  if (level < 0 && ci->err->msg_code == JWRN_JPEG_EOF) {
    jpeg_err *e = (jpeg_err *)ci->err;
    snprintf(e->msg, sizeof e->msg, "image data is truncated");
    longjmp(e->jb, 1);
  }
}
static void jpeg_on_output(j_common_ptr ci) { (void)ci; }

static aicc_status dec_jpeg(const uint8_t *d, size_t n, img_buf *im) {
  struct jpeg_decompress_struct ci;
  jpeg_err je;
  uint8_t *volatile row = NULL; /* CMYK scanline; volatile: freed after longjmp */
  memset(&ci, 0, sizeof ci);
  ci.err = jpeg_std_error(&je.pub);
  je.pub.error_exit = jpeg_on_error;
  je.pub.emit_message = jpeg_on_emit;
  je.pub.output_message = jpeg_on_output;
  je.msg[0] = 0;
  if (setjmp(je.jb)) {
    jpeg_destroy_decompress(&ci);
    free(row);
    img_free(im);
    return aicc_errorf(AICC_ERR_INVALID, "JPEG: %s", je.msg);
  }
  jpeg_create_decompress(&ci);
  jpeg_mem_src(&ci, d, (unsigned long)n);
  jpeg_read_header(&ci, TRUE);
  bool cmyk = ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK;
  int ch = ci.num_components == 1 ? 1 : 3;
  ci.out_color_space = cmyk ? JCS_CMYK : ch == 1 ? JCS_GRAYSCALE : JCS_RGB;
  aicc_status s = img_alloc(im, ci.image_width, ci.image_height, ch, "JPEG");
  if (s) {
    jpeg_destroy_decompress(&ci);
    return s;
  }
  jpeg_start_decompress(&ci);
  if ((int64_t)ci.output_width != im->w || (int64_t)ci.output_height != im->h ||
      ci.output_components != (cmyk ? 4 : ch))
    ERREXIT(&ci, JERR_BAD_PRECISION); /* cannot happen without scaling; be safe */
  if (cmyk) {
    row = malloc((size_t)im->w * 4);
    if (!row) {
      snprintf(je.msg, sizeof je.msg, "out of memory");
      longjmp(je.jb, 1);
    }
  }
  while (ci.output_scanline < ci.output_height) {
    uint8_t *dst = im->px + (size_t)ci.output_scanline * (size_t)(im->w * ch);
    JSAMPROW rp = cmyk ? row : dst;
    jpeg_read_scanlines(&ci, &rp, 1);
    if (cmyk) {
      /* Adobe writes inverted CMYK (Pillow reads it as "CMYK;I"). */
      bool inv = ci.saw_Adobe_marker;
      for (int64_t x = 0; x < im->w; x++) {
        uint8_t k[4];
        for (int j = 0; j < 4; j++) k[j] = inv ? (uint8_t)(255 - row[x * 4 + j]) : row[x * 4 + j];
        cmyk_to_rgb(k, dst + x * 3);
      }
    }
  }
  jpeg_finish_decompress(&ci);
  jpeg_destroy_decompress(&ci);
  free(row);
  return NULL;
}
#else
static aicc_status dec_jpeg(const uint8_t *d, size_t n, img_buf *im) {
  return img_no_codec("JPEG", "libjpeg");
}
#endif

/* ------------------------------------------------------------------- PNG */
#ifdef AICC_HAVE_PNG
#include <png.h>

typedef struct png_src {
  const uint8_t *d;
  size_t n, pos;
  png_bytep *rows; /* kept here, not in a local, so the longjmp path frees it */
  uint8_t *buf;
  char msg[256];
} png_src;

static void png_on_error(png_structp p, png_const_charp m) {
  png_src *s = png_get_error_ptr(p);
  snprintf(s->msg, sizeof s->msg, "%s", m);
  png_longjmp(p, 1);
}
static void png_on_warning(png_structp p, png_const_charp m) { (void)p, (void)m; }
static void png_on_read(png_structp p, png_bytep out, png_size_t len) {
  png_src *s = png_get_io_ptr(p);
  if (len > s->n - s->pos) png_error(p, "image data is truncated");
  memcpy(out, s->d + s->pos, len);
  s->pos += len;
}

static aicc_status dec_png(const uint8_t *d, size_t n, img_buf *im) {
  png_src src = {d, n, 0, NULL, NULL, ""};
  png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error, png_on_warning);
  if (!p) return aicc_errorf(AICC_ERR_NOMEM, "PNG: out of memory");
  png_infop info = png_create_info_struct(p);
  if (!info) {
    png_destroy_read_struct(&p, NULL, NULL);
    return aicc_errorf(AICC_ERR_NOMEM, "PNG: out of memory");
  }
  /* p and info are not modified after setjmp, so they survive the longjmp. */
  if (setjmp(png_jmpbuf(p))) {
    png_destroy_read_struct(&p, &info, NULL);
    free(src.rows);
    free(src.buf);
    img_free(im);
    return aicc_errorf(AICC_ERR_INVALID, "PNG: %s", src.msg);
  }
  png_set_read_fn(p, &src, png_on_read);
  png_read_info(p, info);
  png_uint_32 w, h;
  int depth, ctype, interlace;
  png_get_IHDR(p, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
  aicc_status s = img_alloc(im, w, h, (ctype & PNG_COLOR_MASK_COLOR) ? 3 : 1, "PNG");
  if (s) {
    png_destroy_read_struct(&p, &info, NULL);
    return s;
  }
  /* Palette -> RGB, low bit depths -> 8, 16 bits -> high byte (as Pillow's
   * RGB;16B unpacker); no gamma: Pillow returns the stored samples. */
  if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(p);
  if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(p);
  if (depth == 16) png_set_strip_16(p);
  png_set_interlace_handling(p);
  png_read_update_info(p, info);
  int nch = png_get_channels(p, info); /* may carry alpha (also from tRNS) */
  size_t rowbytes = png_get_rowbytes(p, info);
  if (nch < im->ch || rowbytes < (size_t)w * (size_t)nch) png_error(p, "unexpected pixel layout");
  src.buf = malloc(rowbytes * h);
  src.rows = malloc(sizeof *src.rows * h);
  if (!src.buf || !src.rows) png_error(p, "out of memory");
  for (png_uint_32 y = 0; y < h; y++) src.rows[y] = src.buf + rowbytes * y;
  png_read_image(p, src.rows);
  png_read_end(p, NULL);
  for (png_uint_32 y = 0; y < h; y++) img_put_row(im, y, src.rows[y], nch);
  png_destroy_read_struct(&p, &info, NULL);
  free(src.rows);
  free(src.buf);
  return NULL;
}
#else
static aicc_status dec_png(const uint8_t *d, size_t n, img_buf *im) {
  return img_no_codec("PNG", "libpng");
}
#endif

/* ------------------------------------------------------------------ TIFF */
#ifdef AICC_HAVE_TIFF
#include <tiffio.h>

typedef struct tif_src {
  const uint8_t *d;
  toff_t n, pos;
  char msg[256];
} tif_src;

static tmsize_t tif_read(thandle_t h, void *buf, tmsize_t size) {
  tif_src *s = (tif_src *)h;
  if (size < 0) return -1;
  toff_t left = s->pos < s->n ? s->n - s->pos : 0;
  toff_t k = (toff_t)size < left ? (toff_t)size : left;
  memcpy(buf, s->d + s->pos, (size_t)k);
  s->pos += k;
  return (tmsize_t)k;
}
static tmsize_t tif_write(thandle_t h, void *buf, tmsize_t size) { return 0; }
static toff_t tif_seek(thandle_t h, toff_t off, int whence) {
  tif_src *s = (tif_src *)h;
  uint64_t base = whence == SEEK_CUR ? s->pos : whence == SEEK_END ? s->n : 0;
  s->pos = base + off; /* toff_t is unsigned: a negative offset wraps, reads then fail */
  return s->pos;
}
static int tif_close(thandle_t h) { return 0; }
static toff_t tif_size(thandle_t h) { return ((tif_src *)h)->n; }
static int tif_map(thandle_t h, void **base, toff_t *size) { return 0; }
static void tif_unmap(thandle_t h, void *base, toff_t size) {}

#if defined(TIFFLIB_AT_LEAST) && TIFFLIB_AT_LEAST(4, 5, 0)
#define AICC_TIFF_HANDLERS 1
/* Per-handle handlers (libtiff >= 4.5): keep the first error, print nothing,
 * and return 1 so the global (stderr) handler is not called. */
static int tif_on_error(TIFF *t, void *user, const char *module, const char *fmt, va_list ap) {
  tif_src *s = user;
  if (!s->msg[0]) vsnprintf(s->msg, sizeof s->msg, fmt, ap);
  return 1;
}
static int tif_on_warning(TIFF *t, void *user, const char *module, const char *fmt, va_list ap) {
  return 1;
}
#endif

/* The common layout (strips of 8-bit contiguous gray or RGB samples) is read
 * row by row so the stored samples come back unchanged; everything else goes
 * through libtiff's RGBA interface (palettes, YCbCr, CMYK, tiles, 1/4/16
 * bits...), which also premultiplies alpha. */
static aicc_status tif_decode(TIFF *t, tif_src *src, img_buf *im) {
  uint32_t w = 0, h = 0;
  uint16_t spp = 1, bps = 1, photo = 0, planar = PLANARCONFIG_CONTIG;
  if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h))
    return aicc_errorf(AICC_ERR_INVALID, "TIFF: missing image size");
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
  if (!TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo)) photo = spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
  bool gray = photo == PHOTOMETRIC_MINISBLACK || photo == PHOTOMETRIC_MINISWHITE;
  AICC_TRY(img_alloc(im, w, h, gray ? 1 : 3, "TIFF"));
  if (!TIFFIsTiled(t) && bps == 8 && planar == PLANARCONFIG_CONTIG &&
      ((photo == PHOTOMETRIC_MINISBLACK && spp >= 1 && spp <= 2) ||
       (photo == PHOTOMETRIC_RGB && spp >= 3 && spp <= 4))) {
    tmsize_t sl = TIFFScanlineSize(t);
    if (sl < (tmsize_t)w * spp) return aicc_errorf(AICC_ERR_INVALID, "TIFF: bad scanline size");
    uint8_t *row = malloc((size_t)sl);
    if (!row) return aicc_errorf(AICC_ERR_NOMEM, "TIFF: out of memory");
    for (uint32_t y = 0; y < h; y++) {
      if (TIFFReadScanline(t, row, y, 0) < 0) {
        free(row);
        return aicc_errorf(AICC_ERR_INVALID, "TIFF: %s", src->msg[0] ? src->msg : "cannot read image data");
      }
      img_put_row(im, y, row, spp);
    }
    free(row);
    return NULL;
  }
  char why[1024] = "";
  if (!TIFFRGBAImageOK(t, why))
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "TIFF: %s", why[0] ? why : "unsupported layout");
  uint32_t *rgba = malloc((size_t)w * h * 4);
  if (!rgba) return aicc_errorf(AICC_ERR_NOMEM, "TIFF: out of memory");
  if (!TIFFReadRGBAImageOriented(t, w, h, rgba, ORIENTATION_TOPLEFT, 1)) {
    free(rgba);
    return aicc_errorf(AICC_ERR_INVALID, "TIFF: %s", src->msg[0] ? src->msg : "cannot read image data");
  }
  for (size_t i = 0; i < (size_t)w * h; i++) {
    uint8_t *o = im->px + i * im->ch;
    o[0] = (uint8_t)TIFFGetR(rgba[i]);
    if (!gray) o[1] = (uint8_t)TIFFGetG(rgba[i]), o[2] = (uint8_t)TIFFGetB(rgba[i]);
  }
  free(rgba);
  return NULL;
}

static aicc_status dec_tiff(const uint8_t *d, size_t n, img_buf *im) {
  tif_src src = {d, n, 0, ""};
  TIFF *t;
#ifdef AICC_TIFF_HANDLERS
  TIFFOpenOptions *opt = TIFFOpenOptionsAlloc();
  if (!opt) return aicc_errorf(AICC_ERR_NOMEM, "TIFF: out of memory");
  TIFFOpenOptionsSetErrorHandlerExtR(opt, tif_on_error, &src);
  TIFFOpenOptionsSetWarningHandlerExtR(opt, tif_on_warning, &src);
  TIFFOpenOptionsSetMaxSingleMemAlloc(opt, (tmsize_t)IMG_MAX_PIXELS * 4);
  t = TIFFClientOpenExt("memory", "rm", (thandle_t)&src, tif_read, tif_write, tif_seek, tif_close,
                        tif_size, tif_map, tif_unmap, opt);
  TIFFOpenOptionsFree(opt);
#else
  /* Older libtiff only has process-wide handlers; we leave them alone. */
  t = TIFFClientOpen("memory", "rm", (thandle_t)&src, tif_read, tif_write, tif_seek, tif_close,
                     tif_size, tif_map, tif_unmap);
#endif
  if (!t) return aicc_errorf(AICC_ERR_INVALID, "TIFF: %s", src.msg[0] ? src.msg : "cannot open image");
  aicc_status s = tif_decode(t, &src, im);
  TIFFClose(t);
  if (s) {
    img_free(im);
  }
  return s;
}
#else
static aicc_status dec_tiff(const uint8_t *d, size_t n, img_buf *im) {
  return img_no_codec("TIFF", "libtiff-4");
}
#endif

/* ------------------------------------------------------------------ WebP */
#ifdef AICC_HAVE_WEBP
#include <webp/decode.h>

static aicc_status dec_webp(const uint8_t *d, size_t n, img_buf *im) {
  WebPBitstreamFeatures f;
  if (WebPGetFeatures(d, n, &f) != VP8_STATUS_OK)
    return aicc_errorf(AICC_ERR_INVALID, "WebP: not a valid WebP bitstream (corrupt or truncated header)");
  if (f.has_animation) return aicc_errorf(AICC_ERR_UNSUPPORTED, "WebP: animated images are not supported");
  AICC_TRY(img_alloc(im, f.width, f.height, 3, "WebP"));
  size_t stride = (size_t)im->w * 3;
  if (!WebPDecodeRGBInto(d, n, im->px, stride * (size_t)im->h, (int)stride)) {
    img_free(im);
    return aicc_errorf(AICC_ERR_INVALID, "WebP: decoding failed (corrupt or truncated data)");
  }
  return NULL;
}
#else
static aicc_status dec_webp(const uint8_t *d, size_t n, img_buf *im) {
  return img_no_codec("WebP", "libwebp");
}
#endif

/* ------------------------------------------------------------- JPEG 2000 */
#ifdef AICC_HAVE_OPENJP2
#include <openjpeg.h>

typedef struct j2k_src {
  const uint8_t *d;
  size_t n, pos;
  bool truncated;
  char msg[256];
} j2k_src;

static OPJ_SIZE_T j2k_read(void *buf, OPJ_SIZE_T size, void *u) {
  j2k_src *s = u;
  if (s->pos >= s->n) return (OPJ_SIZE_T)-1;
  size_t k = size < s->n - s->pos ? size : s->n - s->pos;
  memcpy(buf, s->d + s->pos, k);
  s->pos += k;
  return k;
}
static OPJ_OFF_T j2k_skip(OPJ_OFF_T k, void *u) {
  j2k_src *s = u;
  if (k < 0) {
    if ((size_t)-k > s->pos) k = -(OPJ_OFF_T)s->pos;
  } else if ((size_t)k > s->n - s->pos) {
    k = (OPJ_OFF_T)(s->n - s->pos);
  }
  s->pos += k;
  return k;
}
static OPJ_BOOL j2k_seek(OPJ_OFF_T k, void *u) {
  j2k_src *s = u;
  if (k < 0 || (uint64_t)k > s->n) return OPJ_FALSE;
  s->pos = (size_t)k;
  return OPJ_TRUE;
}
static void j2k_on_error(const char *m, void *u) {
  j2k_src *s = u;
  if (!s->msg[0]) {
    snprintf(s->msg, sizeof s->msg, "%s", m);
    size_t l = strlen(s->msg); /* openjp2 messages end with a newline */
    while (l && (s->msg[l - 1] == '\n' || s->msg[l - 1] == '\r')) s->msg[--l] = 0;
  }
}
/* openjp2 decodes what it has of a cut-off codestream and only warns; a
 * short file is an error for us (as for the other formats). */
static void j2k_on_warning(const char *m, void *u) {
  j2k_src *s = u;
  if (strstr(m, "runcated") || strstr(m, "too short") || strstr(m, "end with EOC")) s->truncated = true;
}
static void j2k_on_info(const char *m, void *u) { (void)m, (void)u; }

/* Sample of component c at image pixel (x, y), as 8 bits: signed samples are
 * offset to unsigned and precision is shifted to 8 (as Pillow's j2ku_shift). */
static int j2k_sample(const opj_image_t *img, const opj_image_comp_t *c, int64_t x, int64_t y) {
  int64_t cx = (int64_t)(img->x0 + x) / c->dx - c->x0, cy = (int64_t)(img->y0 + y) / c->dy - c->y0;
  if (cx < 0) cx = 0;
  if (cy < 0) cy = 0;
  if (cx >= c->w) cx = c->w - 1;
  if (cy >= c->h) cy = c->h - 1;
  int64_t v = c->data[cy * c->w + cx];
  if (c->sgnd) v += (int64_t)1 << (c->prec - 1);
  v = c->prec > 8 ? v >> (c->prec - 8) : v << (8 - c->prec);
  return v < 0 ? 0 : v > 255 ? 255 : (int)v;
}

static aicc_status j2k_convert(const opj_image_t *img, img_buf *im) {
  int nc = (int)img->numcomps;
  if (nc < 1) return aicc_errorf(AICC_ERR_INVALID, "JPEG 2000: image has no components");
  for (int i = 0; i < nc; i++) {
    const opj_image_comp_t *c = &img->comps[i];
    if (!c->data || !c->w || !c->h || !c->dx || !c->dy || c->prec < 1 || c->prec > 31)
      return aicc_errorf(AICC_ERR_INVALID, "JPEG 2000: component %d is malformed", i);
  }
  bool cmyk = img->color_space == OPJ_CLRSPC_CMYK && nc >= 4;
  bool ycc = (img->color_space == OPJ_CLRSPC_SYCC || img->color_space == OPJ_CLRSPC_EYCC) && nc >= 3;
  AICC_TRY(img_alloc(im, (int64_t)img->x1 - img->x0, (int64_t)img->y1 - img->y0, nc >= 3 ? 3 : 1,
                     "JPEG 2000"));
  for (int64_t y = 0; y < im->h; y++)
    for (int64_t x = 0; x < im->w; x++) {
      uint8_t *o = im->px + (y * im->w + x) * im->ch;
      if (im->ch == 1) {
        o[0] = (uint8_t)j2k_sample(img, &img->comps[0], x, y);
      } else if (cmyk) {
        uint8_t k[4];
        for (int j = 0; j < 4; j++) k[j] = (uint8_t)j2k_sample(img, &img->comps[j], x, y);
        cmyk_to_rgb(k, o);
      } else if (ycc) { /* ITU-R BT.601 full range (JFIF) */
        double Y = j2k_sample(img, &img->comps[0], x, y);
        double cb = j2k_sample(img, &img->comps[1], x, y) - 128.0;
        double cr = j2k_sample(img, &img->comps[2], x, y) - 128.0;
        o[0] = clamp8(Y + 1.402 * cr);
        o[1] = clamp8(Y - 0.344136 * cb - 0.714136 * cr);
        o[2] = clamp8(Y + 1.772 * cb);
      } else {
        for (int j = 0; j < 3; j++) o[j] = (uint8_t)j2k_sample(img, &img->comps[j], x, y);
      }
    }
  return NULL;
}

static aicc_status dec_j2k(const uint8_t *d, size_t n, bool jp2, img_buf *im) {
  j2k_src src = {d, n, 0, false, ""};
  opj_codec_t *codec = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
  opj_stream_t *st = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
  opj_image_t *img = NULL;
  aicc_status s = NULL;
  if (!codec || !st) {
    s = aicc_errorf(AICC_ERR_NOMEM, "JPEG 2000: out of memory");
    goto done;
  }
  /* Handlers before anything else: without them openjp2 prints to stderr. */
  opj_set_error_handler(codec, j2k_on_error, &src);
  opj_set_warning_handler(codec, j2k_on_warning, &src);
  opj_set_info_handler(codec, j2k_on_info, &src);
  opj_dparameters_t prm;
  opj_set_default_decoder_parameters(&prm);
  opj_stream_set_user_data(st, &src, NULL);
  opj_stream_set_user_data_length(st, n);
  opj_stream_set_read_function(st, j2k_read);
  opj_stream_set_skip_function(st, j2k_skip);
  opj_stream_set_seek_function(st, j2k_seek);
  if (!opj_setup_decoder(codec, &prm) || !opj_read_header(st, codec, &img)) {
    s = aicc_errorf(AICC_ERR_INVALID, "JPEG 2000: %s", src.msg[0] ? src.msg : "cannot read header");
    goto done;
  }
  /* Check the size before decoding allocates the tiles. */
  int64_t w = (int64_t)img->x1 - img->x0, h = (int64_t)img->y1 - img->y0;
  if (w <= 0 || h <= 0 || w * h > IMG_MAX_PIXELS) {
    s = aicc_errorf(AICC_ERR_UNSUPPORTED, "JPEG 2000: image of %lldx%lld pixels is empty or exceeds the limit of %lld pixels",
                    (long long)w, (long long)h, (long long)IMG_MAX_PIXELS);
    goto done;
  }
  if (!opj_decode(codec, st, img) || !opj_end_decompress(codec, st)) {
    s = aicc_errorf(AICC_ERR_INVALID, "JPEG 2000: %s", src.msg[0] ? src.msg : "decoding failed");
    goto done;
  }
  if (src.truncated) {
    s = aicc_errorf(AICC_ERR_INVALID, "JPEG 2000: image data is truncated");
    goto done;
  }
  s = j2k_convert(img, im);
done:
  if (img) opj_image_destroy(img);
  if (st) opj_stream_destroy(st);
  if (codec) opj_destroy_codec(codec);
  if (s) {
    img_free(im);
  }
  return s;
}
#else
static aicc_status dec_j2k(const uint8_t *d, size_t n, bool jp2, img_buf *im) {
  return img_no_codec("JPEG 2000", "libopenjp2");
}
#endif

/* ------------------------------------------------------------------- BMP */
/* Windows bitmaps (Microsoft "Bitmap Storage", BITMAPINFOHEADER and its V4/V5
 * and OS/2 variants): 1/4/8-bit palettes (raw, RLE8, RLE4), 16/32-bit with
 * default or explicit bit masks, 24-bit BGR; bottom-up or top-down rows. */

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }

/* One channel from a bit mask, scaled to 8 bits like Pillow's BGR;15/BGR;16
 * unpackers (v * 255 / max, truncating). */
static uint8_t bmp_field(uint32_t px, uint32_t mask) {
  if (!mask) return 0;
  int shift = __builtin_ctz(mask);
  uint64_t max = mask >> shift, v = (px & mask) >> shift;
  return (uint8_t)(v * 255 / max);
}

/* Expands RLE8/RLE4 data into one palette index per pixel, rows bottom-up
 * (row 0 = bottom); pixels the stream skips keep index 0. */
static aicc_status bmp_rle(const uint8_t *d, size_t n, size_t p, bool rle4, int64_t w, int64_t h,
                           uint8_t *idx) {
  int64_t x = 0, y = 0;
  while (p + 1 < n) {
    unsigned c = d[p], v = d[p + 1];
    p += 2;
    if (c) { /* run of c pixels */
      for (unsigned i = 0; i < c; i++, x++)
        if (x < w && y < h) idx[y * w + x] = (uint8_t)(rle4 ? (i & 1 ? v & 15 : v >> 4) : v);
    } else if (v == 0) { /* end of line */
      x = 0, y++;
    } else if (v == 1) { /* end of bitmap */
      return NULL;
    } else if (v == 2) { /* delta */
      if (p + 2 > n) break;
      x += d[p], y += d[p + 1];
      p += 2;
    } else { /* absolute run of v pixels, padded to 16 bits */
      size_t bytes = rle4 ? (v + 1) / 2 : v;
      if (p + bytes > n) break;
      for (unsigned i = 0; i < v; i++, x++)
        if (x < w && y < h) idx[y * w + x] = (uint8_t)(rle4 ? (i & 1 ? d[p + i / 2] & 15 : d[p + i / 2] >> 4) : d[p + i]);
      p += bytes + (bytes & 1);
    }
    if (y >= h) return NULL;
  }
  if (y >= h - 1) return NULL; /* tolerate a missing end-of-bitmap marker */
  return aicc_errorf(AICC_ERR_INVALID, "BMP: RLE image data is truncated");
}

static aicc_status dec_bmp(const uint8_t *d, size_t n, img_buf *im) {
  if (n < 26) return aicc_errorf(AICC_ERR_INVALID, "BMP: file is truncated (%zu bytes)", n);
  uint32_t off = le32(d + 10), hsz = le32(d + 14);
  int64_t w, h;
  uint32_t bpp, comp = 0, nclr = 0, pal_entry = 4;
  uint32_t masks[3] = {0, 0, 0};
  size_t pal_at = 14 + (size_t)hsz;
  if (hsz == 12) { /* OS/2 BITMAPCOREHEADER */
    w = le16(d + 18), h = (int16_t)le16(d + 20), bpp = le16(d + 24), pal_entry = 3;
  } else if (hsz >= 40 && hsz <= 124 && n >= 54) {
    w = (int32_t)le32(d + 18), h = (int32_t)le32(d + 22), bpp = le16(d + 28);
    comp = le32(d + 30), nclr = le32(d + 46);
    if (comp == 3 || comp == 6) { /* BI_BITFIELDS: masks in the V4/V5 header or after the V1 one */
      if (n < 66) return aicc_errorf(AICC_ERR_INVALID, "BMP: file is truncated");
      for (int i = 0; i < 3; i++) masks[i] = le32(d + 54 + 4 * i);
      if (hsz == 40) pal_at += comp == 6 ? 16 : 12;
    }
  } else {
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "BMP: unsupported header size %u", hsz);
  }
  bool top_down = h < 0;
  if (top_down) h = -h;
  bool rle = (comp == 1 && bpp == 8) || (comp == 2 && bpp == 4);
  if (comp == 4 || comp == 5)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "BMP: embedded %s data is not supported", comp == 4 ? "JPEG" : "PNG");
  if (comp > 6 || (comp != 0 && !rle && comp != 3 && comp != 6) || ((comp == 3 || comp == 6) && bpp != 16 && bpp != 32))
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "BMP: unsupported compression %u with %u bits per pixel", comp, bpp);
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "BMP: unsupported bit depth %u", bpp);
  if (comp == 0 && bpp == 16) masks[0] = 0x7c00, masks[1] = 0x3e0, masks[2] = 0x1f;
  if (comp == 0 && bpp == 32) masks[0] = 0xff0000, masks[1] = 0xff00, masks[2] = 0xff;

  /* Palette (BGR or BGRX entries) for 1/4/8-bit images. */
  uint8_t pal[256][3];
  memset(pal, 0, sizeof pal);
  if (bpp <= 8) {
    uint32_t cap = 1u << bpp;
    if (!nclr || nclr > cap) nclr = cap;
    if (pal_at > n || (n - pal_at) / pal_entry < nclr)
      return aicc_errorf(AICC_ERR_INVALID, "BMP: palette is truncated");
    for (uint32_t i = 0; i < nclr; i++) {
      const uint8_t *e = d + pal_at + (size_t)i * pal_entry;
      pal[i][0] = e[2], pal[i][1] = e[1], pal[i][2] = e[0];
    }
  }
  if (off >= n) return aicc_errorf(AICC_ERR_INVALID, "BMP: pixel data offset %u is past the end of the file", off);
  AICC_TRY(img_alloc(im, w, h, 3, "BMP"));

  uint8_t *idx = NULL; /* RLE: indices, rows bottom-up */
  size_t stride = (size_t)((w * bpp + 31) / 32) * 4;
  if (rle) {
    idx = calloc((size_t)(w * h), 1);
    aicc_status s = idx ? bmp_rle(d, n, off, comp == 2, w, h, idx)
                        : aicc_errorf(AICC_ERR_NOMEM, "BMP: out of memory");
    if (s) {
      free(idx);
      img_free(im);
      return s;
    }
  } else if ((n - off) / stride < (size_t)h) {
    img_free(im);
    return aicc_errorf(AICC_ERR_INVALID, "BMP: image data is truncated (%zu bytes for %lld rows of %zu)",
                       n - off, (long long)h, stride);
  }
  for (int64_t y = 0; y < h; y++) {
    int64_t sy = top_down ? y : h - 1 - y; /* stored row of output row y */
    const uint8_t *row = d + off + (size_t)sy * stride;
    uint8_t *o = im->px + (size_t)(y * w) * 3;
    for (int64_t x = 0; x < w; x++, o += 3) {
      if (rle || bpp <= 8) {
        unsigned i = rle ? idx[sy * w + x]
                         : bpp == 8 ? row[x]
                         : (row[x * bpp / 8] >> (8 - bpp - (x * bpp) % 8)) & ((1u << bpp) - 1);
        memcpy(o, pal[i], 3); /* out-of-range indices read the zeroed entries */
      } else if (bpp == 24) {
        o[0] = row[x * 3 + 2], o[1] = row[x * 3 + 1], o[2] = row[x * 3];
      } else {
        uint32_t px = bpp == 16 ? le16(row + x * 2) : le32(row + x * 4);
        for (int j = 0; j < 3; j++) o[j] = bmp_field(px, masks[j]);
      }
    }
  }
  free(idx);
  return NULL;
}

/* ------------------------------------------------------------------- PNM */
/* Netpbm P1-P6 (plain and raw PBM/PGM/PPM). Samples are scaled to 8 bits as
 * Pillow does: round(v / maxval * 255), half to even, in double. */

static bool pnm_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

/* Reads one unsigned decimal header token, skipping whitespace and '#'
 * comments; leaves *p after the one whitespace byte that ends it. */
static aicc_status pnm_token(const uint8_t *d, size_t n, size_t *p, int64_t *v) {
  size_t i = *p;
  for (;;) {
    while (i < n && pnm_space(d[i])) i++;
    if (i < n && d[i] == '#') {
      while (i < n && d[i] != '\n' && d[i] != '\r') i++;
      continue;
    }
    break;
  }
  int64_t x = 0;
  int k = 0;
  while (i < n && d[i] >= '0' && d[i] <= '9') {
    if (++k > 10) return aicc_errorf(AICC_ERR_INVALID, "PNM: number too long in header");
    x = x * 10 + (d[i++] - '0');
  }
  if (!k) return aicc_errorf(AICC_ERR_INVALID, i >= n ? "PNM: header is truncated" : "PNM: bad character in header");
  if (i < n && !pnm_space(d[i]) && d[i] != '#')
    return aicc_errorf(AICC_ERR_INVALID, "PNM: bad character in header");
  if (i < n && pnm_space(d[i])) i++;
  *p = i, *v = x;
  return NULL;
}

static uint8_t pnm_scale(int64_t v, int64_t maxval) {
  if (maxval == 255) return (uint8_t)(v > 255 ? 255 : v);
  double r = nearbyint((double)v / (double)maxval * 255.0);
  return r > 255 ? 255 : (uint8_t)r;
}

static aicc_status dec_pnm(const uint8_t *d, size_t n, img_buf *im) {
  int kind = d[1] - '0'; /* 1..6, checked by the caller */
  size_t p = 2;
  int64_t w, h, maxval = 1;
  AICC_TRY(pnm_token(d, n, &p, &w));
  AICC_TRY(pnm_token(d, n, &p, &h));
  if (kind != 1 && kind != 4) {
    AICC_TRY(pnm_token(d, n, &p, &maxval));
    if (maxval < 1 || maxval > 65535)
      return aicc_errorf(AICC_ERR_INVALID, "PNM: maxval %lld is not in [1, 65535]", (long long)maxval);
  }
  int ch = kind == 3 || kind == 6 ? 3 : 1;
  AICC_TRY(img_alloc(im, w, h, ch, "PNM"));
  size_t total = (size_t)(w * h * ch);
  aicc_status s = NULL;
  if (kind == 4) { /* raw bitmap: rows padded to bytes, 1 = black */
    size_t stride = (size_t)(w + 7) / 8;
    if ((n - p) / stride < (size_t)h) s = aicc_errorf(AICC_ERR_INVALID, "PNM: image data is truncated");
    for (int64_t y = 0; !s && y < h; y++)
      for (int64_t x = 0; x < w; x++)
        im->px[y * w + x] = (d[p + y * stride + x / 8] >> (7 - x % 8)) & 1 ? 0 : 255;
  } else if (kind >= 5) { /* raw gray/RGB, 1 or 2 bytes (big-endian) per sample */
    int bytes = maxval > 255 ? 2 : 1;
    if ((n - p) / bytes < total) s = aicc_errorf(AICC_ERR_INVALID, "PNM: image data is truncated");
    for (size_t i = 0; !s && i < total; i++)
      im->px[i] = pnm_scale(bytes == 1 ? d[p + i] : (int64_t)d[p + 2 * i] << 8 | d[p + 2 * i + 1], maxval);
  } else if (kind == 1) { /* plain bitmap: '0'/'1' characters, whitespace optional */
    size_t i = 0;
    while (!s && i < total) {
      if (p >= n) s = aicc_errorf(AICC_ERR_INVALID, "PNM: image data is truncated");
      else if (d[p] == '#') while (p < n && d[p] != '\n' && d[p] != '\r') p++;
      else if (pnm_space(d[p])) p++;
      else if (d[p] == '0' || d[p] == '1') im->px[i++] = d[p++] == '1' ? 0 : 255;
      else s = aicc_errorf(AICC_ERR_INVALID, "PNM: invalid character 0x%02x in bitmap data", d[p]);
    }
  } else { /* plain gray/RGB: decimal samples */
    for (size_t i = 0; !s && i < total; i++) {
      int64_t v;
      s = pnm_token(d, n, &p, &v);
      if (!s && v > maxval)
        s = aicc_errorf(AICC_ERR_INVALID, "PNM: sample %lld exceeds maxval %lld", (long long)v, (long long)maxval);
      if (!s) im->px[i] = pnm_scale(v, maxval);
    }
  }
  if (s) {
    img_free(im);
  }
  return s;
}

/* ---------------------------------------------------------------- the op */

static aicc_status img_decode(const uint8_t *d, size_t n, img_buf *im) {
  static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  static const uint8_t jp2_sig[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', '\r', '\n', 0x87, '\n'};
  static const uint8_t j2k_sig[4] = {0xff, 0x4f, 0xff, 0x51};
  if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) return dec_jpeg(d, n, im);
  if (n >= 8 && !memcmp(d, png_sig, 8)) return dec_png(d, n, im);
  if (n >= 4 && (!memcmp(d, "II*\0", 4) || !memcmp(d, "MM\0*", 4) || !memcmp(d, "II+\0", 4) ||
                 !memcmp(d, "MM\0+", 4)))
    return dec_tiff(d, n, im);
  if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) return dec_webp(d, n, im);
  if (n >= 12 && !memcmp(d, jp2_sig, 12)) return dec_j2k(d, n, true, im);
  if (n >= 4 && !memcmp(d, j2k_sig, 4)) return dec_j2k(d, n, false, im);
  if (n >= 2 && d[0] == 'B' && d[1] == 'M') return dec_bmp(d, n, im);
  if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6' && (pnm_space(d[2]) || d[2] == '#'))
    return dec_pnm(d, n, im);
  return aicc_errorf(AICC_ERR_UNSUPPORTED,
                     "unrecognised image format (%zu bytes; expected JPEG, PNG, BMP, TIFF, WebP, PNM or JPEG 2000)", n);
}

static aicc_status pixel_format_read(const aicc_node *node, pix_format *f) {
  const char *s = aicc_node_attr_string(node, "pixel_format", "RGB");
  if (!strcmp(s, "RGB")) *f = PIX_RGB;
  else if (!strcmp(s, "BGR")) *f = PIX_BGR;
  else if (!strcmp(s, "Grayscale")) *f = PIX_GRAY;
  else return aicc_errorf(AICC_ERR_INVALID, "pixel_format '%s' is not RGB, BGR or Grayscale", s);
  return NULL;
}

static aicc_status image_decoder_infer(aicc_infer_ctx *c) {
  pix_format f;
  aicc_status s = pixel_format_read(c->node, &f);
  if (s) {
    aicc_status r = aicc_infer_error(c, aicc_status_code(s), "%s", aicc_status_message(s));
    aicc_status_free(s);
    return r;
  }
  if (c->in[0] && c->in[0]->kind == AICC_KIND_TENSOR && c->in[0]->dtype != AICC_DTYPE_U8)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "encoded image must be uint8");
  /* H and W depend on the data: known only once decoded. */
  aicc_dim dims[3] = {aicc_dim_unknown(), aicc_dim_unknown(), aicc_dim_known(f == PIX_GRAY ? 1 : 3)};
  aicc_infer_set(c, 0, AICC_DTYPE_U8, 3, dims);
  return NULL;
}

static aicc_status image_decoder_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *x = c->in[0];
  pix_format f;
  img_buf im = {0, 0, 0, NULL};
  aicc_status s = pixel_format_read(c->node, &f);
  if (!s && (x->kind != AICC_KIND_TENSOR || x->dtype != AICC_DTYPE_U8 || x->rank != 1)) {
    char buf[64];
    s = aicc_errorf(AICC_ERR_SHAPE, "encoded image must be a 1-D uint8 tensor, got %s",
                    aicc_tensor_describe(x, buf, sizeof buf));
  }
  if (!s) s = img_decode(x->data, (size_t)aicc_tensor_numel(x), &im);
  if (s) {
    aicc_status r = aicc_kernel_error(c, aicc_status_code(s), "%s", aicc_status_message(s));
    aicc_status_free(s);
    return r;
  }
  int out_ch = f == PIX_GRAY ? 1 : 3;
  int64_t dims[3] = {im.h, im.w, out_ch};
  aicc_tensor *y;
  s = aicc_kernel_output(c, 0, AICC_DTYPE_U8, 3, dims, &y);
  if (s) {
    free(im.px);
    return s;
  }
  uint8_t *o = y->data;
  const uint8_t *p = im.px;
  size_t np = (size_t)(im.w * im.h);
  if (f == PIX_GRAY && im.ch == 1) {
    memcpy(o, p, np);
  } else if (f == PIX_GRAY) {
    /* Pillow's RGB -> L (ITU-R 601-2 luma in 16-bit fixed point, Convert.c). */
    for (size_t i = 0; i < np; i++, p += 3)
      o[i] = (uint8_t)((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
  } else if (im.ch == 1) { /* gray source: replicate into 3 channels */
    for (size_t i = 0; i < np; i++) o[3 * i] = o[3 * i + 1] = o[3 * i + 2] = p[i];
  } else if (f == PIX_RGB) {
    memcpy(o, p, np * 3);
  } else {
    for (size_t i = 0; i < np; i++, p += 3, o += 3) o[0] = p[2], o[1] = p[1], o[2] = p[0];
  }
  free(im.px);
  return NULL;
}

static const aicc_attr_spec image_decoder_attrs[] = {AICC_A_STRING("pixel_format"), AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"ImageDecoder", "", 20, 0, 1, 1, 1, 1, image_decoder_attrs, image_decoder_infer, image_decoder_kernel},
};

const aicc_op_family aicc_family_imagedecode = {"imagedecode", ops, sizeof ops / sizeof ops[0]};
