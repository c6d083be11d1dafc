"""`tokfrag`: the console script. Each pipeline stage is a subcommand over `tokfrag.stages`.

Imports stay inside the commands so `tokfrag --help` is quick and a stage loads only what
it uses. How a command runs its stage (params, the project lock, errors, printing) is in
:mod:`tokfrag.cli_guard`; the registry in words and as a table in :mod:`tokfrag.cli_registry`.
The Prefect commands (`run`, `deploy`) import ``flows`` here and nowhere else in tokfrag.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

import tokfrag  # noqa: F401  (turns telemetry off before any tool is imported)
from tokfrag.cli_guard import fail, guarded, load_params, project_root, say, warn, writing
from tokfrag.cli_registry import alias_words, registration_words, versions_table
from tokfrag.families import FAMILIES
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

# The registry's families, as the choices of `tune` and `train`.
Family = StrEnum("Family", {name: name for name in FAMILIES})  # type: ignore[misc]


@app.command()
def ingest(params: ParamsOption = Path("params.yaml")) -> None:
    """Fetch the dataset (mirror, cache or upstream; sha256 checked) into data/<dataset>/."""
    from tokfrag import stages

    p = load_params(params)
    out = writing(params, lambda: stages.ingest(p, project_root(params)))
    say(f"ingest: wrote {out}")


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

    p = load_params(params)
    if path is None:
        report = writing(params, lambda: stages.validate(p, project_root(params)))
        say(f"validate: {report.checked} expectations passed on {p.data.dataset}")
        return
    from rich.markup import escape

    report = guarded(lambda: stages.check_file(p, project_root(params), path))
    for item in report.outcomes():
        mark = "[green]pass[/]" if item["success"] else "[bold red]FAIL[/]"
        column = f".{item['column']}" if item["column"] is not None else ""
        say(f"  {mark} {escape(str(item['table']) + column)}: {item['expectation']}")
    if not report.success:
        fail(f"validate {path}:\n{report.summary()}")
    say(f"validate {path}: {report.checked} expectations passed")


@app.command()
def prepare(params: ParamsOption = Path("params.yaml")) -> None:
    """Fix the chronological split and fit the node scaler on training steps only."""
    from tokfrag import stages

    p = load_params(params)
    out = writing(params, lambda: stages.prepare(p, project_root(params)))
    say(f"prepare: wrote {out}")


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

    p = load_params(params)
    record = writing(params, lambda: stages.tune(p, project_root(params), family.value, workers))
    if not record["tuned"]:
        say(f"tune {family.value}: off ({record['reason']}); the configured model trains as is")
        return
    used, best = record["used"], record["best"]
    say(
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

    p = load_params(params)
    summary = writing(params, lambda: stages.train(p, project_root(params), family.value))
    how = (
        f"tuned point, {summary['epochs_run']} epochs on train + validation"
        if summary.get("tuned")
        else f"best val loss {summary['best_val_loss']:.4f} at epoch {summary['best_epoch']} "
        f"of {summary['epochs_run']}"
    )
    say(
        f"train {family.value}: {how} ({summary['seconds']:.1f} s, "
        f"{summary['n_params']:,} parameters, run {summary['run_id']})"
    )


@app.command()
def evaluate(params: ParamsOption = Path("params.yaml")) -> None:
    """Score every family and the baselines on the test split; write metrics, plots, report."""
    from tokfrag import stages
    from tokfrag.report.console import budget_table, comparison_table, console

    p = load_params(params)
    metrics = writing(params, lambda: stages.evaluate(p, project_root(params)))
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
    """Register every family in MLflow; the verdict's choice becomes champion only if it
    beats the current champion with significance (else it is challenger). When the
    champion cannot be read or scored, nothing is registered and the exit is non-zero."""
    from tokfrag import stages

    p = load_params(params)
    result = writing(params, lambda: stages.register(p, project_root(params), force=force))
    say(f"register: {result['gate']['reason']}")
    say(
        f"register: {result['model_name']} champion = {result['champion']} "
        f"(version {result['champion_version']}), challenger = {result['challenger']} "
        f"(version {result['challenger_version']}); load it with {result['uri']}"
    )
    for line in registration_words(result)[1:]:
        say(f"register: {line.strip()}")


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
    from tokfrag.config import check_dataset_name
    from tokfrag.registry.tracking import open_store
    from tokfrag.registry.versions import describe_registry
    from tokfrag.report.console import console

    p = load_params(params)
    name = dataset or p.data.dataset
    try:
        check_dataset_name(name)
    except ValueError as err:
        fail(f"--dataset: {err}")
    store = guarded(lambda: open_store(p.registry, project_root(params), name))
    rows = describe_registry(store, name)
    if not rows:
        fail(f"no registered versions of {store.model_name} in {redact_url(store.tracking_uri)}")
    title = f"{store.model_name}: registered versions ({redact_url(store.tracking_uri)})"
    console.print(versions_table(rows, title))
    for line in alias_words(rows):
        console.print(line, highlight=False)


@app.command()
def run(
    params: ParamsOption = Path("params.yaml"),
    force: Annotated[
        bool, typer.Option("--force", help="Re-run every stage, cached or not (dvc repro -f).")
    ] = False,
) -> None:
    """Run the whole pipeline as a Prefect flow (same stage functions as `dvc repro`); stages
    whose inputs, code and outputs are unchanged since the last run are cached."""
    load_params(params)  # a bad params.yaml fails here, before Prefect starts a server
    from flows.pipeline import pipeline
    from flows.runs import stage_states

    state = guarded(
        lambda: pipeline(params_path=str(params.resolve()), force=force, return_state=True)
    )
    guarded(state.result)  # the flow's own error, when it failed
    run_id = state.state_details.flow_run_id
    if run_id is None:  # a flow run always has one; say so plainly if Prefect ever differs
        fail("the pipeline flow returned a state without a flow run id")
    states = stage_states(run_id)
    cached = sorted(name for name, kind in states.items() if kind == "Cached")
    say(
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

    p = load_params(params)
    if not p.schedule.datasets:
        fail(f"{params}: the schedule section lists no dataset; nothing to deploy")
    if not os.environ.get("PREFECT_API_URL"):
        fail(
            "PREFECT_API_URL is not set: deployments need a running server. Start one with "
            "`tokfrag ui`, then `export PREFECT_API_URL=http://127.0.0.1:4200/api`"
        )
    from flows.deploy import apply, serve_forever

    names = guarded(lambda: apply(params.resolve()))
    for name in names:
        say(f"deploy: {name}")
    if serve:
        say("deploy: serving the scheduled runs; Ctrl-C stops (and pauses the schedules)")
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
        warn(warning)
    p = load_params(params)
    guarded(lambda: run_uis(p, project_root(params), host, prefect_port, mlflow_port, say))


@app.command()
def summary(params: ParamsOption = Path("params.yaml")) -> None:
    """Print the comparison table and where the stores, metrics and report are."""
    import json

    from tokfrag.report.console import budget_table, comparison_table, console
    from tokfrag.report.table import verdict
    from tokfrag.stages import Layout

    p = load_params(params)
    layout = Layout.of(p, project_root(params))
    if not layout.metrics.is_file():
        fail(f"{layout.metrics}: missing; run `dvc repro` or `tokfrag run` first")
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
