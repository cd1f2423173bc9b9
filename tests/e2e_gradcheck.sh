#!/usr/bin/env bash
# e2e_gradcheck.sh — `metagrid gradcheck` on small networks: every algorithm
# (maml, fomaml, metasgd, gated sgd/adam, pretrain) against finite
# differences, for the sinusoid (linear head) and uniform (allocation head,
# mse and xent losses; price head, mse and lagrangian losses, and anchored
# on the nearest support hour's prices) families, relu
# and tanh, 3 inner steps; --dump recomputed independently in plain Python
# (linear head, allocation head and price head with each of their losses);
# usage errors.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

small_sin="--set model.hidden=[8,8] --set algo.inner_steps=3 --set task.k_support=5 --set task.k_query=6"
small_uni="--set task.family=uniform --set task.n_demand=3 --set task.n_supply=2 \
 --set model.hidden=[6,5] --set algo.inner_steps=3 --set task.k_support=4 --set task.k_query=4"

gc() { local out=$1; shift; "$METAGRID" gradcheck "$@" >"$out"; } # gc OUT ARGS...

# every line ok, and all six algorithms present
gc_ok() { # out-file
    [ "$(grep -c '"ok":true' "$1")" = 6 ] && ! grep -q '"ok":false' "$1" &&
    for a in maml fomaml metasgd pretrain; do grep -q "\"algo\":\"$a\"" "$1" || return 1; done &&
    grep -q '"base":"sgd"' "$1" && grep -q '"base":"adam"' "$1"
}

for act in relu tanh; do
    # shellcheck disable=SC2086
    check_rc 0 "gradcheck sinusoid $act" gc "$TMP/sin_$act.out" configs/sinusoid.yaml $small_sin \
        --set model.activation=$act
    check "gradcheck sinusoid $act: six algorithms ok" gc_ok "$TMP/sin_$act.out"
    # shellcheck disable=SC2086
    check_rc 0 "gradcheck uniform $act" gc "$TMP/uni_$act.out" configs/sinusoid.yaml $small_uni \
        --set model.activation=$act
    check "gradcheck uniform $act: six algorithms ok" gc_ok "$TMP/uni_$act.out"
    # shellcheck disable=SC2086
    check_rc 0 "gradcheck uniform xent $act" gc "$TMP/unix_$act.out" configs/sinusoid.yaml \
        $small_uni --set model.activation=$act --set model.loss=xent
    check "gradcheck uniform xent $act: six algorithms ok" gc_ok "$TMP/unix_$act.out"
    for loss in mse lagrangian inner_mse anchor; do # the price head
        lossargs="--set model.loss=$loss"
        [ $loss = inner_mse ] && lossargs="--set model.loss=lagrangian --set model.inner_loss=mse"
        [ $loss = anchor ] && lossargs="--set model.loss=mse --set model.anchor=nearest"
        # shellcheck disable=SC2086
        check_rc 0 "gradcheck uniform prices $loss $act" gc "$TMP/unip_${loss}_$act.out" \
            configs/sinusoid.yaml $small_uni --set model.activation=$act --set model.head=prices \
            $lossargs
        check "gradcheck uniform prices $loss $act: six algorithms ok" gc_ok "$TMP/unip_${loss}_$act.out"
    done
done
# the price head needs an LP family; each loss needs its head
check_rc 2 "gradcheck sinusoid prices refused" "$METAGRID" gradcheck configs/sinusoid.yaml \
    --set model.head=prices 2>"$TMP/err"
check "prices refusal message" grep -q '^metagrid: .*model.head: prices needs an LP family' "$TMP/err"
check_rc 2 "gradcheck prices xent refused" "$METAGRID" gradcheck configs/sinusoid.yaml \
    $small_uni --set model.head=prices --set model.loss=xent 2>"$TMP/err"
check "prices xent refusal message" grep -q '^metagrid: --set: model.loss: xent is a loss of the alloc head' "$TMP/err"
check_rc 2 "gradcheck alloc lagrangian refused" "$METAGRID" gradcheck configs/sinusoid.yaml \
    $small_uni --set model.loss=lagrangian 2>"$TMP/err"
check "alloc lagrangian refusal message" grep -q '^metagrid: --set: model.loss: lagrangian is a loss of the prices head' "$TMP/err"
check_rc 2 "gradcheck alloc anchor refused" "$METAGRID" gradcheck configs/sinusoid.yaml \
    $small_uni --set model.anchor=nearest 2>"$TMP/err"
check "alloc anchor refusal message" grep -q '^metagrid: --set: model.anchor: an anchor needs the prices head' "$TMP/err"
# xent needs the allocation head
check_rc 2 "gradcheck sinusoid xent refused" "$METAGRID" gradcheck configs/sinusoid.yaml \
    --set model.loss=xent 2>"$TMP/err"
check "xent refusal message" grep -q '^metagrid: .*model.loss: xent needs an LP family' "$TMP/err"

# a tolerance nobody can meet must fail (the check can fail)
# shellcheck disable=SC2086
check_rc 1 "gradcheck --tol 1e-30 fails" gc /dev/null configs/sinusoid.yaml $small_sin --tol 1e-30

# --dump: recompute the maml meta-loss and meta-gradient from the dump alone
# (plain Python: forward, backprop, T SGD steps, finite differences), for the
# linear head and for the allocation head with each loss
# shellcheck disable=SC2086
"$METAGRID" gradcheck configs/sinusoid.yaml $small_sin --set model.activation=tanh \
    --set algo.inner_steps=2 --dump "$TMP/dump.json" >/dev/null
for loss in mse xent; do
    # shellcheck disable=SC2086
    "$METAGRID" gradcheck configs/sinusoid.yaml $small_uni --set model.activation=tanh \
        --set algo.inner_steps=2 --set model.loss=$loss --dump "$TMP/dump_$loss.json" >/dev/null
done
for loss in mse lagrangian; do
    # shellcheck disable=SC2086
    "$METAGRID" gradcheck configs/sinusoid.yaml $small_uni --set model.activation=tanh \
        --set algo.inner_steps=2 --set model.head=prices --set model.loss=$loss \
        --set model.temperature=0.05 --dump "$TMP/dump_prices_$loss.json" >/dev/null
done
# shellcheck disable=SC2086
"$METAGRID" gradcheck configs/sinusoid.yaml $small_uni --set model.activation=tanh \
    --set algo.inner_steps=2 --set model.head=prices --set model.loss=lagrangian \
    --set model.inner_loss=mse --set model.temperature=0.05 \
    --dump "$TMP/dump_prices_lagrangian_inner_mse.json" >/dev/null
cat >"$TMP/recompute.py" <<'EOF'
import json, math, sys
d = json.load(open(sys.argv[1]))
sizes, act, loss_name = d["layers"], d["activation"], d["loss"]
m = d.get("group", 0)  # softmax group size of the allocation head (0: linear head)
prices = d["head"] == "prices"
assert act == "tanh" and (loss_name in ("mse", "lagrangian") if prices else
                          loss_name in ("mse", "xent") and (m > 0 or loss_name == "mse"))
assert (d["head"] == "allocation") == (m > 0)
L = len(sizes) - 1
inner_loss = d.get("inner_loss", loss_name)  # the inner loop's loss
def price_head(z, y, npts, loss_name):
    """the price head: lam = softplus(z); y = [lam*, opt, a, b, c] (m, 1, n, m, n*m)"""
    n, ms, t = d["n_demand"], d["n_supply"], d["temperature"]
    assert len(z) == ms and len(y) == 2 * ms + 1 + n + n * ms
    lam = [math.log1p(math.exp(v)) for v in z]
    sig = [1 / (1 + math.exp(-v)) for v in z]
    if loss_name == "mse":
        k = npts * ms
        return (sum((l - y[j]) ** 2 for j, l in enumerate(lam)) / k,
                [2 * (l - y[j]) / k * sig[j] for j, l in enumerate(lam)])
    opt, a, b, c = y[ms], y[ms + 1:ms + 1 + n], y[ms + 1 + n:2 * ms + 1 + n], y[2 * ms + 1 + n:]
    g, dl = -sum(bj * l for bj, l in zip(b, lam)), list(b)
    for i in range(n):
        v = [c[i * ms + j] + lam[j] for j in range(ms)]
        w = [math.exp(-(x - min(v)) / t) for x in v]
        g += a[i] * (min(v) - t * math.log(sum(w)))
        for j in range(ms): dl[j] -= a[i] * w[j] / sum(w)
    return (opt - g) / npts, [dl[j] / npts * sig[j] for j in range(ms)]
def head(z, y, npts, loss_name):
    """loss contribution of one point and dL/dz (own softmax, chain rule)"""
    if prices:
        return price_head(z, y, npts, loss_name)
    if not m:
        n = npts * len(z)
        return sum((o - t) ** 2 for o, t in zip(z, y)) / n, [2 * (o - t) / n for o, t in zip(z, y)]
    p = []
    for g in range(0, len(z), m):
        e = [math.exp(v - max(z[g:g + m])) for v in z[g:g + m]]
        p += [v / sum(e) for v in e]
    if loss_name == "mse":
        n = npts * len(z)
        loss, dp = sum((a - t) ** 2 for a, t in zip(p, y)) / n, [2 * (a - t) / n for a, t in zip(p, y)]
    else:
        rows = npts * len(z) // m
        loss = -sum(t * math.log(a) for a, t in zip(p, y)) / rows
        dp = [-t / (rows * a) for a, t in zip(p, y)]
    dz = []
    for g in range(0, len(z), m):
        s = sum(p[g + j] * dp[g + j] for j in range(m))
        dz += [p[g + j] * (dp[g + j] - s) for j in range(m)]
    return loss, dz
def unpack(p):
    ws, o = [], 0
    for l in range(L):
        I, O = sizes[l], sizes[l + 1]
        W = [p[o + a * I:o + (a + 1) * I] for a in range(O)]; o += I * O
        b = p[o:o + O]; o += O
        ws.append((W, b))
    return ws
def loss_grad(p, X, Y, lname=loss_name):
    ws = unpack(p)
    g = [0.0] * len(p); loss = 0.0
    for x, y in zip(X, Y):
        hs = [x]
        for l, (W, b) in enumerate(ws):
            z = [b[a] + sum(W[a][i] * hs[-1][i] for i in range(len(hs[-1]))) for a in range(len(b))]
            hs.append([math.tanh(v) for v in z] if l < L - 1 else z)
        lx, d = head(hs[-1], y, len(X), lname)
        loss += lx
        offs, o = [], 0
        for l in range(L):
            offs.append(o); o += sizes[l] * sizes[l + 1] + sizes[l + 1]
        for l in range(L - 1, -1, -1):
            W, b = ws[l]; I = sizes[l]; o = offs[l]
            for a in range(len(b)):
                for i in range(I): g[o + a * I + i] += d[a] * hs[l][i]
                g[o + I * len(b) + a] += d[a]
            if l:
                d = [sum(W[a][i] * d[a] for a in range(len(b))) * (1 - hs[l][i] ** 2) for i in range(I)]
    return loss, g
def meta_loss(p):
    for _ in range(d["inner_steps"]):
        _, g = loss_grad(p, d["support_x"], d["support_y"], inner_loss)
        p = [pi - d["inner_lr"] * gi for pi, gi in zip(p, g)]
    return loss_grad(p, d["query_x"], d["query_y"])[0]
p = d["params"]
ml = meta_loss(p)
assert abs(ml - d["meta_loss"]) <= 1e-12 * max(1, abs(ml)), (ml, d["meta_loss"])
assert len(d["meta_grad"]) == len(p)
h, gmax, err = 1e-5, max(abs(v) for v in d["meta_grad"]), 0.0
for i in range(len(p)):
    q = list(p); q[i] += h; fp = meta_loss(q)
    q[i] -= 2 * h; fm = meta_loss(q)
    fd = (fp - fm) / (2 * h)
    err = max(err, abs(fd - d["meta_grad"][i]) / max(abs(fd), 1e-3 * gmax))
assert err < 1e-5, err
print("recomputed", d["head"], loss_name, "inner", inner_loss, "group", m, ": meta_loss", ml, "max_rel_err", err)
EOF
if command -v python3 >/dev/null; then
    check "dump recomputed in python" python3 "$TMP/recompute.py" "$TMP/dump.json"
    check "dump recomputed in python: allocation head, mse" python3 "$TMP/recompute.py" "$TMP/dump_mse.json"
    check "dump recomputed in python: allocation head, xent" python3 "$TMP/recompute.py" "$TMP/dump_xent.json"
    check "dump names the loss" grep -q '"loss":"xent"' "$TMP/dump_xent.json"
    check "dump recomputed in python: price head, lagrangian over an mse inner loop" \
        python3 "$TMP/recompute.py" "$TMP/dump_prices_lagrangian_inner_mse.json"
    check "dump names the inner loss" grep -q '"inner_loss":"mse"' \
        "$TMP/dump_prices_lagrangian_inner_mse.json"
    for loss in mse lagrangian; do
        check "dump recomputed in python: price head, $loss" python3 "$TMP/recompute.py" \
            "$TMP/dump_prices_$loss.json"
        check "dump names the price head ($loss)" grep -q "\"head\":\"prices\",.*\"loss\":\"$loss\"\|\"loss\":\"$loss\",\"head\":\"prices\"" \
            "$TMP/dump_prices_$loss.json"
    done
else
    skip "dump recomputed in python" "no python3"
fi

# usage and config errors
check_rc 0 "gradcheck --help" gc /dev/null --help
check_rc 2 "gradcheck without config" "$METAGRID" gradcheck 2>/dev/null
check_rc 2 "gradcheck bad key" "$METAGRID" gradcheck configs/sinusoid.yaml --set model.nope=1 2>"$TMP/err"
check "bad key message" grep -q '^metagrid:' "$TMP/err"
check_rc 2 "gradcheck missing file" "$METAGRID" gradcheck /nonexistent.yaml 2>/dev/null
report
