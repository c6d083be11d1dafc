"""`tokfrag`: the console script. Each pipeline stage is a subcommand over `tokfrag.stages`.

Imports stay inside the commands so `tokfrag --help` is quick and a stage loads only what
it uses.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

import tokfrag  # noqa: F401  (turns telemetry off before any tool is imported)
from tokfrag.stores import redact_url  # the standard library only: keeps --help fast

app = typer.Typer(
    name="tokfrag",
    help="Tokens + Transformer vs spatio-temporal fragments + GNN: run both on the same "
    "validated data, compare them beside baselines, and register the winner.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ParamsOption = Annotated[
    Path,
    typer.Option(
        "--params",
        "-p",
        help="params.yaml to read; its folder is the project folder (stores and outputs).",
    ),
]

T = TypeVar("T")


class Family(StrEnum):
    token = "token"
    fragment = "fragment"


def _fail(message: str, code: int = 1) -> None:
    from rich.console import Console
    from rich.markup import escape

    # Escaped: a gate failure's "[values.t]" is text, not a rich style tag.
    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(message)}", highlight=False
    )
    raise typer.Exit(code)


def _warn(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(
        f"[bold yellow]warning:[/] {escape(message)}", highlight=False
    )


def _timed(action: Callable[[], T]) -> T:
    """Run ``action``; with ``TOKFRAG_STAGE_TIMES=<file>`` set, append how long it took (one
    JSON line), so a benchmark can tell stage compute from orchestration (see
    bench/orchestration.py)."""
    import json
    import os
    import time

    started = time.perf_counter()
    try:
        return action()
    finally:
        if path := os.environ.get("TOKFRAG_STAGE_TIMES"):
            line = {"command": sys.argv[1:], "seconds": time.perf_counter() - started}
            with open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")


def _guarded(action: Callable[[], T]) -> T:
    """Run a stage; expected failures become one clear message and a non-zero exit."""
    from tokfrag.config import ParamsError
    from tokfrag.data.registry import DataError  # ValidationFailed is a DataError
    from tokfrag.data.splits import SplitError
    from tokfrag.stages import StageError
    from tokfrag.stores import ProjectBusy

    expected: tuple[type[BaseException], ...] = (
        ParamsError,
        DataError,
        SplitError,
        StageError,
        ProjectBusy,
    )
    try:
        return _timed(action)
    except Exception as err:
        # Registry and tuning errors are looked up only if MLflow or Optuna was loaded:
        # importing them costs seconds.
        registry = sys.modules.get("tokfrag.registry.register")
        if registry is not None:
            expected += (registry.CandidateError, registry.RegistrationError)
        study = sys.modules.get("tokfrag.tuning.study")
        if study is not None:
            expected += (study.TuningError,)
        loop = sys.modules.get("tokfrag.train.loop")
        if loop is not None:
            expected += (loop.TrainingDiverged,)
        servers = sys.modules.get("tokfrag.servers")
        if servers is not None:
            expected += (servers.ServerError,)
        if isinstance(err, expected):
            _fail(str(err))
        raise


OUTPUT_FOLDERS = ("data", "outputs", "reports")  # what tokfrag's stages write into


def _writing(params: Path, action: Callable[[], T]) -> T:
    """Run a stage that writes into the project while holding the project's lock, so a
    second command writing into the same folder stops with a clear message instead."""
    from tokfrag.atomic import recover_tree
    from tokfrag.stores import project_lock

    def held() -> T:
        root = _root(params)
        with project_lock(root, " ".join(sys.argv[1:])):
            # No other tokfrag command writes here now: what a killed one left is stale.
            for folder in OUTPUT_FOLDERS:
                recover_tree(root / folder)
            return action()

    return _guarded(held)


def _params(path: Path):
    from tokfrag.config import load_params

    return _guarded(lambda: load_params(path))


def _root(path: Path) -> Path:
    return path.resolve().parent


def _say(message: str) -> None:
    from tokfrag.report.console import console

    console.print(message, highlight=False)


@app.command()
def ingest(params: ParamsOption = Path("params.yaml")) -> None:
    """Fetch the dataset (mirror, cache or upstream; sha256 checked) into data/<dataset>/."""
    from tokfrag import stages

    p = _params(params)
    out = _writing(params, lambda: stages.ingest(p, _root(params)))
    _say(f"ingest: wrote {out}")


@app.command()
def validate(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Check this file of your own instead of the ingested data: it is read with "
            "data.source's column mapping (in place of data.source.path), nothing is written.",
            show_default=False,
        ),
    ] = None,
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Run the Great Expectations gate; exits non-zero listing every failed expectation."""
    from tokfrag import stages

    p = _params(params)
    if path is None:
        report = _writing(params, lambda: stages.validate(p, _root(params)))
        _say(f"validate: {report.checked} expectations passed on {p.data.dataset}")
        return
    from rich.markup import escape

    report = _guarded(lambda: stages.check_file(p, _root(params), path))
    for item in report.outcomes():
        mark = "[green]pass[/]" if item["success"] else "[bold red]FAIL[/]"
        column = f".{item['column']}" if item["column"] is not None else ""
        _say(f"  {mark} {escape(str(item['table']) + column)}: {item['expectation']}")
    if not report.success:
        _fail(f"validate {path}:\n{report.summary()}")
    _say(f"validate {path}: {report.checked} expectations passed")


@app.command()
def prepare(params: ParamsOption = Path("params.yaml")) -> None:
    """Fix the chronological split and fit the node scaler on training steps only."""
    from tokfrag import stages

    p = _params(params)
    out = _writing(params, lambda: stages.prepare(p, _root(params)))
    _say(f"prepare: wrote {out}")


@app.command()
def tune(
    family: Annotated[Family, typer.Argument(help="Which family to tune.")],
    params: ParamsOption = Path("params.yaml"),
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            help="Processes on the study, each with its share of the CPU threads "
            "(default: tune.workers). Run the same command on other machines against one "
            "PostgreSQL tune.storage to spread further.",
        ),
    ] = None,
) -> None:
    """Tune one family with Optuna under the shared budget; a killed run resumes its study."""
    from tokfrag import stages

    p = _params(params)
    record = _writing(params, lambda: stages.tune(p, _root(params), family.value, workers))
    if not record["tuned"]:
        _say(f"tune {family.value}: off ({record['reason']}); the configured model trains as is")
        return
    used, best = record["used"], record["best"]
    _say(
        f"tune {family.value}: {used['trials']}/{record['configured']['n_trials']} trials "
        f"({used['complete']} complete, {used['pruned']} pruned, {used['failed']} failed) in "
        f"{used['seconds']:.0f} s; best val loss {best['value']:.4f} (trial {best['number']}, "
        f"epoch {best['best_epoch']}); study {record['study_name']} in {record['storage']}"
    )


@app.command()
def train(
    family: Annotated[Family, typer.Argument(help="Which family to train.")],
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Final fit of one family (the tuned point on train + validation); tracked in MLflow."""
    from tokfrag import stages

    p = _params(params)
    summary = _writing(params, lambda: stages.train(p, _root(params), family.value))
    how = (
        f"tuned point, {summary['epochs_run']} epochs on train + validation"
        if summary.get("tuned")
        else f"best val loss {summary['best_val_loss']:.4f} at epoch {summary['best_epoch']} "
        f"of {summary['epochs_run']}"
    )
    _say(
        f"train {family.value}: {how} ({summary['seconds']:.1f} s, "
        f"{summary['n_params']:,} parameters, run {summary['run_id']})"
    )


@app.command()
def evaluate(params: ParamsOption = Path("params.yaml")) -> None:
    """Score both families and the baselines on the test split; write metrics, plots, report."""
    from tokfrag import stages
    from tokfrag.report.console import budget_table, comparison_table, console

    p = _params(params)
    metrics = _writing(params, lambda: stages.evaluate(p, _root(params)))
    console.print(comparison_table(metrics))
    console.print(budget_table(metrics))
    console.print(f"[bold]verdict:[/] {metrics['verdict']['sentence']}", highlight=False)


@app.command()
def register(
    params: ParamsOption = Path("params.yaml"),
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Promote the verdict's choice without the gate (when the champion cannot "
            "be read or scored); recorded on the version as its `promotion` tag.",
        ),
    ] = False,
) -> None:
    """Register both families in MLflow; the verdict's choice becomes champion only if it
    beats the current champion with significance (else it is challenger). When the
    champion cannot be read or scored, nothing is registered and the exit is non-zero."""
    from tokfrag import stages

    p = _params(params)
    result = _writing(params, lambda: stages.register(p, _root(params), force=force))
    _say(f"register: {result['gate']['reason']}")
    _say(
        f"register: {result['model_name']} champion = {result['champion']} "
        f"(version {result['champion_version']}), challenger = {result['challenger']} "
        f"(version {result['challenger_version']}); load it with {result['uri']}"
    )
    for line in registration_words(result)[1:]:
        _say(f"register: {line.strip()}")


def registration_words(reg: dict[str, Any]) -> list[str]:
    """``registry.json`` in words: the champion's URI and what it is, a family winner kept
    as challenger because a baseline beat it, and the gate's answer."""
    verdict = reg.get("verdict") or {}
    champion = reg["champion"]
    if champion == "baseline" and reg.get("promoted", True) and verdict.get("champion"):
        champion = f"the baseline {verdict['champion']}"
    lines = [f"champion: {reg['uri']} = {champion} (version {reg['champion_version']})"]
    chosen = verdict.get("chosen")
    if verdict.get("champion") not in (None, chosen) and reg.get("challenger") == chosen:
        lines.append(
            f"          {chosen}, the family winner, is challenger (version "
            f"{reg['challenger_version']}): {verdict['champion_reason']}"
        )
    if "gate" in reg:
        lines.append(f"gate:     {reg['gate']['reason']}")
    return lines


@app.command()
def compare(
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", "-d", help="Dataset whose registered model to show."),
    ] = None,
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """The registry side by side: every version of tokfrag-<dataset> with its family,
    aliases, test metrics and costs."""
    from rich.table import Table

    from tokfrag.config import check_dataset_name
    from tokfrag.registry import describe_registry, open_store
    from tokfrag.report.console import console

    p = _params(params)
    name = dataset or p.data.dataset
    try:
        check_dataset_name(name)
    except ValueError as err:
        _fail(f"--dataset: {err}")
    store = _guarded(lambda: open_store(p.registry, _root(params), name))
    rows = describe_registry(store, name)
    if not rows:
        _fail(f"no registered versions of {store.model_name} in {redact_url(store.tracking_uri)}")
    metric_keys = sorted({k for r in rows for k in r["metrics"] if not k.endswith("_std")})
    shown = [k for k in metric_keys if "_h" not in k][:4]
    table = Table(
        title=f"{store.model_name}: registered versions ({redact_url(store.tracking_uri)})"
    )
    columns = [
        "version", "family", "model", "aliases", *shown, "params", "p50 ms", "train s", "commit"
    ]  # fmt: skip
    for column in columns:
        left = column in ("family", "model", "aliases")
        table.add_column(column, justify="left" if left else "right")
    for r in rows:
        costs = r.get("costs", {})
        table.add_row(
            str(r["version"]),
            r["family"] or "?",
            r.get("baseline") or r.get("model_kind") or "-",  # which baseline, by name
            ", ".join(r["aliases"]) or "-",
            *(f"{r['metrics'][k]:.4f}" if k in r["metrics"] else "-" for k in shown),
            f"{costs['n_params']:,.0f}" if "n_params" in costs else "-",
            f"{costs['latency_ms_p50']:.2f}" if "latency_ms_p50" in costs else "-",
            f"{costs['train_seconds']:.1f}" if "train_seconds" in costs else "-",
            (r.get("git_commit") or "-")[:8],
        )
    console.print(table)
    for line in alias_words(rows):
        console.print(line, highlight=False)


def alias_words(rows: list[dict[str, Any]]) -> list[str]:
    """What the ``champion`` and ``challenger`` versions are, in words: which model, and
    why it holds its alias (the verdict's reason, or how it was promoted)."""
    lines = []
    for alias in ("champion", "challenger"):
        for r in rows:
            if alias not in r["aliases"]:
                continue
            what = r["family"] if r["family"] != "baseline" else f"the baseline {r['baseline']}"
            why = r.get("promotion") if alias == "champion" and r.get("promotion") else r["verdict"]
            if alias == "challenger" and (why or "").startswith("verdict's champion"):
                why += "; the promotion gate kept the earlier champion"
            lines.append(f"{alias}: version {r['version']}, {what}" + (f" ({why})" if why else ""))
    return lines


@app.command()
def run(
    params: ParamsOption = Path("params.yaml"),
    force: Annotated[
        bool, typer.Option("--force", help="Re-run every stage, cached or not (dvc repro -f).")
    ] = False,
) -> None:
    """Run the whole pipeline as a Prefect flow (same stage functions as `dvc repro`); stages
    whose inputs, code and outputs are unchanged since the last run are cached."""
    _params(params)  # a bad params.yaml fails here, before Prefect starts a server
    from flows.pipeline import pipeline
    from flows.runs import stage_states

    state = _guarded(
        lambda: pipeline(params_path=str(params.resolve()), force=force, return_state=True)
    )
    _guarded(state.result)  # the flow's own error, when it failed
    states = stage_states(state.state_details.flow_run_id)
    cached = sorted(name for name, kind in states.items() if kind == "Cached")
    _say(
        f"run: {len(states) - len(cached)} of {len(states)} stages ran"
        + (f"; cached: {', '.join(cached)}" if cached else "")
    )
    summary(params)


@app.command()
def deploy(
    params: ParamsOption = Path("params.yaml"),
    serve: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve",
            help="Keep running and execute the scheduled runs (default), or only create them.",
        ),
    ] = True,
) -> None:
    """Create the scheduled Prefect deployments of params.yaml's `schedule` section on the
    server PREFECT_API_URL names (start one with `tokfrag ui`), and serve them."""
    import os

    p = _params(params)
    if not p.schedule.datasets:
        _fail(f"{params}: the schedule section lists no dataset; nothing to deploy")
    if not os.environ.get("PREFECT_API_URL"):
        _fail(
            "PREFECT_API_URL is not set: deployments need a running server. Start one with "
            "`tokfrag ui`, then `export PREFECT_API_URL=http://127.0.0.1:4200/api`"
        )
    from flows.deploy import apply, serve_forever

    names = _guarded(lambda: apply(params.resolve()))
    for name in names:
        _say(f"deploy: {name}")
    if serve:
        _say("deploy: serving the scheduled runs; Ctrl-C stops (and pauses the schedules)")
        serve_forever(params.resolve())


@app.command()
def ui(
    params: ParamsOption = Path("params.yaml"),
    prefect_port: Annotated[int, typer.Option(help="Port of the Prefect server and UI.")] = 4200,
    mlflow_port: Annotated[int, typer.Option(help="Port of the MLflow UI.")] = 5000,
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
) -> None:
    """Start a Prefect server (with its UI) and the MLflow UI on the project's stores, print
    both URLs, and stop both cleanly on Ctrl-C."""
    from tokfrag.servers import exposure_warning, run_uis

    if warning := exposure_warning(host):
        _warn(warning)
    p = _params(params)
    _guarded(lambda: run_uis(p, _root(params), host, prefect_port, mlflow_port, _say))


@app.command()
def summary(params: ParamsOption = Path("params.yaml")) -> None:
    """Print the comparison table and where the stores, metrics and report are."""
    import json

    from tokfrag.report.console import budget_table, comparison_table, console
    from tokfrag.report.table import verdict
    from tokfrag.stages import Layout

    p = _params(params)
    layout = Layout.of(p, _root(params))
    if not layout.metrics.is_file():
        _fail(f"{layout.metrics}: missing; run `dvc repro` or `tokfrag run` first")
    metrics: dict[str, Any] = json.loads(layout.metrics.read_text())
    console.print(comparison_table(metrics))
    console.print(budget_table(metrics))
    lines = [
        f"metrics:  {layout.metrics}",
        f"plots:    {layout.plots}",
        f"MLflow:   {redact_url(p.registry.tracking_uri)} (artifacts in "
        f"{redact_url(p.registry.artifact_root)}/), "
        f"open with `make mlflow-ui`",
    ]
    if layout.registry.is_file():
        reg = json.loads(layout.registry.read_text())
        lines += registration_words(reg)
    lines += [f"report:   {layout.report} (and {layout.report_md.name})"]
    for line in lines:
        console.print(line, highlight=False)
    console.print(f"[bold]verdict:[/] {verdict(metrics)}", highlight=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
