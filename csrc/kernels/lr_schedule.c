/* lr_schedule.c — learning-rate schedules (warm-up, step, cosine, linear):
 * the rate an optimizer update uses at its own step counter. The one
 * implementation of the formula; the Swift library calls it for the log.
 * Not here: the updates themselves (optim.c), which take the rate from here.
 */
#include "kernels/kernels_internal.h"

#include <math.h>
#include <string.h>

/* The smallest positive float (C99 has no FLT_TRUE_MIN): an optimizer refuses 0. */
#define LEAST_RATE 0x1p-149f

dnic_lr_schedule dnic_lr_schedule_default(void) {
    dnic_lr_schedule s;
    memset(&s, 0, sizeof s);
    s.kind = DNIC_LR_CONSTANT;
    s.gamma = 0.1;
    return s;
}

dnic_status dnic_lr_schedule_validate(const dnic_lr_schedule *s) {
    const char *fn = "dnic_lr_schedule_validate";
    if (!s) return dnic__fail(DNIC_ERR_NULL, "%s: the schedule is NULL", fn);
    if (s->kind != DNIC_LR_CONSTANT && s->kind != DNIC_LR_STEP && s->kind != DNIC_LR_COSINE &&
        s->kind != DNIC_LR_LINEAR)
        return dnic__fail(DNIC_ERR_ARG, "%s: kind = %d is not a dnic_lr_kind (0..3)", fn, (int)s->kind);
    if (s->warmup < 0 || s->warmup > DNIC_MAX_STEP)
        return dnic__fail(DNIC_ERR_ARG, "%s: warmup = %lld is outside 0..2^53", fn, (long long)s->warmup);
    if (s->total_steps < 0 || s->total_steps > DNIC_MAX_STEP)
        return dnic__fail(DNIC_ERR_ARG, "%s: total_steps = %lld is outside 0..2^53", fn, (long long)s->total_steps);
    if (s->total_steps > 0 && s->warmup > s->total_steps)
        return dnic__fail(DNIC_ERR_ARG, "%s: warmup = %lld is longer than total_steps = %lld", fn, (long long)s->warmup,
                          (long long)s->total_steps);
    if (s->n_milestones < 0 || s->n_milestones > DNIC_LR_MAX_MILESTONES)
        return dnic__fail(DNIC_ERR_ARG, "%s: n_milestones = %d is outside 0..%d", fn, s->n_milestones,
                          DNIC_LR_MAX_MILESTONES);
    if ((s->kind == DNIC_LR_STEP) != (s->n_milestones > 0))
        return dnic__fail(DNIC_ERR_ARG, "%s: %s", fn, s->kind == DNIC_LR_STEP ? "a STEP schedule needs milestones"
                                                                            : "milestones are for a STEP schedule only");
    for (int i = 0; i < s->n_milestones; i++) {
        int64_t m = s->milestones[i];
        if (m < 1 || m > DNIC_MAX_STEP)
            return dnic__fail(DNIC_ERR_ARG, "%s: milestones[%d] = %lld is outside 1..2^53", fn, i, (long long)m);
        if (i > 0 && m <= s->milestones[i - 1])
            return dnic__fail(DNIC_ERR_ARG, "%s: milestones[%d] = %lld does not follow milestones[%d] = %lld", fn, i,
                              (long long)m, i - 1, (long long)s->milestones[i - 1]);
    }
    if (!(s->gamma >= 0.0) || !isfinite(s->gamma))
        return dnic__fail(DNIC_ERR_ARG, "%s: gamma = %g must be finite and >= 0", fn, s->gamma);
    if (!(s->min_rate >= 0.0) || !isfinite(s->min_rate))
        return dnic__fail(DNIC_ERR_ARG, "%s: min_rate = %g must be finite and >= 0", fn, s->min_rate);
    if ((s->kind == DNIC_LR_COSINE || s->kind == DNIC_LR_LINEAR) && s->total_steps < 1)
        return dnic__fail(DNIC_ERR_ARG, "%s: a COSINE or LINEAR schedule needs total_steps >= 1", fn);
    return DNIC_OK;
}

float dnic_lr_schedule_rate(const dnic_lr_schedule *s, int64_t step, float base) {
    if (!s) return base;
    if (step < 1) step = 1;
    double b = base, r = b;
    if (step <= s->warmup) {
        r = b * (double)step / (double)s->warmup;
    } else {
        switch (s->kind) {
        case DNIC_LR_CONSTANT: r = b; break;
        case DNIC_LR_STEP: {
            int passed = 0; /* milestones are few: a count, no search */
            for (int i = 0; i < s->n_milestones && i < DNIC_LR_MAX_MILESTONES; i++) passed += step > s->milestones[i];
            r = b * pow(s->gamma, (double)passed);
            break;
        }
        case DNIC_LR_COSINE:
        case DNIC_LR_LINEAR: {
            int64_t span = s->total_steps - s->warmup;
            if (span < 1) span = 1;
            double p = (double)(step - s->warmup - 1) / (double)span;
            if (p > 1) p = 1;
            double shape = s->kind == DNIC_LR_COSINE ? (1 + cos(3.14159265358979323846 * p)) / 2 : 1 - p;
            r = s->min_rate + (b - s->min_rate) * shape;
            break;
        }
        }
    }
    float f = (float)r;
    return f > 0.0f ? f : LEAST_RATE; /* also a NaN base's rate: validation refuses those */
}
