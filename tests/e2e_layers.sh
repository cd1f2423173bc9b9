#!/usr/bin/env bash
# e2e_layers.sh — `make check-layers` passes on the tree and fails on an
# upward include, a sibling include, a header of no layer and config.h in
# the config-free layers (dist, lp, nn).
cd "$(dirname "$0")/.." && . tests/lib.sh
check "tree obeys the layers" bash tools/check_layers.sh
quiet() { "$@" >/dev/null; }
copy() { rm -rf "$TMP/t"; mkdir -p "$TMP/t"; cp -r src include "$TMP/t/"; }
copy; sed -i '1i #include "metagrid/train.h"' "$TMP/t/src/nn/mlp.c"
check_rc 1 "nn including exp is refused" quiet bash tools/check_layers.sh "$TMP/t"
copy; sed -i '1i #include "metagrid/lp.h"' "$TMP/t/src/nn/kernels.c"
check_rc 1 "sibling include (nn -> lp) is refused" quiet bash tools/check_layers.sh "$TMP/t"
copy; sed -i '1i #include "metagrid/eval.h"' "$TMP/t/include/metagrid/rng.h"
check_rc 1 "a public header including upwards is refused" quiet bash tools/check_layers.sh "$TMP/t"
copy; sed -i '1i #include "metagrid/nowhere.h"' "$TMP/t/src/core/rng.c"
check_rc 1 "a header of no layer is refused" quiet bash tools/check_layers.sh "$TMP/t"
copy; sed -i '1i #include "metagrid/config.h"' "$TMP/t/include/metagrid/mlp.h"
check_rc 1 "nn including config.h is refused" quiet bash tools/check_layers.sh "$TMP/t"
copy; sed -i '1i #include "metagrid/config.h"' "$TMP/t/src/lp/alloc.c"
check_rc 1 "lp including config.h is refused" quiet bash tools/check_layers.sh "$TMP/t"
copy; sed -i '1i #include "metagrid/mlp.h"' "$TMP/t/src/exp/train.c"
check "a downward include is accepted" quiet bash tools/check_layers.sh "$TMP/t"
check "the message names the file and both layers" \
    bash -c "copy() { :; }; sed -i '1i #include \"metagrid/train.h\"' '$TMP/t/src/nn/adam.c'; bash tools/check_layers.sh '$TMP/t' | grep -q 'src/nn/adam.c: layer nn (rank 1) includes metagrid/train.h of layer exp'"
report
