#!/usr/bin/env bash
# tools/check_layers.sh [ROOT] — `make check-layers`: fail when a source file
# or public header includes a header of a layer above its own.
#
# The layers, bottom to top (README: Architecture). A file may include the
# headers of its own layer and of any layer of a lower rank; layers of the
# same rank are siblings and may not include each other.
#   0 core   common, rng, xsum, config, ckpt: no MPI, no numerics beyond them
#   1 dist   the MPI layer and the cross-rank timers
#   1 lp     GLPK solves, allocations, repair, certificates
#   1 nn     kernels, the MLP, Adam
#   2 tasks  task families: instances and their exact targets
#   3 meta   the meta-learners, the gate, the inference policy
#   4 exp    training, evaluation, sweeps, benchmarks
#   5 cli    main and the subcommands (the only layer that prints and exits)
# A header belongs to the layer of the source file with its name
# (include/metagrid/X.h <-> src/LAYER/X.c), else to the table below.
# The rank-1 layers (dist, lp, nn) do not include config.h either: they take
# plain parameters, and the layers above map the config onto them.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2
declare -A rank=([core]=0 [dist]=1 [lp]=1 [nn]=1 [tasks]=2 [meta]=3 [exp]=4 [cli]=5)
declare -A config_free=([dist]=1 [lp]=1 [nn]=1)
declare -A layer_of=([cert]=lp [cmd]=cli [bench]=exp [region]=tasks [config_internal]=core)
for d in src/*/; do
    l=${d%/}; l=${l##*/}
    if [ -z "${rank[$l]+x}" ]; then echo "check-layers: $d is not a known layer (tools/check_layers.sh)"; exit 1; fi
    for f in "$d"*.c "$d"*.h; do
        [ -e "$f" ] || continue
        m=${f##*/}; m=${m%.*}
        layer_of[$m]=$l
    done
done
bad=0
check() { # file layer
    local f=$1 l=$2 inc h hl
    while IFS= read -r inc; do
        h=${inc##*/}; h=${h%.h}
        hl=${layer_of[$h]:-}
        if [ -z "$hl" ]; then
            echo "$f: includes $inc, a header of no layer (add it to tools/check_layers.sh)"; bad=1
        elif [ "$h" = config ] && [ -n "${config_free[$l]:-}" ]; then
            echo "$f: layer $l includes $inc (pass it plain parameters instead)"; bad=1
        elif [ "$hl" != "$l" ] && [ "${rank[$hl]}" -ge "${rank[$l]}" ]; then
            echo "$f: layer $l (rank ${rank[$l]}) includes $inc of layer $hl (rank ${rank[$hl]})"; bad=1
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
}
for f in src/*/*.c src/*/*.h; do
    d=${f%/*}; [ -e "$f" ] && check "$f" "${d##*/}"
done
for f in include/metagrid/*.h; do
    m=${f##*/}; m=${m%.h}
    l=${layer_of[$m]:-}
    if [ -z "$l" ]; then echo "$f: a header of no layer (add it to tools/check_layers.sh)"; bad=1; continue; fi
    check "$f" "$l"
done
if [ $bad = 0 ]; then echo "check-layers: ok ($(ls src/*/*.c | wc -l) sources, $(ls include/metagrid/*.h | wc -l) headers)"; fi
exit $bad
