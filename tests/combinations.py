"""The combinations of answers the template is tested with: the one list.

Every test tier and the CI matrix take their combinations from here.

* Structural options (every list-valued option of cookiecutter.json except the
  variants below) change which files a project gets, so *every* combination of
  their values is tested. A value added to cookiecutter.json is picked up here
  without an edit.
* An option in ``APPLIES_WHEN`` is only meaningful when another option has a
  given value (``rds_engine`` only with ``storage=rds``); elsewhere it is left
  at its default and out of the combination's name.
* Variant options (``python_version``, ``architecture``) only change strings
  and which native wheels and bytecode the artifact holds, so they are not
  multiplied in: within each group of combinations that build the same kind
  of artifact (``BUILD_KEYS``), every pair of their values is dealt out in
  turn, and a group with fewer combinations than pairs gets extra ones, so
  every pair is built with every backend and store. The build tier builds
  exactly this list.

``python -m tests.combinations --json`` prints the list for a CI matrix.

A run can be narrowed to one combination (``make validate``): the environment
variable ``SERVERLESS_FLASK_COMBINATION`` holds its name, or a JSON object of
answers (the rest default; any python_version x architecture pair, listed or
not). ``COMBINATIONS`` is then that one combination, and every tier
parametrizes over it; ``ALL_COMBINATIONS`` is always the whole list.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
COOKIECUTTER_JSON = TEMPLATE_DIR / "cookiecutter.json"

VARIANT_OPTIONS = ("python_version", "architecture")

# option -> (option it depends on, value that makes it meaningful)
APPLIES_WHEN: dict[str, tuple[str, str]] = {
    "rds_engine": ("storage", "rds"),
}

# Options whose values change how the Lambda artifact is built and which
# native wheels it holds: every variant value must be built with each.
BUILD_KEYS = ("deployment", "storage", "rds_engine")

# Answer sets that make no sense together, each a partial answers dict: a
# combination matching every key of one is left out (and pre_gen_project.py
# rejects it). None yet.
INCOMPATIBLE: list[dict[str, str]] = []


@dataclass(frozen=True)
class Combination:
    name: str
    answers: dict[str, str] = field(hash=False)

    def __getitem__(self, option: str) -> str:
        return self.answers[option]

    def get(self, option: str, default: str | None = None) -> str | None:
        return self.answers.get(option, default)

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "answers": self.answers}


def load_options(path: Path = COOKIECUTTER_JSON) -> dict[str, list[str]]:
    """The list-valued (choice) options of cookiecutter.json, in file order."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        key: [str(value) for value in values]
        for key, values in raw.items()
        if isinstance(values, list) and not key.startswith("_")
    }


def applies(option: str, answers: Mapping[str, str]) -> bool:
    """Whether ``option`` means anything given the other answers."""
    if option not in APPLIES_WHEN:
        return True
    parent, value = APPLIES_WHEN[option]
    return answers.get(parent) == value


def structural_options(options: Mapping[str, Sequence[str]]) -> dict[str, Sequence[str]]:
    return {key: values for key, values in options.items() if key not in VARIANT_OPTIONS}


def structural_answers(options: Mapping[str, Sequence[str]]) -> Iterator[dict[str, str]]:
    """Every meaningful assignment of the structural options, defaults first."""
    structural = structural_options(options)
    seen: set[tuple[tuple[str, str], ...]] = set()
    for values in itertools.product(*structural.values()):
        answers = dict(zip(structural, values, strict=True))
        meaningful = {key: value for key, value in answers.items() if applies(key, answers)}
        if any(all(meaningful.get(k) == v for k, v in rule.items()) for rule in INCOMPATIBLE):
            continue
        key = tuple(meaningful.items())
        if key not in seen:  # an inapplicable option's values all collapse to one
            seen.add(key)
            yield meaningful


def combination_name(answers: Mapping[str, str], options: Mapping[str, Sequence[str]]) -> str:
    """``sam-dynamodb-ssm-none-py313-arm64``: structural values in option order, then variants."""
    parts = [answers[key] for key in structural_options(options) if key in answers]
    if "python_version" in answers:
        parts.append("py" + answers["python_version"].replace(".", ""))
    if "architecture" in answers:
        parts.append(answers["architecture"])
    return "-".join(parts)


def combinations(options: Mapping[str, Sequence[str]] | None = None) -> list[Combination]:
    options = load_options() if options is None else options
    variants = {key: options[key] for key in VARIANT_OPTIONS if key in options}

    groups: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for answers in structural_answers(options):
        group = tuple(answers.get(key, "") for key in BUILD_KEYS)
        groups.setdefault(group, []).append(answers)

    order = variant_order(variants)
    result: list[Combination] = []
    for members in groups.values():
        # Deal the variant tuples out in turn; repeat the group's first
        # combination while some tuple has not been dealt yet.
        needed = max(len(members), len(order))
        for index in range(needed):
            answers = dict(members[index] if index < len(members) else members[0])
            answers.update(zip(variants, order[index % len(order)], strict=True))
            result.append(Combination(combination_name(answers, options), answers))
    return result


def variant_order(variants: Mapping[str, Sequence[str]]) -> list[tuple[str, ...]]:
    """Every tuple of variant values, ordered so that the first few cover every value.

    Greedy: next comes the tuple with the most values not yet seen (the
    defaults first), so ``(3.13, arm64), (3.12, x86_64), (3.13, x86_64), ...``:
    a group's first combinations cover every value, and all of them every tuple.
    """
    remaining = list(itertools.product(*variants.values()))
    seen: set[tuple[str, str]] = set()
    order: list[tuple[str, ...]] = []
    while remaining:
        best = max(remaining, key=lambda t: sum((k, v) not in seen for k, v in zip(variants, t, strict=True)))
        remaining.remove(best)
        seen.update(zip(variants, best, strict=True))
        order.append(best)
    return order


ALL_COMBINATIONS = combinations()
BY_NAME = {combination.name: combination for combination in ALL_COMBINATIONS}


def by_name(name: str) -> Combination:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"no combination named {name!r}; `python -m tests.combinations` lists all {len(BY_NAME)}"
        ) from None


class SelectionError(ValueError):
    """A combination name or answers that name no combination the template can render."""


def from_answers(
    given: Mapping[str, object], options: Mapping[str, Sequence[str]] | None = None
) -> Combination:
    """The combination these answers make, the others at their defaults; listed or not."""
    options = load_options() if options is None else options
    unknown = sorted(set(given) - set(options))
    if unknown:
        raise SelectionError(f"unknown option(s) {', '.join(unknown)}; the options are {', '.join(options)}")
    for option, value in given.items():
        if value not in options[option]:
            allowed = ", ".join(json.dumps(choice) for choice in options[option])
            raise SelectionError(f"{option}={json.dumps(value)} is not one of {allowed}")
    chosen = {option: str(given.get(option, values[0])) for option, values in options.items()}
    for option in given:
        if not applies(option, chosen):
            parent, value = APPLIES_WHEN[option]
            raise SelectionError(f"{option} only applies with {parent}={value}")
    for rule in INCOMPATIBLE:
        if all(chosen.get(key) == value for key, value in rule.items()):
            raise SelectionError(f"these answers do not go together: {json.dumps(rule)}")
    # In a listed combination's order: structural options, then variants.
    order = [*structural_options(options), *(key for key in VARIANT_OPTIONS if key in options)]
    answers = {option: chosen[option] for option in order if applies(option, chosen)}
    name = combination_name(answers, options)
    return BY_NAME.get(name) or Combination(name, answers)


def parse_answers(text: str) -> Combination:
    """The combination a JSON object of answers makes."""
    try:
        given = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SelectionError(f"the answers are not valid JSON: {exc}") from None
    if not isinstance(given, dict):
        raise SelectionError("the answers must be a JSON object of option: value")
    return from_answers(given)


def select(value: str) -> Combination:
    """A combination by name, or by a JSON object of answers."""
    if value.lstrip().startswith(("{", "[")):
        return parse_answers(value)
    try:
        return by_name(value.strip())
    except KeyError as exc:
        raise SelectionError(f"{exc.args[0]}, or give answers as a JSON object") from None


# Narrows every tier of a run to one combination (see the module's docstring).
SELECT_ENV = "SERVERLESS_FLASK_COMBINATION"
SELECTION_ERROR: str | None = None
SELECTED: Combination | None = None
try:
    SELECTED = select(os.environ[SELECT_ENV]) if os.environ.get(SELECT_ENV, "").strip() else None
except SelectionError as exc:
    SELECTION_ERROR = f"{SELECT_ENV}: {exc}"  # tests/conftest.py stops the run with it
COMBINATIONS: list[Combination] = (
    [] if SELECTION_ERROR else [SELECTED] if SELECTED is not None else ALL_COMBINATIONS
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.combinations", description="List the combinations the template is tested with."
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one line of JSON: [{name, answers}, ...]")
    output.add_argument("--names", action="store_true", help="one name per line (the default)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--name", help="only this combination")
    which.add_argument("--answers", metavar="JSON", help="only the combination these answers make")
    which.add_argument(
        "--selected",
        action="store_true",
        help=f"only the combination ${SELECT_ENV} selects (a name or answers)",
    )
    args = parser.parse_args(argv)

    try:
        if args.selected:
            if SELECTION_ERROR:
                raise SelectionError(SELECTION_ERROR)
            if SELECTED is None:
                raise SelectionError(f"{SELECT_ENV} is not set: give a combination's name or answers as JSON")
            selected = [SELECTED]
        elif args.name is not None:
            selected = [by_name(args.name)]
        elif args.answers is not None:
            selected = [parse_answers(args.answers)]
        else:
            selected = ALL_COMBINATIONS
    except (SelectionError, KeyError) as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([combination.to_json() for combination in selected], separators=(",", ":")))
    else:
        for combination in selected:
            print(combination.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
