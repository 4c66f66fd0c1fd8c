/* codecbench: ns per encode and per decode of our generated codec, and, when built with it,
 * of Apache Thrift's C++ library on the same values (bench/codec/meson.build).
 *   codecbench [--ms MS_PER_REPEAT] [--repeats N]
 *              [--profile set|range encode|decode|decode-arena]
 * --profile times one operation of ours alone (for perf record), nothing else.
 * Encode reuses one output buffer (reset per call); decode includes init and free, as a
 * server decoding a request into fresh memory does; arena decode includes init_arena and
 * tp_arena_reset of one arena kept across messages, as a server's request slot would.
 * Each figure is the best of the repeats.
 * Both sides must produce the same bytes, or the run fails before timing anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codecbench.h"
#include "kvstore.h"

uint64_t cb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fill(tp_bytes *b, uint32_t pair, uint32_t len, uint8_t (*byte)(uint32_t, uint32_t))
{
    uint8_t tmp[CB_VALUE_LEN > CB_KEY_LEN ? CB_VALUE_LEN : CB_KEY_LEN];
    for (uint32_t i = 0; i < len; i++)
        tmp[i] = byte(pair, i);
    if (tp_bytes_set(b, tmp, len) != 0)
        abort();
}

static void build_set(SetRequest *s)
{
    SetRequest_init(s);
    fill(&s->key, 0, CB_KEY_LEN, cb_key_byte);
    fill(&s->value, 0, CB_VALUE_LEN, cb_value_byte);
}

static void build_range(GetRangeResponse *g)
{
    GetRangeResponse_init(g);
    g->key_values.items = calloc(CB_RANGE_PAIRS, sizeof(KeyValue));
    if (g->key_values.items == NULL)
        abort();
    g->key_values.count = CB_RANGE_PAIRS;
    for (uint32_t j = 0; j < CB_RANGE_PAIRS; j++) {
        fill(&g->key_values.items[j].key, j, CB_KEY_LEN, cb_key_byte);
        fill(&g->key_values.items[j].value, j, CB_VALUE_LEN, cb_value_byte);
    }
    g->has_more = true;
    g->success = true;
    g->has_version = true;
    g->version = CB_RANGE_VERSION;
}

/* Generated functions of one type behind void pointers (wrappers, not casts). */
typedef struct cb_type {
    size_t size;
    void (*init)(void *);
    void (*free)(void *);
    int (*write)(const void *, tp_buf *);
    int (*read)(void *, tp_reader *);
    void (*init_arena)(void *, tp_arena *);
} cb_type;

#define CB_WRAP(T)                                                                           \
    static void T##_init_v(void *p) { T##_init(p); }                                         \
    static void T##_free_v(void *p) { T##_free(p); }                                         \
    static int T##_write_v(const void *p, tp_buf *b) { return T##_write(p, b); }             \
    static int T##_read_v(void *p, tp_reader *r) { return T##_read(p, r); }                  \
    static void T##_init_arena_v(void *p, tp_arena *a) { T##_init_arena(p, a); }            \
    static const cb_type T##_type = {sizeof(T), T##_init_v, T##_free_v, T##_write_v,         \
                                     T##_read_v, T##_init_arena_v};
CB_WRAP(SetRequest)
CB_WRAP(GetRangeResponse)

static volatile size_t cb_sink;

typedef struct cb_job {
    const cb_type *type;
    const void *value;
    tp_buf *buf;      /* encode target */
    const tp_buf *in; /* decode source */
    void *scratch;    /* decode target */
    tp_arena *arena;  /* arena decode: reset after each message, as a server would */
} cb_job;

static void op_encode(cb_job *j)
{
    tp_buf_reset(j->buf);
    if (j->type->write(j->value, j->buf) != 0)
        abort();
    cb_sink += j->buf->len;
}

static void op_decode(cb_job *j)
{
    tp_reader r;
    tp_reader_init(&r, j->in->data, j->in->len, NULL);
    j->type->init(j->scratch);
    if (j->type->read(j->scratch, &r) != 0)
        abort();
    j->type->free(j->scratch);
    cb_sink += (size_t)(r.end - r.pos);
}

static void op_decode_arena(cb_job *j)
{
    tp_reader r;
    tp_reader_init_arena(&r, j->in->data, j->in->len, NULL, j->arena);
    j->type->init_arena(j->scratch, j->arena);
    if (j->type->read(j->scratch, &r) != 0)
        abort();
    tp_arena_reset(j->arena);
    cb_sink += (size_t)(r.end - r.pos);
}

/* Best-of-repeats ns per op, after calibrating an iteration count to cfg->run_ms. */
static double time_op(const cb_config *cfg, void (*op)(cb_job *), cb_job *j)
{
    uint64_t n = 1;
    for (;;) {
        uint64_t t0 = cb_now_ns();
        for (uint64_t i = 0; i < n; i++)
            op(j);
        if ((double)(cb_now_ns() - t0) >= cfg->run_ms * 1e6 / 4)
            break;
        n *= 2;
    }
    n *= 4;
    double best = 1e300;
    for (int r = 0; r < cfg->repeats; r++) {
        uint64_t t0 = cb_now_ns();
        for (uint64_t i = 0; i < n; i++)
            op(j);
        double ns = (double)(cb_now_ns() - t0) / (double)n;
        best = ns < best ? ns : best;
    }
    return best;
}

/* Our figures for one value: decode into malloc'ed memory, and decode into an arena. */
typedef struct cb_ours {
    cb_timing heap;
    cb_timing arena; /* encode_ns is the same as heap's: encoding has no arena mode */
} cb_ours;

/* Times our codec on value; leaves its encoding in enc. */
static cb_ours bench_ours(const cb_config *cfg, const cb_type *t, const void *value, tp_buf *enc)
{
    cb_ours out;
    tp_buf_reset(enc);
    if (t->write(value, enc) != 0)
        abort();
    tp_buf scratch_buf;
    tp_buf_init(&scratch_buf);
    void *scratch = malloc(t->size);
    if (scratch == NULL)
        abort();
    tp_arena arena;
    tp_arena_init(&arena, enc->len, TP_ARENA_LIMIT_DEFAULT);
    cb_job j = {.type = t, .value = value, .buf = &scratch_buf, .in = enc, .scratch = scratch,
                .arena = &arena};
    out.heap.bytes = enc->len;
    out.heap.encode_ns = time_op(cfg, op_encode, &j);
    out.heap.decode_ns = time_op(cfg, op_decode, &j);
    out.arena = out.heap;
    out.arena.decode_ns = time_op(cfg, op_decode_arena, &j);
    tp_arena_free(&arena);
    free(scratch);
    tp_buf_free(&scratch_buf);
    return out;
}

/* Only one operation of ours, for a profiler: `--profile range decode`. */
static int profile_one(const cb_config *cfg, const char *which, const char *op,
                       const SetRequest *set, const GetRangeResponse *range)
{
    bool is_set = strcmp(which, "set") == 0, is_range = strcmp(which, "range") == 0;
    bool enc = strcmp(op, "encode") == 0, dec = strcmp(op, "decode") == 0;
    bool dec_arena = strcmp(op, "decode-arena") == 0;
    if (!(is_set || is_range) || !(enc || dec || dec_arena)) {
        fprintf(stderr, "codecbench: --profile set|range encode|decode|decode-arena\n");
        return 2;
    }
    const cb_type *t = is_set ? &SetRequest_type : &GetRangeResponse_type;
    const void *value = is_set ? (const void *)set : (const void *)range;
    tp_buf in, out;
    tp_buf_init(&in);
    tp_buf_init(&out);
    if (t->write(value, &in) != 0)
        abort();
    void *scratch = malloc(t->size);
    if (scratch == NULL)
        abort();
    tp_arena arena;
    tp_arena_init(&arena, in.len, TP_ARENA_LIMIT_DEFAULT);
    cb_job j = {.type = t, .value = value, .buf = &out, .in = &in, .scratch = scratch,
                .arena = &arena};
    double ns = time_op(cfg, enc ? op_encode : dec ? op_decode : op_decode_arena, &j);
    printf("ours %s %s: %.1f ns\n", which, op, ns);
    tp_arena_free(&arena);
    free(scratch);
    tp_buf_free(&in);
    tp_buf_free(&out);
    return 0;
}

static void print_row(const char *what, const char *impl, const cb_timing *t)
{
    printf("%-18s %-26s %10.1f %10.1f %8zu\n", what, impl, t->encode_ns, t->decode_ns, t->bytes);
}

#ifdef CODECBENCH_HAVE_CPP
#define CB_CPP_BYTES_MAX (64u * 1024)

/* Apache Thrift's C++ library must write exactly our bytes, or the comparison is void. */
static int same_bytes(const char *what, const tp_buf *ours, const uint8_t *theirs, size_t len)
{
    if (ours->len == len && memcmp(ours->data, theirs, len) == 0)
        return 0;
    fprintf(stderr, "codecbench: %s: Apache Thrift C++ wrote other bytes than ours\n", what);
    return -1;
}

static void print_ratio(const char *what, const char *against, const cb_timing *ours,
                        const cb_timing *cpp, bool target)
{
    double enc = cpp->encode_ns / ours->encode_ns, dec = cpp->decode_ns / ours->decode_ns;
    printf("%-18s vs %-23s encode %5.2fx faster%s   decode %5.2fx faster%s\n", what, against,
           enc, !target ? "" : enc >= 1.5 ? " (target 1.5x: met)" : " (target 1.5x: MISSED)",
           dec, !target ? "" : dec >= 4.0 ? " (target 4x: met)" : " (target 4x: MISSED)");
}

static int bench_cpp(const cb_config *cfg, const tp_buf *set_enc, const tp_buf *range_enc,
                     const cb_ours *set, const cb_ours *range)
{
    static const char *const names[] = {"thrift-cpp TBinaryProtocol",
                                         "thrift-cpp BinaryProtocolT"};
    static uint8_t set_bytes[CB_CPP_BYTES_MAX], range_bytes[CB_CPP_BYTES_MAX];
    cb_timing cs[2], cr[2];
    for (int v = CB_CPP_GENERIC; v <= CB_CPP_TEMPLATED; v++) {
        if (cb_cpp_run(cfg, v, &cs[v], &cr[v], set_bytes, sizeof set_bytes, range_bytes,
                       sizeof range_bytes) != 0 ||
            same_bytes("SetRequest", set_enc, set_bytes, cs[v].bytes) != 0 ||
            same_bytes("GetRangeResponse", range_enc, range_bytes, cr[v].bytes) != 0)
            return -1;
        print_row("SetRequest", names[v], &cs[v]);
        print_row("GetRangeResponse", names[v], &cr[v]);
    }
    printf("\n");
    printf("ours, malloc decode:\n");
    print_ratio("SetRequest", "TBinaryProtocol", &set->heap, &cs[CB_CPP_GENERIC], false);
    print_ratio("GetRangeResponse", "TBinaryProtocol", &range->heap, &cr[CB_CPP_GENERIC], false);
    printf("ours, arena decode (the targets apply to this mode):\n");
    print_ratio("SetRequest", "TBinaryProtocol", &set->arena, &cs[CB_CPP_GENERIC], true);
    print_ratio("GetRangeResponse", "TBinaryProtocol", &range->arena, &cr[CB_CPP_GENERIC], true);
    print_ratio("SetRequest", "TBinaryProtocolT<TMemBuf>", &set->arena, &cs[CB_CPP_TEMPLATED],
                false);
    print_ratio("GetRangeResponse", "TBinaryProtocolT<TMemBuf>", &range->arena,
                &cr[CB_CPP_TEMPLATED], false);
    return 0;
}
#endif

int main(int argc, char **argv)
{
    cb_config cfg = {.run_ms = 200, .repeats = 5};
    const char *profile_which = NULL, *profile_op = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--profile") == 0 && i + 2 < argc) {
            profile_which = argv[++i];
            profile_op = argv[++i];
        } else if (strcmp(argv[i], "--ms") == 0 && i + 1 < argc)
            cfg.run_ms = atof(argv[++i]);
        else if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc)
            cfg.repeats = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: codecbench [--ms MS_PER_REPEAT] [--repeats N] "
                            "[--profile set|range encode|decode|decode-arena]\n");
            return 2;
        }
    }
    if (cfg.run_ms <= 0 || cfg.repeats <= 0) {
        fprintf(stderr, "codecbench: --ms and --repeats must be positive\n");
        return 2;
    }
    SetRequest set;
    GetRangeResponse range;
    build_set(&set);
    build_range(&range);
    if (profile_which != NULL) {
        int prc = profile_one(&cfg, profile_which, profile_op, &set, &range);
        SetRequest_free(&set);
        GetRangeResponse_free(&range);
        return prc;
    }
    tp_buf set_enc, range_enc;
    tp_buf_init(&set_enc);
    tp_buf_init(&range_enc);

    printf("codecbench: %u-byte keys, %u-byte values, %u pairs; best of %d x %.0f ms\n",
           CB_KEY_LEN, CB_VALUE_LEN, CB_RANGE_PAIRS, cfg.repeats, cfg.run_ms);
    printf("%-18s %-26s %10s %10s %8s\n", "value", "implementation", "encode ns", "decode ns",
           "bytes");
    cb_ours ts = bench_ours(&cfg, &SetRequest_type, &set, &set_enc);
    cb_ours tr = bench_ours(&cfg, &GetRangeResponse_type, &range, &range_enc);
    print_row("SetRequest", "ours (thriftc)", &ts.heap);
    print_row("GetRangeResponse", "ours (thriftc)", &tr.heap);
    print_row("SetRequest", "ours, arena decode", &ts.arena);
    print_row("GetRangeResponse", "ours, arena decode", &tr.arena);
    int rc = 0;
#ifdef CODECBENCH_HAVE_CPP
    rc = bench_cpp(&cfg, &set_enc, &range_enc, &ts, &tr);
#else
    printf("(Apache Thrift C++ not built: install libthrift-dev libboost-dev, reconfigure)\n");
#endif
    SetRequest_free(&set);
    GetRangeResponse_free(&range);
    tp_buf_free(&set_enc);
    tp_buf_free(&range_enc);
    return rc == 0 ? 0 : 1;
}
