#!/usr/bin/env bash
# e2e_inspect.sh — checkpoints end to end: `inspect` on a trained run agrees
# with the run (iter, algo, parameter count and norm), the previous checkpoint
# is kept, and a truncated, corrupted, other-version or foreign checkpoint is
# refused by `inspect` and by `train --resume` with exit 2 and one message,
# leaving the files untouched.
cd "$(dirname "$0")/.." && source tests/lib.sh

TINY=(--set task.family=uniform --set task.n_demand=3 --set task.n_supply=2
      --set model.hidden=[8] --set algo.name=metasgd --set algo.inner_steps=2
      --set task.k_support=4 --set task.k_query=4 --set train.meta_batch=4
      --set train.iterations=6 --set train.checkpoint_every=4 --set train.log_every=2)
one_error() { # want_rc cmd...: exits want_rc with exactly one "metagrid:" line on stderr
    local want=$1; shift
    "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
    [ "$rc" = "$want" ] && [ "$(grep -c '^metagrid:' "$TMP/err")" = 1 ] || { echo "rc=$rc"; cat "$TMP/err"; return 1; }
}

to() { local f=$1; shift; "$@" >"$f"; } # to FILE CMD...: CMD's stdout into FILE
check "train --help" to /dev/null "$METAGRID" train --help
check "train a tiny run" "$METAGRID" train configs/seed.yaml "${TINY[@]}" --out "$TMP/run"
ck=$TMP/run/checkpoint.bin
check "inspect exits 0" to "$TMP/h.json" "$METAGRID" inspect "$ck"
check "inspect --params exits 0" to "$TMP/p.json" "$METAGRID" inspect --params "$ck"
check "inspect --help exits 0" to /dev/null "$METAGRID" inspect --help
check "one JSON object, consistent with the run" python3 - "$TMP/h.json" "$TMP/p.json" <<'PY'
import json, math, re, sys
h, p = (open(f).read() for f in sys.argv[1:3])
assert h.count("\n") == 1 and p.count("\n") == 1, "one line each"
h, p = json.loads(h), json.loads(p)
assert h["iter"] == 6 and h["algo"] == "metasgd" and h["version"] == 1, h
assert re.fullmatch(r"[0-9a-f]{8}", h["config_hash"]), h
assert isinstance(h["adam_t"], int) and h["wall_s"] >= 0, h
assert isinstance(h["n_params"], int) and h["n_params"] > 8, h
assert "params" not in h
ps = p.pop("params")
assert p == h, (p, h)
assert len(ps) == h["n_params"] and all(isinstance(x, float) or isinstance(x, int) for x in ps)
l2 = math.sqrt(sum(x * x for x in ps))
assert abs(l2 - h["param_l2"]) <= 1e-12 * l2, (l2, h["param_l2"])
PY
check "the previous checkpoint is kept (iter 4)" python3 -c '
import json, subprocess, sys
h = json.loads(subprocess.check_output([sys.argv[1], "inspect", sys.argv[2]]))
assert h["iter"] == 4, h' "$METAGRID" "$TMP/run/checkpoint.prev.bin"
check "no temporary left behind" test ! -e "$TMP/run/checkpoint.bin.tmp"

# Damaged copies of the checkpoint.
python3 - "$ck" "$TMP" <<'PY'
import struct, sys, zlib
src, tmp = sys.argv[1:3]
b = bytearray(open(src, "rb").read())
def put(name, data): open(f"{tmp}/{name}", "wb").write(data)
put("truncated", b[: len(b) - 9])
put("header_only", b[:40])
put("empty", b"")
f = bytearray(b); f[len(b) // 2] ^= 0x01; put("flipped", f)
v = bytearray(b); v[8:12] = struct.pack("<I", 2); v[-4:] = struct.pack("<I", zlib.crc32(bytes(v[:-4]))); put("version2", v)
put("foreign", b"seed: 1\n" * 20)
PY
declare -A WANT=([truncated]="truncated checkpoint" [header_only]="truncated checkpoint"
                 [empty]="truncated checkpoint" [flipped]="checksum mismatch"
                 [version2]="checkpoint version 2, this metagrid reads version 1"
                 [foreign]="not a metagrid checkpoint")
snap() { (cd "$1" && find . -type f -exec sha1sum {} + | sort); }
for bad in truncated header_only empty flipped version2 foreign; do
    check "inspect refuses $bad (exit 2, one message)" one_error 2 "$METAGRID" inspect "$TMP/$bad"
    check "  names the file and the problem" grep -q "^metagrid: $TMP/$bad: ${WANT[$bad]}" "$TMP/err"
    check "  nothing on stdout" test ! -s "$TMP/out"
    rm -rf "$TMP/r_$bad" && cp -r "$TMP/run" "$TMP/r_$bad" && cp "$TMP/$bad" "$TMP/r_$bad/checkpoint.bin"
    before=$(snap "$TMP/r_$bad")
    check "train --resume refuses $bad (exit 2, one message)" one_error 2 \
        "$METAGRID" train configs/seed.yaml "${TINY[@]}" --set train.iterations=8 --out "$TMP/r_$bad" --resume
    check "  names the problem" grep -q "${WANT[$bad]}" "$TMP/err"
    check "  run dir untouched" test "$before" = "$(snap "$TMP/r_$bad")"
done
check "inspect of a missing file: exit 2" one_error 2 "$METAGRID" inspect "$TMP/nope.bin"
check "inspect without a file: exit 2" one_error 2 "$METAGRID" inspect
check "inspect with an unknown option: exit 2" one_error 2 "$METAGRID" inspect --bogus "$ck"
report
