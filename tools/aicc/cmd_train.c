/* aicc train: trains a model's float initializers on NPY data with a loss
 * and an optimizer, by compiling the training step graph (autodiff/train.h)
 * on an engine, and writes the trained model as ONNX. */
#include "cli.h"

#include "autodiff/train.h"
#include "frontend/onnx.h"
#include "interp/interp.h"
#include "runtime/runtime.h"
#include "train/data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: aicc train MODEL.onnx --data DIR -o TRAINED.onnx [options]\n\n"
    "Trains the model's float initializers (rank >= 1) on DIR/train_x.npy and\n"
    "DIR/train_y.npy, reports accuracy on DIR/test_{x,y}.npy when present, and\n"
    "writes the model with the trained initializers. The training step (forward,\n"
    "loss, backward, optimizer update) is one graph, run on the chosen engine.\n\n"
    "options:\n"
    "  --data DIR          folder of train_x.npy, train_y.npy [, test_x.npy, test_y.npy]\n"
    "  -o FILE             where to write the trained model (required)\n"
    "  --loss L            cross_entropy (default; labels are class indices) or mse\n"
    "  --optimizer O       adam (default), adamw, sgd, momentum, adagrad, or the\n"
    "                      ONNX training ops (one ai.onnx.preview.training node per\n"
    "                      parameter): onnx-momentum, onnx-adam, onnx-adagrad\n"
    "  --lr X              learning rate (default 1e-3)\n"
    "  --momentum X        momentum of (onnx-)momentum (default 0.9)\n"
    "  --beta1 X, --beta2 X  Adam's moment decay rates (default 0.9, 0.999)\n"
    "  --eps X             Adam's and Adagrad's epsilon (default 1e-8)\n"
    "  --weight-decay X    L2 penalty (adamw: decoupled) (default 0)\n"
    "  --epochs N          passes over the training data (default 10)\n"
    "  --batch B           samples per step (default 32; a last smaller batch is dropped)\n"
    "  --seed S            seed of the shuffling order (default 0)\n"
    "  --engine E          interp (default) or compiled\n"
    "  --threads N         threads of the compiled engine (default 1)\n"
    "  --output NAME       model output the loss reads (default: the first)\n"
    "  --quiet             no progress bar\n"
    "  --export-step FILE  write the training step graph (inputs: samples, labels,\n"
    "                      step, parameters, optimizer states) as ONNX and stop\n"
    "  -h, --help          this text\n";

typedef struct train_opts {
  const char *model, *data, *out, *output, *export_step;
  aicc_train_spec spec;
  int64_t epochs, batch;
  uint64_t seed;
  const char *engine;
  int threads;
  bool quiet;
} train_opts;

/* A step runner over either engine. */
typedef struct runner {
  aicc_model *m; /* interp: owned here */
  aicc_rt_program *prog;
  aicc_rt_session *sess;
} runner;

static aicc_status runner_init(runner *r, aicc_model *m, const train_opts *o) {
  memset(r, 0, sizeof *r);
  if (strcmp(o->engine, "interp") == 0) {
    r->m = m;
    return NULL;
  }
  aicc_rt_options ro = {0};
  ro.threads = o->threads;
  ro.opt_level = -1;
  AICC_TRY(aicc_rt_compile(m, &ro, &r->prog));
  return aicc_rt_session_create(r->prog, &r->sess);
}

static aicc_status runner_run(runner *r, aicc_tensor *const *in, int n_in, aicc_tensor **out,
                              int n_out) {
  if (r->m) return aicc_interp_run(r->m, in, n_in, out, n_out);
  return aicc_rt_session_run(r->sess, in, n_in, out, n_out);
}

static const aicc_model *runner_model(const runner *r) {
  return r->m ? r->m : aicc_rt_program_model(r->prog);
}

static void runner_fini(runner *r) {
  aicc_rt_session_destroy(r->sess);
  aicc_rt_program_destroy(r->prog);
  aicc_model_destroy(r->m);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Labels as the step graph wants them: int64 [N] class indices for
 * cross_entropy (checked against the class count), the output's dtype for mse. */
static aicc_status check_labels(const train_opts *o, const aicc_value *yv, aicc_tensor *x,
                                aicc_tensor **y) {
  aicc_tensor *t = *y;
  const char *where = o->data;
  if (o->spec.loss == AICC_LOSS_CROSS_ENTROPY) {
    if (t->rank != 1 || !(aicc_dtype_is_int(t->dtype)))
      return aicc_errorf(AICC_ERR_SHAPE, "%s: labels for cross_entropy must be integer class "
                         "indices of shape [%lld], got rank %d of dtype %s", where,
                         (long long)x->dims[0], t->rank, aicc_dtype_text(t->dtype));
    int64_t classes = yv->type.rank == 2 && aicc_dim_is_known(yv->type.dims[1])
                          ? yv->type.dims[1].size : -1;
    aicc_tensor *l;
    AICC_TRY(aicc_tensor_create(AICC_DTYPE_I64, 1, t->dims, &l));
    for (int64_t i = 0; i < t->dims[0]; i++) {
      int64_t c = aicc_tensor_get_i64(t, i);
      if (c < 0 || (classes > 0 && c >= classes)) {
        aicc_tensor_release(l);
        return aicc_errorf(AICC_ERR_SHAPE, "%s: label %lld of sample %lld is not a class of "
                           "output '%s' (0..%lld)", where, (long long)c, (long long)i,
                           yv->name, (long long)classes - 1);
      }
      ((int64_t *)l->data)[i] = c;
    }
    aicc_tensor_release(t);
    *y = l;
    return NULL;
  }
  if (t->rank != yv->type.rank)
    return aicc_errorf(AICC_ERR_SHAPE, "%s: labels for mse must have the rank of output '%s' "
                       "(%d), got %d", where, yv->name, yv->type.rank, t->rank);
  for (int i = 1; i < t->rank; i++)
    if (aicc_dim_is_known(yv->type.dims[i]) && yv->type.dims[i].size != t->dims[i])
      return aicc_errorf(AICC_ERR_SHAPE, "%s: labels dim %d is %lld, output '%s' has %lld",
                         where, i, (long long)t->dims[i], yv->name,
                         (long long)yv->type.dims[i].size);
  if (t->dtype != yv->type.dtype) {
    aicc_tensor *l;
    AICC_TRY(aicc_tensor_create(yv->type.dtype, t->rank, t->dims, &l));
    for (int64_t i = 0; i < aicc_tensor_numel(t); i++)
      aicc_tensor_set_f64(l, i, aicc_tensor_get_f64(t, i));
    aicc_tensor_release(t);
    *y = l;
  }
  return NULL;
}

/* Correct argmax predictions of logits [b, C] against int64 labels. */
static int64_t count_correct(const aicc_tensor *logits, const aicc_tensor *labels) {
  if (logits->rank != 2 || labels->dtype != AICC_DTYPE_I64) return 0;
  int64_t b = logits->dims[0], c = logits->dims[1], ok = 0;
  for (int64_t i = 0; i < b; i++) {
    int64_t best = 0;
    for (int64_t j = 1; j < c; j++)
      if (aicc_tensor_get_f64(logits, i * c + j) > aicc_tensor_get_f64(logits, i * c + best))
        best = j;
    ok += best == ((const int64_t *)labels->data)[i];
  }
  return ok;
}

static void progress(const train_opts *o, int64_t e, int64_t k, int64_t nb, double loss) {
  if (o->quiet || !isatty(2)) return;
  int w = 30, done = (int)(nb ? k * w / nb : w);
  fprintf(stderr, "\repoch %lld/%lld [", (long long)e + 1, (long long)o->epochs);
  for (int i = 0; i < w; i++) fputc(i < done ? '#' : '.', stderr);
  fprintf(stderr, "] %lld/%lld loss %.4f", (long long)k, (long long)nb, loss);
  if (k == nb) fputs("\r\033[K", stderr);
  fflush(stderr);
}

/* Test accuracy: the original model with the parameters as extra inputs. */
typedef struct evaluator {
  runner r;
  int n_model_inputs, n_params;
} evaluator;

static aicc_status eval_init(evaluator *ev, const train_opts *o, const aicc_train_graph *tg) {
  memset(ev, 0, sizeof *ev);
  aicc_model *m;
  AICC_TRY(aicc_cli_model_load(o->model, &m));
  aicc_graph *g = m->graph;
  ev->n_model_inputs = (int)g->inputs.len;
  ev->n_params = tg->n_params;
  aicc_status s = NULL;
  for (int k = 0; k < tg->n_params && !s; k++) {
    aicc_value *v = aicc_graph_value_find(g, tg->params[k]->name);
    s = v ? aicc_graph_input_add(g, v)
          : aicc_errorf(AICC_ERR_INTERNAL, "train: parameter '%s' vanished",
                        tg->params[k]->name);
  }
  if (s) {
    aicc_model_destroy(m);
    return s;
  }
  return runner_init(&ev->r, m, o);
}

static aicc_status evaluate(evaluator *ev, aicc_tensor *x, aicc_tensor *y,
                            aicc_tensor *const *params, double *acc) {
  int n_in = ev->n_model_inputs + ev->n_params;
  aicc_tensor **in = calloc((size_t)n_in, sizeof *in);
  int n_out = (int)runner_model(&ev->r)->graph->outputs.len;
  aicc_tensor **out = calloc((size_t)(n_out ? n_out : 1), sizeof *out);
  if (!in || !out) {
    free(in);
    free(out);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  in[0] = x;
  for (int k = 0; k < ev->n_params; k++) in[ev->n_model_inputs + k] = params[k];
  aicc_status s = runner_run(&ev->r, in, n_in, out, n_out);
  if (!s) *acc = (double)count_correct(out[0], y) / (double)(y->dims[0] ? y->dims[0] : 1);
  for (int i = 0; i < n_out; i++) aicc_tensor_release(out[i]);
  free(in);
  free(out);
  return s;
}

static aicc_status save_trained(const train_opts *o, const aicc_train_graph *tg,
                                aicc_tensor *const *params) {
  aicc_model *m;
  AICC_TRY(aicc_cli_model_load(o->model, &m));
  aicc_status s = NULL;
  for (int k = 0; k < tg->n_params && !s; k++) {
    aicc_value *v = aicc_graph_value_find(m->graph, tg->params[k]->name);
    if (!v || !v->init || v->init->nbytes != params[k]->nbytes)
      s = aicc_errorf(AICC_ERR_INTERNAL, "train: parameter '%s' changed shape",
                      tg->params[k]->name);
    else memcpy(v->init->data, params[k]->data, params[k]->nbytes);
  }
  if (!s) s = aicc_onnx_save(m, o->out);
  aicc_model_destroy(m);
  return s;
}

/* Checks the samples against the model input and fixes its batch dim to
 * the batch size, so every shape of the step graph is static. */
static aicc_status bind_batch(const train_opts *o, aicc_model *m, const aicc_tensor *x) {
  aicc_value *in = m->graph->inputs.data[0];
  aicc_type *t = &in->type;
  if (t->kind != AICC_KIND_TENSOR || t->rank != x->rank || t->dtype != x->dtype)
    return aicc_errorf(AICC_ERR_SHAPE, "%s: samples are %s of rank %d but input '%s' wants "
                       "%s of rank %d", o->data, aicc_dtype_text(x->dtype), x->rank, in->name,
                       aicc_dtype_text(t->dtype), t->rank);
  for (int i = 1; i < t->rank; i++)
    if (aicc_dim_is_known(t->dims[i]) && t->dims[i].size != x->dims[i])
      return aicc_errorf(AICC_ERR_SHAPE, "%s: samples have dim %d of %lld, input '%s' wants %lld",
                         o->data, i, (long long)x->dims[i], in->name,
                         (long long)t->dims[i].size);
  t->dims[0] = aicc_dim_known(o->batch);
  return aicc_model_infer(m);
}

static aicc_status train(const train_opts *o) {
  aicc_model *m = NULL;
  aicc_tensor *x = NULL, *y = NULL, *tx = NULL, *ty = NULL;
  aicc_tensor **in = NULL, **out = NULL;
  aicc_loader *ld = NULL;
  aicc_train_graph tg = {0};
  runner r = {0};
  evaluator ev = {0};
  bool have_test = false, have_eval = false;
  int n_in = 0, n_out = 0;
  aicc_status s = aicc_cli_model_load(o->model, &m);
  if (!s) s = aicc_dataset_load(o->data, "train", &x, &y);
  if (!s) {
    char p[4096];
    snprintf(p, sizeof p, "%s/test_x.npy", o->data);
    if (access(p, R_OK) == 0) {
      have_test = true;
      s = aicc_dataset_load(o->data, "test", &tx, &ty);
    }
  }
  aicc_value *yv = NULL;
  if (!s) {
    yv = m->graph->outputs.len ? m->graph->outputs.data[0] : NULL;
    if (o->output)
      for (size_t i = 0; i < m->graph->outputs.len; i++)
        if (strcmp(m->graph->outputs.data[i]->name, o->output) == 0) yv = m->graph->outputs.data[i];
    if (o->output && yv && strcmp(yv->name, o->output) != 0)
      s = aicc_errorf(AICC_ERR_INVALID, "%s: --output '%s' is not an output of the model",
                      o->model, o->output);
    else if (!yv) s = aicc_errorf(AICC_ERR_INVALID, "%s: no output to train", o->model);
  }
  if (!s && yv->type.kind != AICC_KIND_TENSOR)
    s = aicc_errorf(AICC_ERR_INVALID, "%s: output '%s' is not a tensor, so no loss can be taken "
                    "of it", o->model, yv->name);
  else if (!s && !aicc_dtype_is_float(yv->type.dtype))
    s = aicc_errorf(AICC_ERR_INVALID, "%s: output '%s' is %s, not a float tensor, so no loss can "
                    "be taken of it", o->model, yv->name, aicc_dtype_text(yv->type.dtype));
  if (!s) s = check_labels(o, yv, x, &y);
  if (!s && have_test) s = check_labels(o, yv, tx, &ty);
  if (!s && m->graph->inputs.len != 1)
    s = aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: training reads one model input (the samples); "
                    "this model has %zu", o->model, m->graph->inputs.len);
  if (!s) s = bind_batch(o, m, x);
  if (!s) s = aicc_train_graph_build(m, &o->spec, &tg);
  if (!s && o->export_step) {
    s = aicc_onnx_save(m, o->export_step);
    if (!s) printf("wrote %s\n", o->export_step);
    goto done;
  }
  if (s) goto done;
  n_in = (int)m->graph->inputs.len;
  n_out = (int)m->graph->outputs.len;
  in = calloc((size_t)n_in, sizeof *in);
  out = calloc((size_t)n_out, sizeof *out);
  if (!in || !out) {
    s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    goto done;
  }
  /* The state starts from the initializers. */
  for (int k = 0; k < tg.n_params; k++) in[tg.params_input + k] = aicc_tensor_retain(tg.params[k]->init);
  for (int k = 0; k < tg.n_states; k++) in[tg.states_input + k] = aicc_tensor_retain(tg.states[k]->init);
  if ((s = aicc_tensor_create(AICC_DTYPE_F32, 0, NULL, &in[tg.step_input]))) goto done;
  aicc_model *mm = m;
  m = NULL; /* the runner owns it now */
  if ((s = runner_init(&r, mm, o))) goto done;
  if (have_test) {
    if ((s = eval_init(&ev, o, &tg))) goto done;
    have_eval = true;
  }
  aicc_loader_options lo = {o->batch, o->seed, true, true, true};
  if ((s = aicc_loader_create(x, y, &lo, &ld))) goto done;
  int64_t nb = aicc_loader_batches(ld);
  if (nb == 0) {
    s = aicc_errorf(AICC_ERR_INVALID, "%s: %lld training samples are fewer than one batch of %lld",
                    o->data, (long long)x->dims[0], (long long)o->batch);
    goto done;
  }
  int64_t step = 0;
  for (int64_t e = 0; e < o->epochs && !s; e++) {
    double t0 = now_s(), loss_sum = 0;
    int64_t correct = 0, seen = 0;
    if ((s = aicc_loader_epoch(ld, e))) break;
    for (int64_t k = 0; k < nb; k++) {
      aicc_tensor *bx, *by;
      if ((s = aicc_loader_next(ld, &bx, &by))) break;
      in[0] = bx;
      in[tg.labels_input] = by;
      ((float *)in[tg.step_input]->data)[0] = (float)++step;
      s = runner_run(&r, in, n_in, out, n_out);
      in[0] = in[tg.labels_input] = NULL;
      if (!s) {
        double l = aicc_tensor_get_f64(out[tg.loss_output], 0);
        if (!isfinite(l))
          s = aicc_errorf(AICC_ERR_INVALID, "train: the loss became %g at step %lld (lower "
                          "--lr?)", l, (long long)step);
        loss_sum += l * (double)by->dims[0];
        if (o->spec.loss == AICC_LOSS_CROSS_ENTROPY) correct += count_correct(out[tg.model_output], by);
        seen += by->dims[0];
        /* New parameters and states become the next step's inputs. */
        for (int i = 0; i < tg.n_params + tg.n_states; i++) {
          int ii = i < tg.n_params ? tg.params_input + i : tg.states_input + i - tg.n_params;
          aicc_tensor_release(in[ii]);
          in[ii] = out[tg.params_output + i];
          out[tg.params_output + i] = NULL;
        }
      }
      for (int i = 0; i < n_out; i++) {
        aicc_tensor_release(out[i]);
        out[i] = NULL;
      }
      aicc_tensor_release(bx);
      aicc_tensor_release(by);
      if (s) break;
      progress(o, e, k + 1, nb, loss_sum / (double)seen);
    }
    if (s) break;
    printf("epoch %lld/%lld  loss %.4f", (long long)e + 1, (long long)o->epochs,
           loss_sum / (double)seen);
    if (o->spec.loss == AICC_LOSS_CROSS_ENTROPY)
      printf("  train acc %.2f%%", 100.0 * (double)correct / (double)seen);
    if (have_eval && o->spec.loss == AICC_LOSS_CROSS_ENTROPY) {
      double acc = 0;
      if ((s = evaluate(&ev, tx, ty, in + tg.params_input, &acc))) break;
      printf("  test acc %.2f%%", 100.0 * acc);
    }
    printf("  (%.2f s)\n", now_s() - t0);
    fflush(stdout);
  }
  if (!s) s = save_trained(o, &tg, in + tg.params_input);
  if (!s) printf("wrote %s\n", o->out);
done:
  for (int i = 0; in && i < n_in; i++) aicc_tensor_release(in[i]);
  for (int i = 0; out && i < n_out; i++) aicc_tensor_release(out[i]);
  free(in);
  free(out);
  aicc_loader_destroy(ld);
  runner_fini(&r);
  if (have_eval) runner_fini(&ev.r);
  aicc_train_graph_fini(&tg);
  aicc_model_destroy(m);
  aicc_tensor_release(x);
  aicc_tensor_release(y);
  aicc_tensor_release(tx);
  aicc_tensor_release(ty);
  return s;
}

static bool parse_num(const char *s, double *out) {
  char *end;
  errno = 0;
  *out = strtod(s, &end);
  return *s && !*end && !errno && isfinite(*out);
}

/* The numeric options, each with its range (what the message says). */
typedef struct num_opt {
  const char *flag, *range;
  double lo, hi;
  bool lo_open, hi_open, integer;
} num_opt;

static const num_opt num_opts[] = {
    {"--lr", "a number > 0", 0, INFINITY, true, true, false},
    {"--momentum", "a number in [0, 1)", 0, 1, false, true, false},
    {"--beta1", "a number in [0, 1)", 0, 1, false, true, false},
    {"--beta2", "a number in [0, 1)", 0, 1, false, true, false},
    {"--eps", "a number >= 0", 0, INFINITY, false, true, false},
    {"--weight-decay", "a number >= 0", 0, INFINITY, false, true, false},
    {"--epochs", "an integer >= 1", 1, 1e12, false, false, true},
    {"--batch", "an integer >= 1", 1, 1e12, false, false, true},
    {"--seed", "an integer >= 0", 0, 1e18, false, false, true},
    {"--threads", "an integer in 1..256", 1, 256, false, false, true},
};

/* Sets the numeric option a to v: -1 when done, else the exit status of a
 * usage error (unknown option, not a number, out of range). */
static int number_option(train_opts *o, const char *a, const char *v) {
  const num_opt *no = NULL;
  for (size_t i = 0; i < sizeof num_opts / sizeof num_opts[0]; i++)
    if (strcmp(a, num_opts[i].flag) == 0) no = &num_opts[i];
  if (!no) return aicc_cli_usage_error("train", "unknown option '%s'", a);
  double d;
  if (!parse_num(v, &d) || (no->lo_open ? d <= no->lo : d < no->lo) ||
      (no->hi_open ? d >= no->hi : d > no->hi) || (no->integer && d != floor(d)))
    return aicc_cli_usage_error("train", "%s must be %s, got '%s'", a, no->range, v);
  aicc_train_spec *sp = &o->spec;
  if (strcmp(a, "--lr") == 0) sp->lr = d;
  else if (strcmp(a, "--momentum") == 0) sp->momentum = d;
  else if (strcmp(a, "--beta1") == 0) sp->beta1 = d;
  else if (strcmp(a, "--beta2") == 0) sp->beta2 = d;
  else if (strcmp(a, "--eps") == 0) sp->eps = d;
  else if (strcmp(a, "--weight-decay") == 0) sp->weight_decay = d;
  else if (strcmp(a, "--epochs") == 0) o->epochs = (int64_t)d;
  else if (strcmp(a, "--batch") == 0) o->batch = (int64_t)d;
  else if (strcmp(a, "--seed") == 0) o->seed = (uint64_t)d;
  else o->threads = (int)d;
  return -1;
}

int aicc_cmd_train(int argc, char **argv) {
  train_opts o = {0};
  o.spec = aicc_train_spec_default();
  o.epochs = 10;
  o.batch = 32;
  o.engine = "interp";
  o.threads = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (aicc_cli_is_help(a)) {
      fputs(usage, stdout);
      return 0;
    }
    if (strcmp(a, "--quiet") == 0) {
      o.quiet = true;
      continue;
    }
    if (a[0] != '-' && !o.model) {
      o.model = a;
      continue;
    }
    if (a[0] != '-') return aicc_cli_usage_error("train", "more than one model given ('%s')", a);
    /* "--lr -o": a flag, not a value ("--lr -1" is a value, refused later). */
    if (!v || (v[0] == '-' && (v[1] == '-' || (v[1] >= 'a' && v[1] <= 'z') ||
                               (v[1] >= 'A' && v[1] <= 'Z'))))
      return aicc_cli_usage_error("train", "%s needs a value", a);
    i++;
    if (strcmp(a, "--data") == 0) o.data = v;
    else if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) o.out = v;
    else if (strcmp(a, "--output") == 0) o.output = o.spec.output = v;
    else if (strcmp(a, "--export-step") == 0) o.export_step = v;
    else if (strcmp(a, "--engine") == 0) {
      if (strcmp(v, "interp") != 0 && strcmp(v, "compiled") != 0)
        return aicc_cli_usage_error("train", "unknown engine '%s' (interp, compiled)", v);
      o.engine = v;
    } else if (strcmp(a, "--loss") == 0) {
      if (!aicc_loss_parse(v, &o.spec.loss))
        return aicc_cli_usage_error("train", "unknown loss '%s' (cross_entropy, mse)", v);
    } else if (strcmp(a, "--optimizer") == 0) {
      if (!aicc_optimizer_parse(v, &o.spec.optimizer))
        return aicc_cli_usage_error("train", "unknown optimizer '%s' (%s)", v,
                                    aicc_optimizer_names());
    } else {
      int r = number_option(&o, a, v);
      if (r >= 0) return r;
    }
  }
  if (!o.model) return aicc_cli_usage_error("train", "no model given");
  if (!o.data) return aicc_cli_usage_error("train", "--data DIR is required");
  if (!o.out && !o.export_step)
    return aicc_cli_usage_error("train", "-o TRAINED.onnx is required");
  aicc_status s = train(&o);
  return s ? aicc_cli_fail(s) : 0;
}
