#!/bin/sh
# Stands in for /usr/bin/python3 when it is missing, so the interop tests fail loudly.
echo "interop: /usr/bin/python3 not found: install python3, python3-thrift and thrift-compiler (tools/deps)" >&2
exit 1
