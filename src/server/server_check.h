/* server_check.h: checks of a decoded client request before its handler runs. */
#ifndef SERVER_CHECK_H
#define SERVER_CHECK_H

#include "server_request.h"

#include <stddef.h>

/* 0, or ErrorCode_INVALID_ARGUMENT with a message naming the field in text (an enum field
   holding a value the IDL does not name). */
int server_check_request(const struct server_request *req, char *text, size_t size);
/* Answers req (one server_check_request refused) with INVALID_ARGUMENT and text. */
void server_answer_invalid(struct server_request *req, const char *text);

#endif
