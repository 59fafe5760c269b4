/* The belief store (src/engine/beliefs.h), through its interface only: a belief inserted at a
 * key is found there and nowhere else, and starts empty; set_live counts it once; retiring a
 * leader empties and un-counts every belief held by or about that slot and nothing else;
 * fading multiplies every true count (stored count times the store's unit) by 1 - forget per
 * tick, renormalisation included; clear forgets everything and keeps the memory; the store
 * grows past its first capacity keeping every record, and says when it cannot grow. */
#include "support.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/beliefs.h"

/* A toy world: 4 organisations of 3 leader slots (leader l is in organisation l / 3), and an
 * accumulator for every (trustor, organisation of the trustee): acc = x * 4 + org. */
enum { ORGS = 4, PER_ORG = 3, LEADERS = ORGS * PER_ORG, ACCS = LEADERS * ORGS };

static ts_belief_key key_of(int x, int y)
{
    return (ts_belief_key){
        .acc = x * ORGS + y / PER_ORG, .n = PER_ORG, .j = (uint32_t)(y % PER_ORG)};
}

static long insert(ts_belief_store *b, int x, int y, int expect_added)
{
    int added = -1;
    long r = ts_beliefs_insert(b, key_of(x, y), (uint32_t)x, (uint32_t)y, &added);
    assert_true(r >= 0);
    assert_int_equal(added, expect_added);
    return r;
}

static void init(ts_belief_store *b, size_t expected)
{
    assert_int_equal(ts_beliefs_init(b, expected, LEADERS, ACCS), 0);
}

/* The true count of a record: stored count times the store's common unit. */
static double true_pos(const ts_belief_store *b, int p, long r)
{
    return (double)*ts_belief_pos(b, p, (size_t)r) * b->unit;
}

static void set_counts(ts_belief_store *b, long r, float pos, float neg, float prior)
{
    for (int p = 0; p < TS_PILLARS; p++) {
        *ts_belief_pos(b, p, (size_t)r) = pos + (float)p;
        *ts_belief_neg(b, p, (size_t)r) = neg + (float)p;
        *ts_belief_prior(b, p, (size_t)r) = prior;
    }
}

static void assert_empty(const ts_belief_store *b, long r)
{
    for (int p = 0; p < TS_PILLARS; p++) {
        assert_true(*ts_belief_pos(b, p, (size_t)r) == 0);
        assert_true(*ts_belief_neg(b, p, (size_t)r) == 0);
        assert_true(*ts_belief_prior(b, p, (size_t)r) == 0);
    }
}

static void a_belief_is_found_at_its_key_and_nowhere_else(void **state)
{
    (void)state;
    ts_belief_store b;
    init(&b, 16);
    for (int x = 0; x < LEADERS; x++)
        for (int y = 0; y < LEADERS; y++)
            assert_int_equal(ts_beliefs_find(&b, key_of(x, y)), -1);
    long r1 = insert(&b, 0, 4, 1);
    long r2 = insert(&b, 0, 5, 1);  /* same accumulator, another slot */
    long r3 = insert(&b, 4, 0, 1);  /* the reverse direction is another belief */
    long r4 = insert(&b, 11, 4, 1); /* another trustor */
    assert_true(r1 != r2 && r1 != r3 && r1 != r4 && r2 != r3 && r2 != r4 && r3 != r4);
    assert_int_equal(insert(&b, 0, 4, 0), r1); /* inserting again finds it */
    for (int x = 0; x < LEADERS; x++)
        for (int y = 0; y < LEADERS; y++) {
            long want = x == 0 && y == 4    ? r1
                        : x == 0 && y == 5  ? r2
                        : x == 4 && y == 0  ? r3
                        : x == 11 && y == 4 ? r4
                                            : -1;
            assert_int_equal(ts_beliefs_find(&b, key_of(x, y)), want);
        }
    /* a new belief holds no evidence, no prior, and is not live yet */
    assert_empty(&b, r1);
    assert_empty(&b, r4);
    assert_int_equal(b.n_live, 0);
    ts_beliefs_destroy(&b);
}

static void set_live_counts_a_belief_once_in_its_accumulator(void **state)
{
    (void)state;
    ts_belief_store b;
    init(&b, 16);
    long r1 = insert(&b, 0, 4, 1), r2 = insert(&b, 0, 5, 1), r3 = insert(&b, 0, 9, 1);
    ts_beliefs_set_live(&b, r1);
    ts_beliefs_set_live(&b, r1);
    assert_int_equal(b.n_live, 1);
    ts_beliefs_set_live(&b, r2);
    ts_beliefs_set_live(&b, r3);
    assert_int_equal(b.n_live, 3);
    assert_int_equal(b.acc_live[key_of(0, 4).acc], 2); /* r1 and r2: organisation 1 */
    assert_int_equal(b.acc_live[key_of(0, 9).acc], 1); /* r3: organisation 3 */
    assert_int_equal(b.acc_live[key_of(1, 4).acc], 0);
    ts_beliefs_destroy(&b);
}

static void retiring_a_leader_empties_every_belief_held_by_or_about_it_and_no_other(void **state)
{
    (void)state;
    ts_belief_store b;
    init(&b, 16);
    /* leader 4 holds two beliefs and is the subject of two; 0 -> 5 and 7 -> 8 do not involve
     * it */
    const int pairs[][2] = {{4, 0}, {4, 9}, {0, 4}, {10, 4}, {0, 5}, {7, 8}};
    enum { N = 6 };
    long r[N];
    for (int i = 0; i < N; i++) {
        r[i] = insert(&b, pairs[i][0], pairs[i][1], 1);
        set_counts(&b, r[i], 2.5f + (float)i, 1.5f, 0.6f);
        ts_beliefs_set_live(&b, r[i]);
    }
    assert_int_equal(b.n_live, N);
    ts_beliefs_retire_leader(&b, 4);
    for (int i = 0; i < 4; i++)
        assert_empty(&b, r[i]);
    for (int i = 4; i < N; i++) {
        assert_true(*ts_belief_pos(&b, 2, (size_t)r[i]) == 2.5f + (float)i + 2);
        assert_true(*ts_belief_prior(&b, 0, (size_t)r[i]) == 0.6f);
    }
    assert_int_equal(b.n_live, 2);
    assert_int_equal(b.acc_live[key_of(0, 4).acc], 1); /* 0 -> 5 is left in organisation 1 */
    assert_int_equal(b.acc_live[key_of(10, 4).acc], 0);
    /* records are kept: found at their keys, and formed again in place */
    assert_int_equal(ts_beliefs_find(&b, key_of(0, 4)), r[2]);
    ts_beliefs_set_live(&b, r[2]);
    assert_int_equal(b.n_live, 3);
    /* retiring the slot again retires what was formed since */
    ts_beliefs_retire_leader(&b, 4);
    assert_int_equal(b.n_live, 2);
    ts_beliefs_destroy(&b);
}

static void fading_multiplies_every_true_count_by_one_minus_forget_per_tick(void **state)
{
    (void)state;
    ts_belief_store b;
    init(&b, 16);
    long r1 = insert(&b, 0, 4, 1), r2 = insert(&b, 5, 1, 1);
    set_counts(&b, r1, 4.0f, 1.0f, 0.5f);
    set_counts(&b, r2, 10.0f, 2.0f, 0.5f);
    const double forget = 0.3;
    /* 0.7^39 < 1e-6: the common unit is folded into the counts on the way, twice by tick 80 */
    int folds = 0;
    for (int t = 1; t <= 80; t++) {
        double unit = b.unit;
        ts_beliefs_fade(&b, forget);
        folds += b.unit > unit;
        double keep = pow(1 - forget, t);
        for (int p = 0; p < TS_PILLARS; p++) {
            double want1 = (4.0 + p) * keep, want2 = (10.0 + p) * keep;
            /* single-precision counts: a relative error of a few float epsilons per fold */
            assert_true(fabs(true_pos(&b, p, r1) - want1) <= 1e-5 * want1);
            assert_true(fabs(true_pos(&b, p, r2) - want2) <= 1e-5 * want2);
        }
        /* priors do not fade */
        assert_true(*ts_belief_prior(&b, 1, (size_t)r1) == 0.5f);
        /* the unit never gets small enough for stored counts to overflow */
        assert_true(b.unit >= 1e-6 && b.unit <= 1);
    }
    assert_int_equal(folds, 2);
    /* evidence added in units of the store (divided by its unit) is worth its face value */
    double before = true_pos(&b, 0, r1);
    *ts_belief_pos(&b, 0, (size_t)r1) += (float)(3.0 / b.unit);
    assert_true(fabs(true_pos(&b, 0, r1) - (before + 3.0)) < 1e-5 * 3.0);
    ts_beliefs_destroy(&b);
}

static void clear_forgets_every_belief_and_keeps_the_memory(void **state)
{
    (void)state;
    ts_belief_store b;
    init(&b, 16);
    long r = insert(&b, 0, 4, 1);
    set_counts(&b, r, 7.0f, 3.0f, 0.9f);
    ts_beliefs_set_live(&b, r);
    insert(&b, 2, 7, 1);
    ts_beliefs_fade(&b, 0.5);
    size_t bytes = ts_beliefs_bytes(&b);
    ts_beliefs_clear(&b);
    assert_int_equal(ts_beliefs_bytes(&b), bytes);
    assert_int_equal(b.n_live, 0);
    assert_true(b.unit == 1.0);
    for (int x = 0; x < LEADERS; x++)
        for (int y = 0; y < LEADERS; y++)
            assert_int_equal(ts_beliefs_find(&b, key_of(x, y)), -1);
    for (int a = 0; a < ACCS; a++)
        assert_int_equal(b.acc_live[a], 0);
    /* a belief formed after clearing starts empty, whatever its record held before */
    long again = insert(&b, 3, 6, 1);
    assert_empty(&b, again);
    ts_beliefs_destroy(&b);
}

static void the_store_grows_keeping_every_record_and_its_alignment(void **state)
{
    (void)state;
    ts_belief_store b;
    init(&b, 1); /* far fewer records than will come */
    size_t bytes = ts_beliefs_bytes(&b);
    long r[LEADERS][LEADERS];
    for (int x = 0; x < LEADERS; x++)
        for (int y = 0; y < LEADERS; y++) {
            r[x][y] = insert(&b, x, y, 1);
            set_counts(&b, r[x][y], (float)(x * LEADERS + y), 0.25f, (float)x / LEADERS);
        }
    assert_true(b.grows > 0);
    assert_true(ts_beliefs_bytes(&b) > bytes);
    /* vector loads need the count blocks on a 64-byte boundary, however often they moved */
    assert_int_equal((uintptr_t)ts_belief_pos(&b, 0, 0) % 64, 0);
    for (int x = 0; x < LEADERS; x++)
        for (int y = 0; y < LEADERS; y++) {
            assert_int_equal(ts_beliefs_find(&b, key_of(x, y)), r[x][y]);
            assert_true(*ts_belief_pos(&b, 1, (size_t)r[x][y]) == (float)(x * LEADERS + y) + 1);
            assert_true(*ts_belief_neg(&b, 0, (size_t)r[x][y]) == 0.25f);
            assert_true(*ts_belief_prior(&b, 3, (size_t)r[x][y]) == (float)x / LEADERS);
        }
    /* every record of a leader is still reached when it retires */
    for (int y = 0; y < LEADERS; y++)
        ts_beliefs_set_live(&b, r[6][y]);
    ts_beliefs_retire_leader(&b, 6);
    for (int y = 0; y < LEADERS; y++)
        assert_empty(&b, r[6][y]);
    assert_int_equal(b.n_live, 0);
    ts_beliefs_destroy(&b);
}

static void a_store_that_cannot_grow_says_so_and_keeps_what_it_has(void **state)
{
    (void)state;
    ts_belief_store b;
    init(&b, 16);
    long r = insert(&b, 0, 4, 1);
    b.max_count = 1; /* as if record indices had run out */
    int added = -1;
    assert_int_equal(ts_beliefs_insert(&b, key_of(0, 5), 0, 5, &added), -1);
    assert_int_equal(added, 0);
    assert_int_equal(ts_beliefs_find(&b, key_of(0, 4)), r);
    assert_int_equal(ts_beliefs_find(&b, key_of(0, 5)), -1);
    ts_beliefs_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_belief_is_found_at_its_key_and_nowhere_else),
        cmocka_unit_test(set_live_counts_a_belief_once_in_its_accumulator),
        cmocka_unit_test(retiring_a_leader_empties_every_belief_held_by_or_about_it_and_no_other),
        cmocka_unit_test(fading_multiplies_every_true_count_by_one_minus_forget_per_tick),
        cmocka_unit_test(clear_forgets_every_belief_and_keeps_the_memory),
        cmocka_unit_test(the_store_grows_keeping_every_record_and_its_alignment),
        cmocka_unit_test(a_store_that_cannot_grow_says_so_and_keeps_what_it_has),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
