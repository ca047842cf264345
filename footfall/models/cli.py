"""Command-line entry points of `footfall.models`, registered on the root `footfall` command.

- `footfall models backtest --csv FILE [--json]` — rolling-origin backtest on any
  `timestamp,site,entries` CSV;
- `footfall models calit2-csv DIR` — the UCI CalIt2 door counts as such a CSV;
- `footfall eval models [--calit2 DIR]` — anomaly detection against CalIt2's labelled
  events and against faults planted in simulated counters.

Training, retraining and listing stored models need the database; they live in
`footfall.api.cli` and join the `models` group in the root command.
"""

import json
from pathlib import Path
from typing import Annotated

import typer

from footfall.core.cli import console, err, fail

ALERT_MIN_EXCESS = 10.0
"""People over or under the forecast a traffic anomaly needs before it is reported (as the API does)."""

models_app = typer.Typer(help="Forecasts, anomaly bands and staffing: train, backtest, inspect.", no_args_is_help=True)


def register(app: typer.Typer, *, evaluate: typer.Typer) -> None:
    """Add the `models` group to the root app and `models` to the `eval` group.

    Keep imports of heavy modules inside the commands: `footfall --help` loads every
    package's `cli` module.
    """
    app.add_typer(models_app, name="models")
    evaluate.command("models")(eval_models)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise fail(f"{path} is not UTF-8 text; save it as UTF-8 CSV") from None


@models_app.command("backtest")
def models_backtest(
    *,
    csv: Annotated[Path, typer.Option("--csv", help="CSV with columns timestamp,site,entries (ISO 8601 with offset).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON result.")] = False,
    horizon_h: Annotated[float, typer.Option(min=1, max=14 * 24, help="Hours forecast from each origin.")] = 168,
    step_h: Annotated[float, typer.Option(min=1, max=24 * 365, help="Hours between origins.")] = 168,
    min_train_days: Annotated[float, typer.Option(min=7, max=3650, help="History before the first origin.")] = 28,
    timezone: Annotated[
        str | None, typer.Option(help="IANA zone for calendar features; default each row's own offset.")
    ] = None,
    exclude: Annotated[
        Path | None, typer.Option(help="CSV of start,end spans (ISO 8601) left out of the scores, e.g. known events.")
    ] = None,
) -> None:
    """Rolling-origin backtest: MASE against seasonal naive (same slot last week) and 10–90 % band coverage."""
    from footfall.core.calendar import zone
    from footfall.core.errors import FootfallError
    from footfall.models.backtest import backtest, parse_counts_csv, parse_spans_csv

    try:
        tz = zone(timezone) if timezone else None
        series = parse_counts_csv(_read(csv), tz=tz)
        spans = parse_spans_csv(_read(exclude)) if exclude else []
        if not as_json:
            err.print(f"{csv}: {len(series)} site(s); backtesting (horizon {horizon_h:g} h, step {step_h:g} h) …")
        result = backtest(series, horizon_h=horizon_h, step_h=step_h, min_train_days=min_train_days, exclude=spans)
    except FootfallError as exc:
        raise fail(f"{csv}: {exc}") from None
    out = result.as_dict()
    if not any(s.slots for s in result.sites):
        raise fail(
            f"{csv}: no site has {min_train_days:g} days of history plus {horizon_h:g} hours to score; "
            "give more data or lower --min-train-days / --horizon-h"
        )
    if not as_json:
        from rich.table import Table

        t = Table("site", "slot", "origins", "slots", "mase", "mase (in-sample)", "coverage_80")
        for s in result.sites:
            t.add_row(s.site, f"{s.slot_minutes} min", str(s.origins), str(s.slots), f"{s.mase:.4f}",
                      f"{s.mase_insample:.4f}", f"{s.coverage_80:.4f}")  # fmt: skip
        short = [s.site for s in result.sites if not s.slots]
        if short:
            err.print(f"not scored (under {min_train_days:g} days plus {horizon_h:g} h of data): {', '.join(short)}")
        console.print(t)
    print(json.dumps(out))


@models_app.command("calit2-csv")
def models_calit2_csv(
    directory: Annotated[Path, typer.Argument(help="The CalIt2 folder (holding CalIt2.data).")],
) -> None:
    """Print the UCI CalIt2 building's in-flow as a `timestamp,site,entries` CSV (America/Los_Angeles)."""
    from footfall.models.evaluate import calit2_csv

    print(calit2_csv(_read(directory / "CalIt2.data")), end="")


def eval_models(
    *,
    calit2: Annotated[
        Path | None, typer.Option(help="The CalIt2 folder (CalIt2.data, CalIt2.events); skipped when absent.")
    ] = None,
    runs: Annotated[int, typer.Option(min=1, max=1000, help="Simulated stores per planted fault.")] = 20,
    seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON result.")] = False,
) -> None:
    """Anomaly detection: precision/recall of `high_traffic` against CalIt2's labelled events, and
    detection delay and false alarms per week for faults planted in simulated counters."""
    from footfall.models import evaluate as ev
    from footfall.models.backtest import backtest, parse_counts_csv

    out: dict[str, object] = {}
    if calit2 is not None:
        data, events = _read(calit2 / "CalIt2.data"), ev.calit2_events(_read(calit2 / "CalIt2.events"))
        series = ev.calit2_series(data)
        # strictly inside the labelled spans, then with the hour before each event (people arrive
        # early) and runs of at least 10 people over the forecast (what the API reports)
        out["calit2_events"] = [
            s.as_dict()
            for kw in ({}, {"lead_s": 3600}, {"lead_s": 3600, "min_excess": ALERT_MIN_EXCESS})
            for s in ev.event_detection(series, events, **kw)
        ]
        csv_series = parse_counts_csv(ev.calit2_csv(data))
        full = backtest(csv_series).as_dict()
        quiet = backtest(csv_series, exclude=events).as_dict()
        out["calit2_backtest"] = {
            "all_slots": {k: full[k] for k in ("mase", "mase_insample", "coverage_80", "slots")},
            "outside_events": {k: quiet[k] for k in ("mase", "mase_insample", "coverage_80", "slots")},
        }
    if not as_json:
        err.print(f"planting 5 faults in {runs} simulated stores …")
    out["planted_faults"] = ev.fault_injection(runs=runs, seed=seed)
    if not as_json:
        console.print_json(json.dumps(out))
    print(json.dumps(out))
