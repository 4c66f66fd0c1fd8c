/* everything_fixture.h: seeded builders of fully populated everything.thrift values. */
#ifndef TESTS_CODEGEN_EVERYTHING_FIXTURE_H
#define TESTS_CODEGEN_EVERYTHING_FIXTURE_H

#include <stdint.h>

#include "everything.h"

/* Seeds from $SEED if set, else from the clock; returns the seed to print on failure. */
uint64_t fixture_seed(void);
uint64_t fixture_rand(void);
void fixture_scalars(Scalars *s);
void fixture_holder(Holder *h);
/* A tree `depth` levels deep with up to `width` children per node. */
void fixture_tree(Tree *t, int depth, int width);
/* Encodes any generated struct with its _write function into a fresh buffer. */
#define FIXTURE_ENCODE(type, value, buf)                   \
    do {                                                   \
        tp_buf_init(buf);                                  \
        cr_assert_eq(type##_write((value), (buf)), 0);     \
    } while (0)

#endif
