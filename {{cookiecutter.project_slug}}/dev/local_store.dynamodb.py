"""The local DynamoDB table: created in the emulator from {{ cookiecutter.__stack_template }}'s definition.

Reading the key schema and indexes from the deployed template keeps local
runs and tests on exactly the table the stack creates.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import yaml

from {{ cookiecutter.package_name }}.storage import QuestionRepository

from . import local_aws

TEMPLATE = Path(__file__).resolve().parent.parent / "{{ cookiecutter.__stack_template }}"
TABLE_TYPE = "AWS::DynamoDB::Table"
# Properties that describe the table's shape; the rest (billing, backups,
# encryption, tags) has no meaning in the emulator.
SHAPE = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")
# The stores the API's tests run on: the emulator's table.
TEST_STORES = ("DynamoDB",)


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads CloudFormation YAML; short-form functions (!Ref, !Sub...) load as plain values."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


# Read once per process: every test's stage creates a table, and parsing the template costs ~40 ms.
@functools.cache
def table_definition(template: Path = TEMPLATE) -> dict[str, Any]:
    """The table's shape in ``template``; shared, so not to be changed."""
    resources = yaml.load(template.read_text(), Loader=_CloudFormationLoader)["Resources"]  # noqa: S506
    tables = [resource["Properties"] for resource in resources.values() if resource["Type"] == TABLE_TYPE]
    if len(tables) != 1:
        raise ValueError(f"{template} must define exactly one {TABLE_TYPE}, found {len(tables)}")
    return {key: tables[0][key] for key in SHAPE if key in tables[0]}


def create_table(name: str) -> None:
    client = local_aws.client("dynamodb")
    if name in client.list_tables()["TableNames"]:
        return
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **table_definition())


def services(purpose: str) -> AbstractContextManager[None]:
    """The AWS emulator, where the tables live."""
    return local_aws.running(purpose)


def configure(stage: str) -> dict[str, str]:
    """Create this stage's table in the emulator; return the environment the app needs."""
    name = f"{{ cookiecutter.project_slug }}-{stage}"
    create_table(name)
    return {**local_aws.client_environment(), "TABLE_NAME": name}


@contextmanager
def store_for(name: str, directory: Path) -> Iterator[Callable[[], QuestionRepository] | None]:
    """The repository the app is given to run on ``name`` of TEST_STORES: the stage's own table (None)."""
    yield None
