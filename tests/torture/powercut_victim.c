/* powercut_victim.c: a process for test_powercut to cut the power of: it writes files in
   DIR the ways kvnode does (pwrite, write, writev, O_TRUNC, ftruncate, fsync, fdatasync, a
   file renamed into place), some synced and some not, then SIGKILLs itself.
     powercut_victim DIR   (run with the shim preloaded) */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static void fill(char *buf, char c, size_t n) { memset(buf, c, n); }

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    char path[512], tmp[512], buf[4096];
    int dir = open(argv[1], O_RDONLY | O_DIRECTORY);
    /* a: 100 x 'A' synced; then overwritten at 0 and extended, unsynced */
    int a = openat(dir, "a", O_RDWR | O_CREAT | O_TRUNC, 0644);
    fill(buf, 'A', 100);
    if (pwrite(a, buf, 100, 0) != 100 || fdatasync(a) != 0)
        return 1;
    fill(buf, 'B', 150);
    if (pwrite(a, buf, 150, 50) != 150)
        return 1;
    /* b: written with write(2) and writev(2), synced, then truncated (durable at once) and
       written again, unsynced */
    snprintf(path, sizeof path, "%s/b", argv[1]);
    int b = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    fill(buf, 'C', 40);
    struct iovec iov[2] = {{buf, 20}, {buf + 20, 20}};
    if (write(b, buf, 40) != 40 || writev(b, iov, 2) != 40 || fsync(b) != 0)
        return 1;
    if (ftruncate(b, 60) != 0)
        return 1;
    fill(buf, 'D', 30);
    if (pwrite(b, buf, 30, 10) != 30)
        return 1;
    /* c: written to a temp file, synced, renamed into place: all of it stays */
    snprintf(tmp, sizeof tmp, "%s/c.tmp", argv[1]);
    snprintf(path, sizeof path, "%s/c", argv[1]);
    int c = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    fill(buf, 'E', 10);
    if (write(c, buf, 10) != 10 || fsync(c) != 0 || rename(tmp, path) != 0)
        return 1;
    /* a: a sync through a second descriptor covers what came before it */
    int a2 = openat(dir, "a", O_WRONLY);
    fill(buf, 'F', 5);
    if (pwrite(a2, buf, 5, 0) != 5 || fdatasync(a2) != 0)
        return 1;
    fill(buf, 'G', 5);
    if (pwrite(a, buf, 5, 195) != 5)
        return 1;
    kill(getpid(), SIGKILL);
    return 1;
}
