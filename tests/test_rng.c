/* Seeding: the documented hash separates runs, and a run's stream depends only on its seed. */
#include "support.h"

#include <stdint.h>

#include "trustsim/rng.h"

static void distinct_tasks_get_distinct_seeds(void **state)
{
    (void)state;
    /* every (point, replicate) of a 64 x 64 design, and another master seed */
    uint64_t seen[2 * 64 * 64];
    int n = 0;
    for (uint64_t master = 1; master <= 2; master++)
        for (uint64_t p = 0; p < 64; p++)
            for (uint64_t r = 0; r < 64; r++)
                seen[n++] = ts_seed_hash(master, p, r);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            assert_true(seen[i] != seen[j]);
    /* the hash is not symmetric in point and replicate */
    assert_true(ts_seed_hash(7, 1, 2) != ts_seed_hash(7, 2, 1));
}

static void same_seed_same_stream(void **state)
{
    (void)state;
    gsl_rng *a = ts_rng_alloc(), *b = ts_rng_alloc();
    ts_rng_seed(a, 123456789ULL);
    ts_rng_seed(b, 123456789ULL);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(gsl_rng_get(a), gsl_rng_get(b));
    gsl_rng_free(a);
    gsl_rng_free(b);
}

static void seeds_differing_in_high_bits_give_different_streams(void **state)
{
    (void)state;
    /* gsl_rng_set would keep only the low 32 bits; the full 64 must matter */
    gsl_rng *a = ts_rng_alloc(), *b = ts_rng_alloc();
    ts_rng_seed(a, 0x0000000100000005ULL);
    ts_rng_seed(b, 0x0000000200000005ULL);
    int same = 0;
    for (int i = 0; i < 100; i++)
        same += gsl_rng_get(a) == gsl_rng_get(b);
    assert_true(same < 5);
    gsl_rng_free(a);
    gsl_rng_free(b);
}

static void stream_is_uniform_enough(void **state)
{
    (void)state;
    /* a sanity check on the filled state: the mean of 100,000 uniforms is near 1/2 */
    gsl_rng *a = ts_rng_alloc();
    ts_rng_seed(a, 42);
    double sum = 0;
    for (int i = 0; i < 100000; i++)
        sum += gsl_rng_uniform(a);
    /* sd of the mean = sqrt(1/12 / 1e5) ~ 0.00091: five of them */
    assert_true(sum / 100000 > 0.5 - 0.0046 && sum / 100000 < 0.5 + 0.0046);
    gsl_rng_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(distinct_tasks_get_distinct_seeds),
        cmocka_unit_test(same_seed_same_stream),
        cmocka_unit_test(seeds_differing_in_high_bits_give_different_streams),
        cmocka_unit_test(stream_is_uniform_enough),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
