/* test_powercut.c: kvtorture's power cut: a process writing files under the preloaded shim is
   SIGKILLed, and undoing its undo logs leaves exactly what it had synced (powercut_victim.c
   says what it writes). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "powercut.h"

static char dir[64], undo[96];

static void make_dirs(void)
{
    snprintf(dir, sizeof dir, "/tmp/kvt-powercut-XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(undo, sizeof undo, "%s.undo", dir);
    cr_assert_eq(mkdir(undo, 0700), 0);
}

static void remove_dirs(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, undo);
    cr_assert_eq(system(cmd), 0);
}

/* Runs the victim under the shim; it must die of its own SIGKILL. */
static void run_victim(void)
{
    const char *victim = getenv("POWERCUT_VICTIM"), *shim = getenv("KVT_POWERCUT_LIB");
    cr_assert(victim && shim, "meson sets POWERCUT_VICTIM and KVT_POWERCUT_LIB");
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setenv("LD_PRELOAD", shim, 1);
        setenv(KVT_POWERCUT_ENV_DIR, dir, 1);
        setenv(KVT_POWERCUT_ENV_UNDO, undo, 1);
        setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 0);
        execl(victim, "powercut_victim", dir, (char *)NULL);
        _exit(127);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "victim status %d", status);
}

/* The file's bytes as a run-length string, e.g. "F5A45B150". */
static void shape(const char *name, char *out, size_t size)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    out[0] = '\0';
    int c, last = EOF;
    unsigned run = 0;
    while ((c = fgetc(f)) != EOF || run > 0) {
        if (c == last) {
            run++;
            continue;
        }
        if (run > 0)
            snprintf(out + strlen(out), size - strlen(out), "%c%u", last, run);
        last = c;
        run = c == EOF ? 0 : 1;
        if (c == EOF)
            break;
    }
    fclose(f);
}

Test(powercut, a_cut_keeps_what_was_synced_and_nothing_else)
{
    make_dirs();
    run_victim();
    char s[128];
    shape("a", s, sizeof s);
    cr_assert_str_eq(s, "F5A45B145G5", "the shim changed what the process wrote");
    shape("b", s, sizeof s);
    cr_assert_str_eq(s, "C10D30C20");
    struct kvt_powercut_stats st = {0};
    cr_assert_eq(kvt_powercut_undo(dir, undo, &st, stderr), 0);
    shape("a", s, sizeof s);
    cr_assert_str_eq(s, "F5A45B150", "a: the unsynced G is gone, what fdatasync covered stays");
    shape("b", s, sizeof s);
    cr_assert_str_eq(s, "C60", "b: the unsynced D is gone, the truncation stays");
    shape("c", s, sizeof s);
    cr_assert_str_eq(s, "E10", "c: synced and renamed into place");
    cr_assert_eq(st.files, 2);
    cr_assert_eq(st.bytes, 35u);
    cr_assert_eq(rmdir(undo), 0, "the undo logs are gone");
    mkdir(undo, 0700);
    remove_dirs();
}

Test(powercut, an_undo_dir_the_shim_cannot_write_changes_nothing_the_process_sees)
{
    make_dirs();
    snprintf(undo, sizeof undo, "%s/none", dir);
    run_victim();
    char s[128];
    shape("a", s, sizeof s);
    cr_assert_str_eq(s, "F5A45B145G5");
    struct stat st;
    cr_assert_neq(stat(undo, &st), 0, "no undo dir was made or written");
    snprintf(undo, sizeof undo, "%s.undo", dir);
    remove_dirs();
}
