/* everything_fixture.h: seeded builders of fully populated everything.thrift values. */
#ifndef TESTS_CODEGEN_EVERYTHING_FIXTURE_H
#define TESTS_CODEGEN_EVERYTHING_FIXTURE_H

#include <stdint.h>

#include "everything.h"

/* Seeds from TEST_SEED if set, else a fresh one (printed: test_seed.h); returns the seed. */
uint64_t fixture_seed(void);
uint64_t fixture_rand(void);
void fixture_scalars(Scalars *s);
void fixture_holder(Holder *h);
/* A tree `depth` levels deep with up to `width` children per node. */
void fixture_tree(Tree *t, int depth, int width);
/* Decode modes: each decode test runs once per mode, malloc'ed and into an arena. */
enum { FIXTURE_MALLOC, FIXTURE_ARENA, FIXTURE_MODES };
/* Starts a mode and returns its arena (NULL for FIXTURE_MALLOC); the next call ends it. */
tp_arena *fixture_mode(int mode);
/* Ends the last mode: frees its arena (LSan then sees anything an arena decode leaked). */
void fixture_mode_end(void);
/* tp_reader_init, with the current mode's arena. */
void fixture_reader(tp_reader *r, const void *data, size_t len, const tp_limits *limits);
/* Foo_init, or Foo_init_arena in arena mode. */
#define FIXTURE_INIT(type, value)                               \
    do {                                                        \
        if (fixture_arena_ != NULL)                             \
            type##_init_arena((value), fixture_arena_);         \
        else                                                    \
            type##_init(value);                                 \
    } while (0)
/* Releases a decoded value: Foo_free, or in arena mode forgetting it and resetting the arena
 * (which releases every value decoded since the last reset). */
#define FIXTURE_RELEASE(type, value)                            \
    do {                                                        \
        if (fixture_arena_ != NULL) {                           \
            type##_init_arena((value), NULL);                   \
            tp_arena_reset(fixture_arena_);                     \
        } else {                                                \
            type##_free(value);                                 \
        }                                                       \
    } while (0)
extern tp_arena *fixture_arena_; /* the current mode's arena, for the macros */
#define FIXTURE_MODE_NAME (fixture_arena_ != NULL ? "arena" : "malloc")

/* Encodes any generated struct with its _write function into a fresh buffer. */
#define FIXTURE_ENCODE(type, value, buf)                   \
    do {                                                   \
        tp_buf_init(buf);                                  \
        cr_assert_eq(type##_write((value), (buf)), 0);     \
    } while (0)

#endif
