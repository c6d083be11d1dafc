#!/usr/bin/env bash
# The GPU path: the Los-loop and MR suites (the protocols of bench/seeds.py: Los-loop
# T-GCN, time-step split, horizon 12; MR TextGCN split with val 0.1) trained and evaluated once with
# train.device cuda (the loop runs bf16 autocast there) and once with cpu, the same tiny
# budget (EPOCHS, default 2; Los-loop fragment variants LOS_VARIANTS), through the real
# stages. Writes wall seconds per suite per device and the ratio cpu/cuda to $OUT/gpu.json
# (bench/results/gpu.json without OUT), after each step. Exits 0 with a message where torch
# sees no CUDA device. About 5-8 minutes on one H200 with 16 cores.
# Needs tokfrag's dependencies: .venv, else python3 (PYTHON=...) plus wheels carried in .whl/;
# the datasets: TOKFRAG_DATA_MIRROR (default ../shared/data, else ./shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
if [ -d .whl ]; then  # packages the machine lacks, as wheels (see the device notes)
  "$PY" -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # tokfrag from this checkout
if ! "$PY" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())' 2>/dev/null; then
  echo "bench/gpu.sh: $PY's torch sees no CUDA device (CPU-only build or no GPU): nothing to" \
    "measure here. Run it on a machine with CUDA and a CUDA build of torch."
  exit 0
fi
if ! "$PY" -c 'import tokfrag.stages, optuna, mlflow, torch_geometric, yaml' 2>/dev/null; then
  echo "bench/gpu.sh: tokfrag's dependencies are missing for $PY: pip install -e . (or carry"\
    "wheels in .whl/)" >&2
  exit 2
fi
export MLFLOW_DISABLE_TELEMETRY=true DVC_NO_ANALYTICS=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
data=$([ -d ../shared/data ] && echo "$PWD/../shared/data" || echo "$PWD/shared/data")
export TOKFRAG_DATA_MIRROR=${TOKFRAG_DATA_MIRROR:-$data}
export EPOCHS=${EPOCHS:-2} LOS_VARIANTS=${LOS_VARIANTS:-gconvgru stgcn wavenet}
result=${OUT:+$OUT/gpu.json}
exec "$PY" - "${result:-bench/results/gpu.json}" <<'EOF'
import json, os, sys, time
from pathlib import Path
sys.path.insert(0, "bench")
import torch
from common import load_base, machine, override, prepare_project, scratch_project
from seeds import LOS_LOOP  # T-GCN's protocol, as make bench runs it
from tokfrag import stages

out, e = Path(sys.argv[1]), int(os.environ["EPOCHS"])
suites = {
    "los_loop": ({**LOS_LOOP, "split.horizon": 12, "train.epochs": e, "train.patience": e},
                 os.environ["LOS_VARIANTS"].split()),
    "mr": ({"split.val_fraction": 0.1, "token.text.epochs": e, "fragment.text.epochs": e,
            "train.text.patience": e}, [None]),
}
torch.zeros(1, device="cuda")  # CUDA context start-up is not counted
result = {"machine": machine(), "epochs": e, "autocast": "bf16 on cuda", "suites": {}}
for name, (updates, variants) in suites.items():
    base = load_base(Path("params.yaml"), name, updates)
    root = prepare_project(base, scratch_project(f"gpu-{name}"))
    row = result["suites"][name] = {"variants": variants}
    for device in ("cuda", "cpu"):
        started, scores, train_s = time.perf_counter(), {}, 0.0
        p = override(base, {"train.device": device})
        train_s += stages.train(p, root, "token")["seconds"]
        for v in variants:
            pv = override(p, {"fragment.variant": v}) if v else p
            train_s += stages.train(pv, root, "fragment")["seconds"]
            models = stages.evaluate(pv, root)["models"]
            scores[v or "fragment"] = {f: {k: x for k, x in models[f].items() if
                                           k.startswith("test_") and isinstance(x, float)}
                                       for f in ("token", "fragment")}
        row[f"{device}_seconds"] = time.perf_counter() - started
        row[f"{device}_train_seconds"], row[f"{device}_scores"] = train_s, scores
        print(f"{name} {device}: {row[f'{device}_seconds']:.1f} s", flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    row["cpu_over_cuda"] = row["cpu_seconds"] / row["cuda_seconds"]
    row["train_cpu_over_cuda"] = row["cpu_train_seconds"] / row["cuda_train_seconds"]
    print(f"{name}: cuda is {row['cpu_over_cuda']:.2f}x the cpu speed", flush=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
print(f"wrote {out}")
EOF
