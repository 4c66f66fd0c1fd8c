#!/bin/sh
# symbols.sh NM LIB HEADER: every global symbol the consensus library defines is either part of
# its public header (consensus_*, declared in HEADER) or carries the core's private prefix
# (cons_). Anything else could clash with another module's names at link time.
nm_prog=$1 lib=$2 header=$3
syms=$("$nm_prog" -g --defined-only "$lib" | awk 'NF == 3 && $3 !~ /^(__|\.)/ { print $3 }' | sort -u)
if [ -z "$syms" ]; then
    echo "symbols: no symbols read from $lib: cannot check" >&2
    exit 1
fi
bad=0
for s in $syms; do
    case $s in
    cons_*) ;;
    consensus_*)
        if ! grep -q "\\b$s\\b" "$header"; then
            echo "symbols: $s is not declared in $(basename "$header"): name it cons_*" >&2
            bad=1
        fi ;;
    *)
        echo "symbols: $s has no module prefix (cons_ for the core's own, consensus_ for its API)" >&2
        bad=1 ;;
    esac
done
[ $bad -eq 0 ] && echo "symbols: $(echo "$syms" | wc -l) global symbols, all prefixed"
exit $bad
