#!/usr/bin/env bash
# tools/plot.sh DIR [RUNDIR...] — PNG plots of an evaluation (gnuplot).
#
#   DIR/learning_curves.png  meta_loss (and val_loss) against iter, from
#                            RUNDIR/metrics.jsonl of every RUNDIR given
#   DIR/gaps.png             per-method distribution (empirical CDF) of the
#                            per-instance optimality gap, from DIR/gaps.tsv
#   DIR/mse_by_step.png      query error against adaptation steps, from
#                            DIR/mse_by_step.tsv (scratch_long as a line)
#
# `metagrid eval` runs this itself when gnuplot is installed; it can also be
# run by hand. Exit 0 if every plot it had data for was made, 1 otherwise.
set -u
if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; [ $# -ge 1 ]; exit $?
fi
command -v gnuplot >/dev/null 2>&1 || { echo "plot.sh: gnuplot not found" >&2; exit 1; }
dir=$1; shift
tmp=$(mktemp -d /tmp/metagrid-plot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
term="pngcairo size 900,560 noenhanced font 'Sans,11'"
gnuplot -e "set terminal pngcairo" >/dev/null 2>&1 || term="png size 900,560 noenhanced"
rc=0
plot() { gnuplot -e "set terminal $term" "$1" 2>"$tmp/err" || { cat "$tmp/err" >&2; rc=1; }; }

# --- learning curves --------------------------------------------------------
cmds="" i=0
for run in "$@"; do
    [ -f "$run/metrics.jsonl" ] || continue
    i=$((i + 1))
    # label: the run's algo.name from config.yaml, else the directory name
    label=$(awk '/^algo:/{a=1;next} a&&/^ *name:/{print $2;exit} /^[a-z]/{a=0}' \
            "$run/config.yaml" 2>/dev/null)
    label="${label:-$(basename "$run")} ($(basename "$run"))"
    sed -n 's/.*"iter": *\([0-9]*\).*"meta_loss": *\([-0-9.eE+naif]*\).*/\1 \2/p' \
        "$run/metrics.jsonl" >"$tmp/lc$i"
    sed -n 's/.*"iter": *\([0-9]*\).*"val_loss": *\([-0-9.eE+naif]*\).*/\1 \2/p' \
        "$run/metrics.jsonl" >"$tmp/val$i"
    [ -s "$tmp/lc$i" ] || continue
    cmds="$cmds${cmds:+, }'$tmp/lc$i' using 1:2 with lines lw 2 title '$label meta_loss'"
    [ -s "$tmp/val$i" ] && cmds="$cmds, '$tmp/val$i' using 1:2 with linespoints pt 7 ps 0.6 title '$label val_loss'"
done
if [ -n "$cmds" ]; then
    cat >"$tmp/lc.gp" <<EOF
set output '$dir/learning_curves.png'
set title 'Meta-training: loss against meta-iteration'
set xlabel 'meta-iteration'
set ylabel 'meta-loss (query MSE after adaptation)'
set logscale y
set grid
set key top right
plot $cmds
EOF
    plot "$tmp/lc.gp"
fi

# --- gap distribution -------------------------------------------------------
if [ -s "$dir/gaps.tsv" ]; then
    ncol=$(head -n 1 "$dir/gaps.tsv" | awk -F'\t' '{print NF}')
    cmds=""
    for c in $(seq 1 "$ncol"); do
        name=$(head -n 1 "$dir/gaps.tsv" | cut -f "$c")
        [ "$name" = solver ] && continue  # zero by definition
        # sorted gaps in percent, floored at 1e-4 % for the log axis, with their ECDF
        tail -n +2 "$dir/gaps.tsv" | cut -f "$c" | awk '$1 != "nan" && $1 != "" {
            g = 100 * $1; if (g < 1e-4) g = 1e-4; print g }' | sort -g >"$tmp/g$c"
        n=$(wc -l <"$tmp/g$c")
        [ "$n" -gt 0 ] || continue
        awk -v n="$n" '{print $1, NR / n}' "$tmp/g$c" >"$tmp/e$c"
        cmds="$cmds${cmds:+, }'$tmp/e$c' using 1:2 with steps lw 2 title '$name'"
    done
    if [ -n "$cmds" ]; then
        cat >"$tmp/gap.gp" <<EOF
set output '$dir/gaps.png'
set title 'Optimality gap of the final (repaired) allocation, all query instances'
set xlabel 'relative gap to the GLPK optimum, % (log; values below 1e-4 % drawn at 1e-4 %)'
set ylabel 'fraction of instances with gap <= x'
set logscale x
set format x '%g'
set yrange [0:1.02]
set grid
set key bottom right
set arrow from 0.5, graph 0 to 0.5, graph 1 nohead dt 2 lc rgb 'gray40'
set arrow from 2, graph 0 to 2, graph 1 nohead dt 3 lc rgb 'gray40'
set label '0.5 %' at 0.5, graph 0.97 offset 0.5,0 tc rgb 'gray40'
set label '2 %' at 2, graph 0.92 offset 0.5,0 tc rgb 'gray40'
plot $cmds
EOF
        plot "$tmp/gap.gp"
    fi
fi

# --- error against adaptation steps -----------------------------------------
if [ -s "$dir/mse_by_step.tsv" ]; then
    hdr=$(head -n 1 "$dir/mse_by_step.tsv")
    ncol=$(echo "$hdr" | awk -F'\t' '{print NF}')
    # x range: the longest curve other than scratch_long
    xmax=0 cmds=""
    for c in $(seq 2 "$ncol"); do
        name=$(echo "$hdr" | cut -f "$c")
        len=$(tail -n +2 "$dir/mse_by_step.tsv" | cut -f "$c" | grep -c .)
        if [ "$name" = scratch_long ]; then
            last=$(tail -n +2 "$dir/mse_by_step.tsv" | cut -f "$c" | grep . | tail -n 1)
            cmds="$cmds${cmds:+, }$last with lines dt 2 lw 2 title 'scratch_long after $((len - 1)) steps'"
            continue
        fi
        [ "$len" -gt $((xmax + 1)) ] && xmax=$((len - 1))
        cmds="$cmds${cmds:+, }'$dir/mse_by_step.tsv' using 1:(valid($c) ? column($c) : 1/0) with linespoints lw 2 pt 7 ps 0.7 title '$name'"
    done
    [ "$xmax" -gt 0 ] || xmax=1
    # whole steps only (ticks 0, 1, ... up to 20 steps; then every 5, 10, ...),
    # a margin so the end points are not on the frame, the key below the plot
    # so it never covers a curve
    if [ "$xmax" -le 20 ]; then xtics="set xtics 0, 1, $xmax"
    else xtics="set xtics 0, $(( (xmax + 9) / 10 / 5 * 5 > 0 ? (xmax + 9) / 10 / 5 * 5 : 5 ))"; fi
    # a log scale only when the errors span more than a decade (else the axis
    # would show one or two labels)
    span=$(tail -n +2 "$dir/mse_by_step.tsv" | awk -F'\t' '{for (i = 2; i <= NF; i++) if ($i != "" && $i + 0 > 0) {
        if (lo == "" || $i + 0 < lo) lo = $i + 0; if ($i + 0 > hi) hi = $i + 0 }}
        END {print (lo > 0 && hi / lo > 10) ? "log" : "lin"}')
    ylog="set logscale y"; [ "$span" = log ] || ylog="unset logscale y"
    if [ -n "$cmds" ]; then
        cat >"$tmp/steps.gp" <<EOF
set output '$dir/mse_by_step.png'
set title 'Query error against adaptation steps (mean over held-out tasks)'
set xlabel 'adaptation steps on the K support examples'
set ylabel 'query MSE'
set datafile separator tab
set datafile missing ''
set key autotitle columnhead
$ylog
set xrange [-0.05 * $xmax : 1.05 * $xmax]
$xtics
set format x '%.0f'
set grid
set key below horizontal maxrows 3 samplen 2
plot $cmds
EOF
        plot "$tmp/steps.gp"
    fi
fi
exit $rc
