"""Measure the trained model on real messages that nobody on the team wrote.

The messages are requests that people sent to another city's public service
(Spain's Spanish, so harder than Cancún's), each labelled with this
project's category id. The script parses each one with the trained model and
reads the category the way the report form does: a `category` entity whose
value is a known id, else the catalog's keywords. It prints the share of
messages classified as `report_issue` and the category accuracy, overall and
per category.

    .venv/bin/python bench/transfer_real.py [--data ../shared/real/madrid_routing.yml]
"""

import argparse
import asyncio
import collections
import sys
from pathlib import Path
from typing import Dict, List, Optional

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from actions.catalog import get_catalog  # noqa: E402


def category_of(parse: Dict, allowed: List[str]) -> Optional[str]:
    """Read the category as the report form does."""
    for entity in parse.get("entities", []):
        if entity.get("entity") == "category" and entity.get("value") in allowed:
            return entity["value"]
    return get_catalog().match_category(parse.get("text", ""), "reporte")


async def evaluate(data_path: Path, model_path: Path) -> str:
    from rasa.core.agent import Agent

    items = yaml.safe_load(data_path.read_text("utf-8"))
    agent = Agent.load(str(model_path))
    allowed = [category.id for category in get_catalog().categories_for("reporte")]
    allowed += [category.id for category in get_catalog().categories_for("denuncia")]

    intents = collections.Counter()
    per_category = collections.defaultdict(lambda: [0, 0])
    for item in items:
        parse = await agent.parse_message(item["text"])
        intents[parse["intent"]["name"]] += 1
        hit = category_of(parse, allowed) == item["category"]
        per_category[item["category"]][0] += int(hit)
        per_category[item["category"]][1] += 1

    total = len(items)
    correct = sum(hits for hits, _ in per_category.values())
    lines = [
        f"messages: {total}",
        f"intent report_issue: {intents['report_issue'] / total:.2f} "
        f"(all intents: {dict(intents.most_common())})",
        f"category accuracy: {correct / total:.2f}",
        "",
        "| category | messages | correct |",
        "|---|---|---|",
    ]
    for category, (hits, count) in sorted(per_category.items()):
        lines.append(f"| {category} | {count} | {hits / count:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=PROJECT_ROOT.parent / "shared" / "real" / "madrid_routing.yml",
        help="YAML list of {text, category} items",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=PROJECT_ROOT / "models" / "chatcun.tar.gz",
        help="trained model archive (make train)",
    )
    arguments = parser.parse_args()
    if not arguments.data.is_file():
        parser.error(f"data file not found: {arguments.data}")
    if not arguments.model.is_file():
        parser.error(f"model not found: {arguments.model}; run `make train` first")
    print(asyncio.run(evaluate(arguments.data, arguments.model)))


if __name__ == "__main__":
    main()
