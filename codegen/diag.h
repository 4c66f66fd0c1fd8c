/* diag.h: error messages as file:line:col, and allocation that never returns NULL. */
#ifndef CODEGEN_DIAG_H
#define CODEGEN_DIAG_H

#include <stddef.h>

typedef struct srcpos {
    const char *file;
    int line, col;
} srcpos;

/* Prints "file:line:col: message" on stderr and counts the error. */
void diag_error(srcpos pos, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like diag_error, then exits with status 1: for errors the parser cannot recover from. */
_Noreturn void diag_fatal(srcpos pos, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int diag_error_count(void);

/* The compiler is a short-lived tool: everything it allocates lives in one arena, freed at
 * exit, so that memory checkers see no leak. Out of memory exits with status 1. */
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);
/* Grows *items (of *count elements of size bytes) by one zeroed element and returns it. */
void *xpush(void *items_ptr, int *count, size_t size);
void arena_free_all(void);

#endif
