/* everything_fixture.c: seeded builders of fully populated everything.thrift values. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <time.h>

#include "everything_fixture.h"
#include "test_seed.h"

static uint64_t state;

/* Small on purpose: decodes grow it, so growth is exercised too. */
#define FIXTURE_ARENA_HINT 64u

tp_arena *fixture_arena_;
static tp_arena arena;

tp_arena *fixture_mode(int mode)
{
    fixture_mode_end();
    if (mode == FIXTURE_ARENA) {
        tp_arena_init(&arena, FIXTURE_ARENA_HINT, TP_ARENA_LIMIT_DEFAULT);
        fixture_arena_ = &arena;
    }
    return fixture_arena_;
}

void fixture_mode_end(void)
{
    if (fixture_arena_ != NULL)
        tp_arena_free(fixture_arena_);
    fixture_arena_ = NULL;
}

void fixture_reader(tp_reader *r, const void *data, size_t len, const tp_limits *limits)
{
    if (fixture_arena_ != NULL)
        tp_reader_init_arena(r, data, len, limits, fixture_arena_);
    else
        tp_reader_init(r, data, len, limits);
}

uint64_t fixture_seed(void)
{
    uint64_t seed = test_seed_for("codegen fixture");
    state = seed * 2654435761u + 1;
    return seed;
}

uint64_t fixture_rand(void)
{
    /* xorshift64*: small, deterministic, good enough to vary test values. */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1Du;
}

static uint32_t below(uint32_t n) { return (uint32_t)(fixture_rand() % n); }

static void *items(uint32_t n, size_t size)
{
    void *p = calloc(n > 0 ? n : 1, size);
    cr_assert_not_null(p);
    return p;
}

static void random_bytes(tp_bytes *b, uint32_t max)
{
    uint8_t tmp[64];
    uint32_t n = below(max + 1);
    for (uint32_t i = 0; i < n; i++)
        tmp[i] = (uint8_t)fixture_rand();
    cr_assert_eq(tp_bytes_set(b, tmp, n), 0);
}

static void random_point(Point *p)
{
    p->x = (int32_t)fixture_rand();
    p->y = (int32_t)fixture_rand();
}

void fixture_scalars(Scalars *s)
{
    s->has_b = s->has_y = s->has_i8v = s->has_s = s->has_i = s->has_l = true;
    s->has_d = s->has_str = s->has_bin = s->has_mode = s->has_version = true;
    s->b = fixture_rand() & 1;
    s->y = (int8_t)fixture_rand();
    s->i8v = (int8_t)fixture_rand();
    s->s = (int16_t)fixture_rand();
    s->i = (int32_t)fixture_rand();
    s->l = (int64_t)fixture_rand();
    s->d = (double)(int64_t)fixture_rand() / 7.0;
    random_bytes(&s->str, 20);
    random_bytes(&s->bin, 40);
    s->mode = below(2) ? Mode_AUTO : (Mode)77; /* unknown enum values survive */
    s->version = (int64_t)fixture_rand();
}

static void fixture_defaults(Defaults *d)
{
    d->has_count = true;
    d->count = (int32_t)fixture_rand();
    d->has_flag = true;
    d->flag = false;
    d->has_mode = below(2);
    d->ratio = -0.0;
    d->has_name = d->has_primes = d->has_weights = d->has_negative = d->has_color = true;
    d->has_ratio = true;
    random_bytes(&d->name, 8);
}

static void fixture_nested_maps(Nested *n)
{
    n->has_paths = true;
    n->paths.count = below(4);
    n->paths.keys = items(n->paths.count, sizeof(tp_bytes));
    n->paths.values = items(n->paths.count, sizeof(list_Point));
    for (uint32_t i = 0; i < n->paths.count; i++) {
        random_bytes(&n->paths.keys[i], 5);
        n->paths.values[i].count = below(3);
        n->paths.values[i].items = items(n->paths.values[i].count, sizeof(Point));
        for (uint32_t j = 0; j < n->paths.values[i].count; j++)
            random_point(&n->paths.values[i].items[j]);
    }
    n->has_deep = true;
    n->deep.count = 1 + below(2);
    n->deep.keys = items(n->deep.count, sizeof(int32_t));
    n->deep.values = items(n->deep.count, sizeof(map_string_Scalars));
    for (uint32_t i = 0; i < n->deep.count; i++) {
        map_string_Scalars *m = &n->deep.values[i];
        n->deep.keys[i] = (int32_t)i;
        m->count = below(3);
        m->keys = items(m->count, sizeof(tp_bytes));
        m->values = items(m->count, sizeof(Scalars));
        for (uint32_t j = 0; j < m->count; j++) {
            random_bytes(&m->keys[j], 4);
            Scalars_init(&m->values[j]);
            fixture_scalars(&m->values[j]);
        }
    }
}

static void fixture_nested_lists(Nested *n)
{
    n->grid.count = below(4);
    n->grid.items = items(n->grid.count, sizeof(tp_list_i32));
    for (uint32_t i = 0; i < n->grid.count; i++) {
        n->grid.items[i].count = below(5);
        n->grid.items[i].items = items(n->grid.items[i].count, sizeof(int32_t));
        for (uint32_t j = 0; j < n->grid.items[i].count; j++)
            n->grid.items[i].items[j] = (int32_t)fixture_rand();
    }
    n->has_tags = true;
    n->tags.count = below(4);
    n->tags.items = items(n->tags.count, sizeof(tp_bytes));
    for (uint32_t i = 0; i < n->tags.count; i++)
        random_bytes(&n->tags.items[i], 6);
    n->has_mixed = true;
    n->mixed.count = 1 + below(2);
    n->mixed.items = items(n->mixed.count, sizeof(map_Mode_set_i64));
    for (uint32_t i = 0; i < n->mixed.count; i++) {
        map_Mode_set_i64 *m = &n->mixed.items[i];
        m->count = 1;
        m->keys = items(1, sizeof(Mode));
        m->values = items(1, sizeof(tp_set_i64));
        m->keys[0] = Mode_ON;
        m->values[0].count = below(3);
        m->values[0].items = items(m->values[0].count, sizeof(int64_t));
        for (uint32_t j = 0; j < m->values[0].count; j++)
            m->values[0].items[j] = (int64_t)fixture_rand();
    }
}

static void fixture_nested(Nested *n)
{
    fixture_nested_lists(n);
    fixture_nested_maps(n);
    n->has_names = true;
    n->names.count = below(3);
    n->names.items = items(n->names.count, sizeof(tp_bytes));
    for (uint32_t i = 0; i < n->names.count; i++)
        cr_assert_eq(tp_bytes_set_str(&n->names.items[i], "name"), 0);
    n->has_where = true;
    random_point(&n->where);
    n->has_versions = n->has_reals = n->has_flags = true;
    n->versions.count = n->reals.count = n->flags.count = 2;
    n->versions.items = items(2, sizeof(int64_t));
    n->reals.items = items(2, sizeof(double));
    n->flags.items = items(2, sizeof(bool));
    n->versions.items[1] = INT64_MIN;
    n->reals.items[0] = 1e300;
    n->reals.items[1] = -1.0 / 3;
    n->flags.items[1] = true;
}

void fixture_holder(Holder *h)
{
    fixture_scalars(&h->scalars);
    h->has_defaults = true;
    fixture_defaults(&h->defaults);
    h->has_nested = true;
    fixture_nested(&h->nested);
    random_point(&h->origin);
}

void fixture_tree(Tree *t, int depth, int width)
{
    t->has_value = t->has_children = true;
    t->value = depth;
    if (depth <= 1)
        return;
    t->children.count = (uint32_t)width;
    t->children.items = items((uint32_t)width, sizeof(Tree));
    for (int i = 0; i < width; i++) {
        Tree_init(&t->children.items[i]);
        fixture_tree(&t->children.items[i], depth - 1, width);
    }
}
