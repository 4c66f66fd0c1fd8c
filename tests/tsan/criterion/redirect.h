/* redirect.h stand-in for ThreadSanitizer builds: stderr into a file the test reads back. */
#ifndef CR_SHIM_REDIRECT_H
#define CR_SHIM_REDIRECT_H

#include <stdio.h>

void cr_redirect_stderr(void);
FILE *cr_get_redirected_stderr(void);

#endif
