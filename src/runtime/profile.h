/* A session's profile (runtime.h: aicc_rt_event): the events recorded so
 * far and, per plan seen, what each step covers. Owned by one session; the
 * executor (session.c) calls it only while profiling is on. */
#ifndef AICC_RUNTIME_PROFILE_H
#define AICC_RUNTIME_PROFILE_H

#include "runtime/plan.h"
#include "runtime/runtime.h"

typedef struct aicc_rt_profile aicc_rt_profile;

/* threads: the session pool's (sizes the per-task timing array). */
AICC_MUST_USE aicc_status aicc_rt_profile_create(int threads, aicc_rt_profile **out);
void aicc_rt_profile_destroy(aicc_rt_profile *pf);
/* Starts a run of pl (describes pl's steps the first time it is seen). */
AICC_MUST_USE aicc_status aicc_rt_profile_begin(aicc_rt_profile *pf, const aicc_rt_plan *pl);
/* The array a kernel step's pool run fills (aicc_rt_pool_run_timed). */
int64_t *aicc_rt_profile_task_ns(aicc_rt_profile *pf);
/* Records step i of the current run: [t0, t1] on the calling thread and,
 * when ntasks > 1, one event per task from the task_ns array. */
AICC_MUST_USE aicc_status aicc_rt_profile_step(aicc_rt_profile *pf, int i, int64_t t0,
                                               int64_t t1, int ntasks);
/* Ends the current run. */
void aicc_rt_profile_end(aicc_rt_profile *pf);
const aicc_rt_event *aicc_rt_profile_events(const aicc_rt_profile *pf, size_t *n);
void aicc_rt_profile_clear(aicc_rt_profile *pf);

/* The op types each step of pl covers, in graph order, '+'-joined: the
 * nodes of a kernel step are found back from the plan alone (walking from
 * the values the step writes first towards the values it reads, through
 * nodes no earlier step took); an extern step covers its node. Sets
 * (*out)[i] for every step (the array and strings malloc'ed: free each). */
AICC_MUST_USE aicc_status aicc_rt_plan_step_ops(const aicc_rt_plan *pl, char ***out);

#endif
