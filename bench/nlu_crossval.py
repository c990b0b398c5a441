"""Compare the project's NLU pipeline with Rasa's default pipeline.

For each pipeline the script runs `rasa test nlu --cross-validation` on the NLU
data, trains one model on all of the data with an empty training cache, and
times single-message parsing with the trained model. It prints a Markdown
table and writes the same text to bench/results/nlu.md.

Run it from any directory:

    .venv/bin/python bench/nlu_crossval.py
"""

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENTITY_NAME = "category"
WARMUP_PARSES = 5
TEMP_PREFIX = "chatcun_nlu_crossval_"
# Reports that `rasa test nlu` writes next to the per-extractor entity reports.
NON_ENTITY_REPORTS = {"intent_report.json", "response_selection_report.json"}


@dataclass
class PipelineResult:
    """Measurements for one pipeline.

    Attributes:
        name: Label shown in the results table.
        components: Component names of the pipeline, in order.
        cv_command: Command line of the cross-validation run.
        intent_macro_f1: Macro-averaged intent F1 over the pooled test folds.
        intent_weighted_f1: Support-weighted intent F1 over the pooled test folds.
        entity_f1: F1 of the entity per extractor, empty when no extractor
            reported it.
        cv_seconds: Wall-clock time of the whole cross-validation run.
        train_seconds: Time to train one model on all data with an empty cache.
        model_bytes: Size of the trained model archive.
        parse_median_ms: Median time of one `Agent.parse_message` call.
        parse_p95_ms: 95th percentile of the same parse times.
    """

    name: str
    components: List[str]
    cv_command: str
    intent_macro_f1: float
    intent_weighted_f1: float
    entity_f1: Dict[str, float]
    cv_seconds: float
    train_seconds: float
    model_bytes: int
    parse_median_ms: float
    parse_p95_ms: float


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config",
        default="config.yml",
        help="Project model configuration to compare (default: config.yml).",
    )
    parser.add_argument(
        "--data",
        default="data/nlu",
        help="NLU training data file or folder (default: data/nlu).",
    )
    parser.add_argument(
        "--folds",
        type=int,
        default=5,
        help="Number of cross-validation folds (default: 5).",
    )
    parser.add_argument(
        "--parses",
        type=int,
        default=200,
        help="Number of timed parse calls per pipeline (default: 200).",
    )
    parser.add_argument(
        "--output",
        default="bench/results/nlu.md",
        help="Markdown file for the results (default: bench/results/nlu.md).",
    )
    parser.add_argument(
        "--work-dir",
        default=None,
        help="Folder that keeps the default config, the cross-validation reports "
        "and the models (default: a temporary folder deleted at the end).",
    )
    parser.add_argument(
        "--skip-default",
        action="store_true",
        help="Measure only the project pipeline.",
    )
    return parser.parse_args(argv)


def resolve(path: str) -> Path:
    """Return `path` as an absolute path, resolving a relative one from the project."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    return PROJECT_ROOT / candidate


def display_path(path: Path) -> str:
    """Return `path` relative to the project root when it lies inside it."""
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def write_default_config(path: Path) -> None:
    """Write Rasa's default NLU pipeline for Spanish to `path`.

    The pipeline is the one Rasa fills in for a config without a `pipeline` key
    (`DefaultV1Recipe.complete_config`), written out so that Rasa does not
    append its auto-configuration comments to the file.
    """
    import rasa.shared.utils.io
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe

    config = {
        "recipe": "default.v1",
        "assistant_id": "nlu_benchmark_default_pipeline",
        "language": "es",
    }
    config = DefaultV1Recipe.complete_config(config, {"pipeline"})
    rasa.shared.utils.io.write_yaml(config, path)


def read_components(config_path: Path) -> List[str]:
    """Return the component names of the pipeline in `config_path`."""
    import rasa.shared.utils.io

    config = rasa.shared.utils.io.read_config_file(config_path)
    pipeline = config.get("pipeline") or []
    return [str(component.get("name")) for component in pipeline]


def subprocess_env(cache_dir: Path) -> Dict[str, str]:
    """Return the environment for Rasa child processes.

    Each run gets its own training cache so that no result is reused from an
    earlier run or from the project's `.rasa/cache`.
    """
    env = dict(os.environ)
    env["RASA_CACHE_DIRECTORY"] = str(cache_dir)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    python_path = [str(PROJECT_ROOT)]
    if env.get("PYTHONPATH"):
        python_path.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(python_path)
    return env


def run_cross_validation(
    config_path: Path, data_path: Path, folds: int, out_dir: Path, cache_dir: Path
) -> float:
    """Run `rasa test nlu --cross-validation` and return its wall-clock seconds.

    Rasa's output goes to stderr so that stdout contains only the results.

    Raises:
        RuntimeError: If the Rasa command exits with a non-zero status.
    """
    command = cross_validation_command(config_path, data_path, folds, out_dir)
    logger.info("Running %s", shlex.join(command))

    started = time.perf_counter()
    completed = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=subprocess_env(cache_dir),
        stdout=sys.stderr,
        check=False,
    )
    elapsed = time.perf_counter() - started

    if completed.returncode != 0:
        raise RuntimeError(
            f"Cross-validation failed with exit status {completed.returncode}: "
            f"{shlex.join(command)}. Rasa's output above names the cause."
        )
    return elapsed


def cross_validation_command(
    config_path: Path, data_path: Path, folds: int, out_dir: Path
) -> List[str]:
    """Return the `rasa test nlu` cross-validation command line."""
    return [
        display_path(Path(sys.executable)),
        "-m",
        "rasa",
        "test",
        "nlu",
        "--nlu",
        display_path(data_path),
        "--config",
        display_path(config_path),
        "--cross-validation",
        "--folds",
        str(folds),
        "--out",
        display_path(out_dir),
        "--no-plot",
    ]


def read_intent_scores(report_dir: Path) -> Dict[str, float]:
    """Return the macro and weighted intent F1 from `intent_report.json`.

    Raises:
        FileNotFoundError: If the cross-validation wrote no intent report.
    """
    report_path = report_dir / "intent_report.json"
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return {
        "macro": float(report["macro avg"]["f1-score"]),
        "weighted": float(report["weighted avg"]["f1-score"]),
    }


def read_entity_scores(report_dir: Path, entity: str) -> Dict[str, float]:
    """Return the F1 of `entity` from each extractor report that lists it.

    `rasa test nlu` writes one `<Extractor>_report.json` per entity extractor,
    scored per token.
    """
    scores = {}
    for report_path in sorted(report_dir.glob("*_report.json")):
        if report_path.name in NON_ENTITY_REPORTS:
            continue

        report = json.loads(report_path.read_text(encoding="utf-8"))
        if entity in report:
            extractor = report_path.name[: -len("_report.json")]
            scores[extractor] = float(report[entity]["f1-score"])
    return scores


def train_full_model(
    config_path: Path, data_path: Path, model_dir: Path, cache_dir: Path, name: str
) -> Dict[str, Any]:
    """Train one NLU model on all data with an empty cache and time it.

    The time covers `rasa.model_training.train_nlu`, the function behind
    `rasa train nlu`, without interpreter start-up and imports.

    Raises:
        RuntimeError: If Rasa returns no model file.
    """
    import rasa.model_training

    os.environ["RASA_CACHE_DIRECTORY"] = str(cache_dir)
    logger.info("Training the %s pipeline on all data", name)

    started = time.perf_counter()
    model_path = rasa.model_training.train_nlu(
        config=str(config_path),
        nlu_data=str(data_path),
        output=str(model_dir),
        fixed_model_name=name,
    )
    elapsed = time.perf_counter() - started

    if not model_path or not Path(model_path).is_file():
        raise RuntimeError(
            f"Training with {display_path(config_path)} produced no model file "
            f"in {model_dir}."
        )
    return {"path": Path(model_path), "seconds": elapsed}


def load_parse_messages(data_path: Path, count: int) -> List[str]:
    """Return `count` example texts from the training data, in a fixed order."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples = load_data(str(data_path)).intent_examples
    texts = sorted({example.get("text") for example in examples})
    if not texts:
        raise ValueError(f"No intent examples found in {data_path}.")

    rng = random.Random(0)
    rng.shuffle(texts)
    return [texts[index % len(texts)] for index in range(count)]


async def time_parses(model_path: Path, messages: Sequence[str]) -> List[float]:
    """Load the model once and return the seconds of each `parse_message` call.

    The first calls trace TensorFlow functions, which takes far longer than a
    parse, so they run untimed.
    """
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))
    for message in messages[:WARMUP_PARSES]:
        await agent.parse_message(message)

    durations = []
    for message in messages:
        started = time.perf_counter()
        await agent.parse_message(message)
        durations.append(time.perf_counter() - started)
    return durations


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of `values`, `fraction` in (0, 1]."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def measure_pipeline(
    name: str,
    config_path: Path,
    data_path: Path,
    args: argparse.Namespace,
    work_dir: Path,
) -> PipelineResult:
    """Run cross-validation, full training and parse timing for one pipeline."""
    run_dir = work_dir / name
    run_dir.mkdir(parents=True, exist_ok=True)

    # Reports left by an earlier run in the same work folder would be read as
    # new ones, and its caches would skip training.
    cv_dir = run_dir / "cross_validation"
    for stale_dir in (cv_dir, run_dir / "cache_cv", run_dir / "cache_train"):
        shutil.rmtree(stale_dir, ignore_errors=True)

    cv_seconds = run_cross_validation(
        config_path, data_path, args.folds, cv_dir, run_dir / "cache_cv"
    )
    intent_scores = read_intent_scores(cv_dir)
    entity_scores = read_entity_scores(cv_dir, ENTITY_NAME)

    model = train_full_model(
        config_path, data_path, run_dir / "models", run_dir / "cache_train", name
    )
    messages = load_parse_messages(data_path, args.parses)
    durations = asyncio.run(time_parses(model["path"], messages))

    command = cross_validation_command(config_path, data_path, args.folds, cv_dir)
    return PipelineResult(
        name=name,
        components=read_components(config_path),
        cv_command=shlex.join(command),
        intent_macro_f1=intent_scores["macro"],
        intent_weighted_f1=intent_scores["weighted"],
        entity_f1=entity_scores,
        cv_seconds=cv_seconds,
        train_seconds=model["seconds"],
        model_bytes=model["path"].stat().st_size,
        parse_median_ms=statistics.median(durations) * 1000,
        parse_p95_ms=percentile(durations, 0.95) * 1000,
    )


def format_entity_scores(scores: Dict[str, float]) -> str:
    """Return the entity F1 cell.

    Every extractor report lists each annotated entity, also for extractors
    that never predict it (such as a folio extractor), so with several reports
    the cell shows the best score and names its extractor. Rasa writes no
    report for an extractor that predicted no entity in any fold, so an empty
    `scores` means that the entity was never predicted.
    """
    if not scores:
        return "none predicted"
    if len(scores) == 1:
        return f"{next(iter(scores.values())):.3f}"
    extractor = max(scores, key=scores.get)
    return f"{scores[extractor]:.3f} ({extractor})"


def describe_data(data_path: Path) -> str:
    """Return the number of intents, examples and `category` annotations."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(data_path))
    annotated = sum(
        1
        for example in data.intent_examples
        for entity in example.get("entities") or []
        if entity.get("entity") == ENTITY_NAME
    )
    return (
        f"{len(data.intents)} intents, {len(data.intent_examples)} examples, "
        f"{annotated} `{ENTITY_NAME}` annotations"
    )


def render_markdown(
    results: Sequence[PipelineResult],
    args: argparse.Namespace,
    command: str,
    data_description: str,
) -> str:
    """Return the results table with the commands and the machine that ran them."""
    import rasa

    lines = [
        "# NLU cross-validation",
        "",
        f"Command: `{command}`",
        "",
        f"Data: `{args.data}` ({data_description}), "
        f"{args.folds}-fold cross-validation. The config and the data were copied "
        "at the start, and the Rasa commands below read the copies.",
        "",
        "| Pipeline | Intent macro-F1 | Intent weighted-F1 | `category` F1 "
        "| Cross-validation | Training | Model size | Parse median (p95) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        lines.append(
            f"| {result.name} | {result.intent_macro_f1:.3f} "
            f"| {result.intent_weighted_f1:.3f} "
            f"| {format_entity_scores(result.entity_f1)} "
            f"| {result.cv_seconds:.0f} s | {result.train_seconds:.1f} s "
            f"| {result.model_bytes / 1_000_000:.1f} MB "
            f"| {result.parse_median_ms:.1f} ms ({result.parse_p95_ms:.1f} ms) |"
        )

    lines += ["", "Pipelines:", ""]
    for result in results:
        lines.append(f"- {result.name}: {' → '.join(result.components)}")

    lines += ["", "Cross-validation commands:", ""]
    for result in results:
        lines.append(f"- {result.name}: `{result.cv_command}`")

    lines += [
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, Rasa {rasa.__version__}. "
        f"Run at {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
    ]
    return "\n".join(lines)


def invoked_command(argv: Sequence[str]) -> str:
    """Return the command line that started this script."""
    script = display_path(Path(__file__).resolve())
    return shlex.join([display_path(Path(sys.executable)), script, *argv])


def check_inputs(args: argparse.Namespace) -> None:
    """Raise SystemExit with a message when an input path or number is invalid."""
    config_path = resolve(args.config)
    if not config_path.is_file():
        raise SystemExit(
            f"Config file not found: {config_path}. Create it or pass --config."
        )
    data_path = resolve(args.data)
    if not data_path.exists():
        raise SystemExit(f"NLU data not found: {data_path}. Pass --data.")
    if args.folds < 2:
        raise SystemExit(f"--folds must be at least 2, got {args.folds}.")
    if args.parses < 1:
        raise SystemExit(f"--parses must be at least 1, got {args.parses}.")


def snapshot_inputs(args: argparse.Namespace, work_dir: Path) -> Tuple[Path, Path]:
    """Copy the config and the NLU data into `work_dir` and return the copies.

    A run takes tens of minutes, and every pipeline must see the same data even
    when someone edits the files in the meantime. Copies left in `work_dir` by
    an earlier run are replaced.
    """
    config_copy = work_dir / "project_config.yml"
    shutil.copy2(resolve(args.config), config_copy)

    data_source = resolve(args.data)
    data_copy = work_dir / "data"
    shutil.rmtree(data_copy, ignore_errors=True)
    if data_source.is_dir():
        shutil.copytree(data_source, data_copy)
    else:
        data_copy.mkdir()
        shutil.copy2(data_source, data_copy / data_source.name)
    return config_copy, data_copy


def run(
    args: argparse.Namespace, work_dir: Path
) -> Tuple[List[PipelineResult], str]:
    """Measure the project pipeline and, unless skipped, Rasa's default.

    Returns:
        The results per pipeline and a one-line description of the data.
    """
    config_path, data_path = snapshot_inputs(args, work_dir)
    data_description = describe_data(data_path)

    results = [measure_pipeline("project", config_path, data_path, args, work_dir)]
    if not args.skip_default:
        default_config = work_dir / "default_config.yml"
        write_default_config(default_config)
        default_result = measure_pipeline(
            "rasa-default", default_config, data_path, args, work_dir
        )
        results.append(default_result)
    return results, data_description


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Run the benchmark and write the Markdown results."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    check_inputs(args)

    # TensorFlow reads its log level when it is imported, so both variables
    # are set before the first import of Rasa.
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Custom components in the project config are imported by module path.
    sys.path.insert(0, str(PROJECT_ROOT))
    os.chdir(PROJECT_ROOT)

    from rasa.utils.log_utils import configure_structlog

    # Rasa's structured logs would otherwise print every parse at debug level.
    configure_structlog(logging.INFO)

    # Rasa prints progress to stdout, which must contain only the results.
    with contextlib.redirect_stdout(sys.stderr):
        if args.work_dir:
            work_dir = resolve(args.work_dir)
            work_dir.mkdir(parents=True, exist_ok=True)
            results, data_description = run(args, work_dir)
        else:
            with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as temp_dir:
                results, data_description = run(args, Path(temp_dir))

    markdown = render_markdown(
        results, args, invoked_command(argv), data_description
    )
    output_path = resolve(args.output)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text(markdown, encoding="utf-8")
    print(markdown)
    logger.info("Results written to %s", output_path)


if __name__ == "__main__":
    main()
