/* fuzz_seeds_storage: writes seeds for fuzz_wal, fuzz_snapshot or fuzz_peer into DIR (fuzz/run
 * calls it): real segment files (flags byte first) written by the WAL with a sync and an
 * unsynced tail, real snapshots of small stores, and peer calls and replies that pass the
 * checks (selector bytes first).
 *   fuzz_seeds_storage wal|snapshot|peer DIR */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv_snapshot.h"
#include "kv_store.h"
#include "kvstore.h"
#include "wal.h"

static const char *seed_dir;
static unsigned seed_count;

static void put_seed(const uint8_t *head, size_t head_len, const uint8_t *body, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-%03u", seed_dir, seed_count++);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(head, 1, head_len, f) != head_len ||
        fwrite(body, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "fuzz_seeds_storage: %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        exit(1);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n)
        exit(1);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Logs of a few payload shapes: every segment file becomes a seed (last and not last). */
static void wal_seeds(void)
{
    for (int shape = 0; shape < 3; shape++) {
        char dir[] = "/tmp/fuzz-wal-XXXXXX";
        if (!mkdtemp(dir))
            exit(1);
        struct wal_config cfg;
        wal_config_default(&cfg, dir);
        cfg.segment_size_max = 8192;
        cfg.zero_ahead_bytes = 0;
        struct wal *w;
        if (wal_open(&cfg, &w, NULL) != 0)
            exit(1);
        uint8_t p[700];
        for (uint64_t i = 1; i <= 24; i++) {
            uint32_t len = shape == 0 ? 0 : shape == 1 ? 40 : 700;
            memset(p, shape == 2 ? 0 : 'A' + (int)(i % 26), len);
            if (wal_append(w, i, 1 + i / 8, p, len) != 0)
                exit(1);
            if (i == 16 && wal_sync(w) != 0)
                exit(1);
        }
        wal_close(w); /* the tail after 16 written, not synced */
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            if (strstr(de->d_name, ".wal")) {
                size_t len;
                uint8_t *b = read_file(path, &len);
                for (uint8_t flags = 0; flags < 4; flags++) /* last? sealed? */
                    put_seed(&flags, 1, b, len);
                free(b);
            }
            if (de->d_name[0] != '.')
                unlink(path);
        }
        if (d)
            closedir(d);
        rmdir(dir);
    }
}

static void snapshot_seeds(void)
{
    for (int keys = 0; keys <= 40; keys += 20) {
        kv_store *s = kv_store_new(NULL);
        if (!s)
            exit(1);
        for (int i = 0; i < keys; i++) {
            char k[16], v[16];
            int kl = snprintf(k, sizeof k, "k%03d", i), vl = snprintf(v, sizeof v, "v%d", i * i);
            if (kv_store_set(s, (const uint8_t *)k, (size_t)kl, (const uint8_t *)v, (size_t)vl,
                             (uint64_t)i + 1) != 0)
                exit(1);
            kv_store_advance(s, (uint64_t)i + 1, 1000 * (i + 1));
        }
        uint8_t *b;
        size_t len;
        if (kv_snapshot_save_mem(s, &b, &len) != 0)
            exit(1);
        put_seed(NULL, 0, b, len);
        free(b);
        kv_store_free(s);
    }
}

/* selector, node count index (3 nodes), sender 1, receiver 0; then the struct. */
static void put_peer(uint8_t selector, const tp_buf *b)
{
    uint8_t head[4] = {selector, 1, 1, 0};
    put_seed(head, sizeof head, b->data, b->len);
}

static void peer_seeds(void)
{
    tp_buf b;
    tp_buf_init(&b);
    AppendEntryRequest a;
    AppendEntryRequest_init(&a);
    tp_bytes_set_str(&a.leader_id, "1");
    a.leader_term = 3;
    a.prev_log_index = 3;
    a.prev_log_term = 2;
    a.has_leader_commit = true;
    a.leader_commit = 3;
    a.has_entries = true;
    ConsensusLogEntry e[2];
    for (int i = 0; i < 2; i++) {
        ConsensusLogEntry_init(&e[i]);
        e[i].index = 4 + i;
        e[i].term = 3;
        tp_bytes_set_str(&e[i].data, "entry");
    }
    a.entries.items = e;
    a.entries.count = 2;
    AppendEntryRequest_write(&a, &b);
    put_peer(0, &b);
    a.entries.items = NULL; /* the entries are ours, freed below */
    a.entries.count = 0;
    a.has_entries = false;
    tp_buf_reset(&b);
    AppendEntryRequest_write(&a, &b); /* a heartbeat */
    put_peer(0, &b);
    for (int i = 0; i < 2; i++)
        ConsensusLogEntry_free(&e[i]);
    AppendEntryRequest_free(&a);
    RequestVoteRequest v;
    RequestVoteRequest_init(&v);
    tp_bytes_set_str(&v.candidate_id, "1");
    v.term = 3;
    v.last_log_index = 3;
    v.last_log_term = 2;
    tp_buf_reset(&b);
    RequestVoteRequest_write(&v, &b);
    put_peer(2, &b);
    RequestVoteRequest_free(&v);
    AppendEntryResponse r;
    AppendEntryResponse_init(&r);
    tp_bytes_set_str(&r.node_id, "1");
    r.has_term = true;
    r.term = 2;
    r.success = true;
    r.index = 3;
    tp_buf_reset(&b);
    AppendEntryResponse_write(&r, &b);
    put_peer(4, &b);
    AppendEntryResponse_free(&r);
    tp_buf_free(&b);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_seeds_storage wal|snapshot|peer DIR\n");
        return 2;
    }
    seed_dir = argv[2];
    if (strcmp(argv[1], "wal") == 0)
        wal_seeds();
    else if (strcmp(argv[1], "snapshot") == 0)
        snapshot_seeds();
    else if (strcmp(argv[1], "peer") == 0)
        peer_seeds();
    else
        return 2;
    printf("fuzz_seeds_storage: %u %s seeds in %s\n", seed_count, argv[1], seed_dir);
    return 0;
}
