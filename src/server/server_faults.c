/* server_faults.c: fault injection from outside the process (partition tests, the kvtorture
   nemesis, disk faults), only with debug.fault_injection: true.
 *
 * The node reads data_dir/faults once before it opens its log, then every half heartbeat
 * interval. Each line is a key, '=' and a value:
 *     drop_to=1,2      calls and replies this node sends to nodes 1 and 2 are dropped
 *     drop_from=2      everything this node receives from node 2 is dropped
 *     delay_ms=1:20    calls this node sends to node 1 leave 20 ms late (a long link)
 *     rate_kbps=1:8000 ... and no faster than 8000 kilobits a second (a thin one)
 *     disk_fail=CALL:NTH:ERRNO[:COUNT]
 *                      counting this node's storage calls of kind CALL (open, write, sync,
 *                      rename, truncate, unlink, read: util/sio.h) from when the line appears,
 *                      calls NTH .. NTH+COUNT-1 fail with ERRNO (EIO, ENOSPC, EDQUOT, EROFS,
 *                      EMFILE); without COUNT every call from NTH on fails. One line per CALL.
 *     clock_offset_ms=-30000
 *                      this node's wall clock reads that far off, as after an NTP step (at
 *                      most a day either way): the leader clock its entries carry (the MVCC
 *                      window's time edge, anything kept in log time) and ping's timestamp.
 *                      Timers run on the monotonic clock and do not move. Without the line the
 *                      clock is true again.
 * delay_ms and rate_kbps shape what this node sends on its peer links (appends, snapshot
 * chunks, forwarded writes; the replies it sends travel as they are); their lists are
 * id:number pairs. drop_* lists are node ids (instance indexes; may be empty; replicated mode
 * only). Blank lines and lines starting with '#' are ignored; this node's own id is ignored.
 * A missing or empty file injects nothing, so deleting it heals (a disk whose calls fail works
 * again: the node, failed or not, stays as it is). A file that does not parse is logged once
 * and leaves everything as it was. Writes forwarded to the leader are cut the same way (they
 * travel on the same links; server_dispatch.c loses a call forwarded from a dropped node, and
 * its answer, silently). Write the file atomically (temp file + rename) so a half-written file
 * is never read. A disk_fail line is set again only when it changes (which restarts its count).
 */
#include "server_rep.h"

#include "log.h"
#include "sio.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAULT_FILE "faults"
/* A clock step larger than a day is a typo, not an NTP step. */
#define FAULT_CLOCK_OFFSET_MS_MAX (86400LL * 1000)

struct disk_rule {
    bool on;
    uint64_t nth, count;
    int err;
};

/* A delay or a rate above this is a typo, not a link. */
#define FAULT_NUMBER_MAX 10000000ul

/* The fault file names member ids below this (a test seam: tests add a few members). */
#define FAULT_IDS_MAX 64u

struct fault_set {
    bool to[FAULT_IDS_MAX];
    bool from[FAULT_IDS_MAX];
    uint32_t delay_ms[FAULT_IDS_MAX];
    uint32_t rate_kbps[FAULT_IDS_MAX];
    struct disk_rule disk[SIO_CALL_KINDS];
    int64_t clock_offset_ms;
};

struct server_faults {
    struct sio_faults *disk;
    struct disk_rule rules[SIO_CALL_KINDS]; /* as last set */
    int64_t clock_offset_ms;                /* as last set */
    struct event *ev;
    char path[PATH_MAX];
    char text[512]; /* what was last applied */
};

static const struct {
    const char *name;
    int err;
} errno_names[] = {
    {"EIO", EIO}, {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}, {"EROFS", EROFS}, {"EMFILE", EMFILE},
};

/* "sync:3:EIO" or "write:1:ENOSPC:2" into rules[call]; false on anything else. */
static bool parse_disk_rule(char *spec, struct disk_rule *rules)
{
    char *save = NULL, *call = strtok_r(spec, ":", &save), *nth = strtok_r(NULL, ":", &save),
         *err = strtok_r(NULL, ":", &save), *count = strtok_r(NULL, ":", &save);
    enum sio_call c;
    if (!call || !nth || !err || strtok_r(NULL, ":", &save) || !sio_call_parse(call, &c))
        return false;
    struct disk_rule r = {.on = true};
    char *end;
    r.nth = strtoull(nth, &end, 10);
    if (*end || r.nth == 0)
        return false;
    if (count) {
        r.count = strtoull(count, &end, 10);
        if (*end || r.count == 0)
            return false;
    }
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
        if (strcmp(err, errno_names[i].name) == 0)
            r.err = errno_names[i].err;
    if (r.err == 0 || rules[c].on)
        return false;
    rules[c] = r;
    return true;
}

/* Parses "1,2" into set; false on anything else. */
static bool parse_ids(const char *list, uint32_t count, bool *set)
{
    while (*list) {
        char *end;
        unsigned long id = strtoul(list, &end, 10);
        if (end == list || id >= count || (*end && *end != ','))
            return false;
        set[id] = true;
        list = *end ? end + 1 : end;
    }
    return true;
}

/* "-30000" into *ms, within a day either way; false on anything else. */
static bool parse_clock_offset(const char *text, int64_t *ms)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end || errno || v < -FAULT_CLOCK_OFFSET_MS_MAX ||
        v > FAULT_CLOCK_OFFSET_MS_MAX)
        return false;
    *ms = v;
    return true;
}

/* Parses "1:20,2:30" into values; false on anything else. */
static bool parse_pairs(const char *list, uint32_t count, uint32_t *values)
{
    while (*list) {
        char *end;
        unsigned long id = strtoul(list, &end, 10);
        if (end == list || id >= count || *end != ':')
            return false;
        const char *num = end + 1;
        unsigned long v = strtoul(num, &end, 10);
        if (end == num || v > FAULT_NUMBER_MAX || (*end && *end != ','))
            return false;
        values[id] = (uint32_t)v;
        list = *end ? end + 1 : end;
    }
    return true;
}

static bool parse_faults(char *text, uint32_t count, struct fault_set *out)
{
    memset(out, 0, sizeof *out);
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (strncmp(line, "clock_offset_ms=", 16) == 0) {
            if (!parse_clock_offset(line + 16, &out->clock_offset_ms))
                return false;
        } else if (strncmp(line, "drop_to=", 8) == 0) {
            if (!parse_ids(line + 8, count, out->to))
                return false;
        } else if (strncmp(line, "drop_from=", 10) == 0) {
            if (!parse_ids(line + 10, count, out->from))
                return false;
        } else if (strncmp(line, "disk_fail=", 10) == 0) {
            if (!parse_disk_rule(line + 10, out->disk))
                return false;
        } else if (strncmp(line, "delay_ms=", 9) == 0) {
            if (!parse_pairs(line + 9, count, out->delay_ms))
                return false;
        } else if (strncmp(line, "rate_kbps=", 10) == 0) {
            if (!parse_pairs(line + 10, count, out->rate_kbps))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

/* The file's text ("" when missing); false when it is too long to be ours. */
static bool read_faults(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    buf[0] = '\0';
    if (!f)
        return true;
    size_t n = fread(buf, 1, size - 1, f);
    bool whole = feof(f) || fgetc(f) == EOF;
    fclose(f);
    buf[n] = '\0';
    return whole && strlen(buf) == n;
}

/* Sets the disk rules that changed (a rule set again restarts its count). */
static void apply_disk(struct server_faults *f, const struct disk_rule *rules)
{
    for (int c = 0; c < SIO_CALL_KINDS; c++) {
        const struct disk_rule *r = &rules[c];
        if (memcmp(r, &f->rules[c], sizeof *r) == 0)
            continue;
        f->rules[c] = *r;
        if (r->on)
            sio_faults_set(f->disk, (enum sio_call)c, r->nth, r->count, r->err);
        else
            sio_faults_clear(f->disk, (enum sio_call)c);
        if (r->on)
            log_warn("fault injection: %s calls %llu..%s fail with %s",
                     sio_call_name((enum sio_call)c), (unsigned long long)r->nth,
                     r->count ? "(count given)" : "", strerror(r->err));
        else
            log_warn("fault injection: %s calls work again", sio_call_name((enum sio_call)c));
    }
}

static void apply_clock(struct server_faults *f, int64_t offset_ms)
{
    if (offset_ms == f->clock_offset_ms)
        return;
    f->clock_offset_ms = offset_ms;
    server_wall_offset_set(offset_ms * 1000);
    log_warn("fault injection: the wall clock reads %lld ms off", (long long)offset_ms);
}

/* Appends "id:value" for each shaped peer to buf. */
static void describe_pairs(const uint32_t *values, uint32_t count, uint32_t self, char *buf,
                           size_t size)
{
    for (uint32_t i = 0; i < count; i++)
        if (i != self && values[i])
            snprintf(buf + strlen(buf), size - strlen(buf), "%s%u:%u", buf[0] ? "," : "", i,
                     values[i]);
}

static void apply_drops(struct server_node *n, const struct fault_set *fs)
{
    uint32_t self = n->cfg->instance_index;
    char to[64] = "", from[64] = "", delay[160] = "", rate[160] = "";
    for (uint32_t i = 0; i < FAULT_IDS_MAX; i++) {
        bool t = fs->to[i] && i != self, f = fs->from[i] && i != self;
        if (i != self) {
            cluster_transport_drop(n->rep->tp, i, t, f);
            cluster_transport_shape(n->rep->tp, i, fs->delay_ms[i], fs->rate_kbps[i]);
        }
        if (t)
            snprintf(to + strlen(to), sizeof to - strlen(to), "%s%u", to[0] ? "," : "", i);
        if (f)
            snprintf(from + strlen(from), sizeof from - strlen(from), "%s%u", from[0] ? "," : "",
                     i);
    }
    describe_pairs(fs->delay_ms, FAULT_IDS_MAX, self, delay, sizeof delay);
    describe_pairs(fs->rate_kbps, FAULT_IDS_MAX, self, rate, sizeof rate);
    log_warn("fault injection: dropping to [%s], from [%s]; delay_ms [%s], rate_kbps [%s]", to,
             from, delay, rate);
}

/* Reads the file; applies it when it changed (drops only once the cluster exists). */
static void poll_faults(int fd, short what, void *arg)
{
    struct server_node *n = arg;
    struct server_faults *f = n->faults;
    (void)fd;
    (void)what;
    char text[sizeof f->text];
    bool ok = read_faults(f->path, text, sizeof text);
    if (strcmp(text, f->text) == 0)
        return;
    struct fault_set fs;
    char scratch[sizeof text]; /* parse_faults cuts its text into lines */
    snprintf(scratch, sizeof scratch, "%s", text);
    if (!ok || !parse_faults(scratch, FAULT_IDS_MAX, &fs)) {
        snprintf(f->text, sizeof f->text, "%s", text);
        log_warn("fault injection: %s does not parse; faults unchanged", f->path);
        return;
    }
    apply_disk(f, fs.disk);
    apply_clock(f, fs.clock_offset_ms);
    if (n->cfg->mode == SERVER_MODE_REPLICATED && !n->rep)
        return; /* before the cluster exists: the drops wait for the first poll after */
    snprintf(f->text, sizeof f->text, "%s", text);
    if (n->rep)
        apply_drops(n, &fs);
}

int server_faults_open(struct server_node *n)
{
    struct server_faults *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    n->faults = f;
    f->disk = sio_faults_new(sio_default());
    if (!f->disk ||
        snprintf(f->path, sizeof f->path, "%s/" FAULT_FILE, n->cfg->data_dir) >= (int)sizeof f->path)
        return -1;
    n->io = sio_faults_io(f->disk);
    log_warn("fault injection is on: obeying %s", f->path);
    poll_faults(-1, 0, n); /* disk faults before the log opens */
    return 0;
}

int server_faults_start(struct server_node *n)
{
    struct server_faults *f = n->faults;
    uint32_t ms = n->cfg->heartbeat_interval_ms / 2 ? n->cfg->heartbeat_interval_ms / 2 : 1;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    f->ev = event_new(n->base, -1, EV_PERSIST, poll_faults, n);
    return f->ev && event_add(f->ev, &tv) == 0 ? 0 : -1;
}

void server_faults_close(struct server_node *n)
{
    struct server_faults *f = n->faults;
    if (!f)
        return;
    if (f->ev)
        event_free(f->ev);
    n->io = sio_default();
    if (f->clock_offset_ms != 0)
        server_wall_offset_set(0);
    sio_faults_free(f->disk);
    free(f);
    n->faults = NULL;
}
