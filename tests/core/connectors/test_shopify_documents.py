"""Every GraphQL document the Shopify connector can send, checked against Shopify's published
Admin API schema (2025-01), and its worst-case cost against the 1,000-point query limit."""

import gzip
import json
from pathlib import Path

import pytest
from graphql import (
    GraphQLInterfaceType, GraphQLObjectType, build_client_schema, extend_schema, get_named_type, parse,
    validate,
)
from graphql.language import (
    FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, OperationDefinitionNode, VariableNode,
)

from core.connectors import shopify

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "platforms/shopify/admin_schema_2025-01.json.gz"
QUERY_COST_LIMIT = 1000


@pytest.fixture(scope="module")
def schema():
    if not SCHEMA_FILE.exists():
        pytest.fail(f"Shopify's schema is missing: {SCHEMA_FILE}")
    loaded = build_client_schema(json.load(gzip.open(SCHEMA_FILE))["data"])
    # graphql-core's own schema self-check trips on a deprecation rule in Shopify's schema; it
    # says nothing about the documents, which are still validated in full.
    loaded._validation_errors = []
    return loaded


@pytest.fixture(scope="module")
def schema_2026(schema):
    """2025-01 plus exactly what 2026 versions add for inventory mutations."""
    extended = extend_schema(schema, parse(
        "directive @idempotent(key: String!) on FIELD\n"
        "extend input InventoryQuantityInput { changeFromQuantity: Int }"
    ))
    extended._validation_errors = []
    return extended


@pytest.mark.parametrize("name", shopify.DOCUMENTS)
def test_every_document_is_valid_against_shopifys_schema(schema, name):
    assert validate(schema, parse(shopify.DOCUMENTS[name])) == []


@pytest.mark.parametrize("name", shopify.DOCUMENTS_2026)
def test_2026_documents_are_valid_against_the_2026_additions(schema_2026, name):
    assert validate(schema_2026, parse(shopify.DOCUMENTS_2026[name])) == []


def test_the_2026_inventory_document_is_not_valid_without_them(schema):
    assert validate(schema, parse(shopify.SET_STOCK_2026)) != []


VARIABLES_FOR = {
    "check": {"first": shopify.CHECK_SAMPLE},
    "listings": {"first": shopify.LISTING_PAGE},
    "orders": {"first": shopify.ORDER_PAGE, "lines": shopify.ORDER_LINES},
    "order_lines": {"lines": shopify.ORDER_LINES},
    "capturable": {},
    "captures": {},
    "refundable": {},
}
QUERIES = [name for name, document in shopify.DOCUMENTS.items() if document.lstrip().startswith("query")]


def test_every_query_has_its_page_sizes_listed_for_the_cost_check():
    assert sorted(QUERIES) == sorted(VARIABLES_FOR)


def cost(schema, document: str, variables: dict) -> int:
    """Shopify's calculated query cost, worst case: an object costs 1 plus what it selects; a
    connection 2 plus `first` times its node (edges and pageInfo are free); a list field with
    `first` that many times its item; scalars and enums nothing; a mutation 10."""
    definitions = parse(document).definitions
    operation = next(d for d in definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    if operation.operation.value == "mutation":
        return 10

    def fields(selections):
        for selection in selections:
            if isinstance(selection, FragmentSpreadNode):
                yield from fields(fragments[selection.name.value].selection_set.selections)
            else:
                yield selection

    def first_of(field: FieldNode) -> int | None:
        for argument in field.arguments:
            if argument.name.value == "first":
                value = argument.value
                return variables[value.name.value] if isinstance(value, VariableNode) else int(value.value)
        return None

    def objects(parent, selections) -> int:
        total = 0
        for field in fields(selections):
            if isinstance(field, InlineFragmentNode):  # `... on Location`: that type's own fields
                total += objects(schema.type_map[field.type_condition.name.value], field.selection_set.selections)
                continue
            named = get_named_type(parent.fields[field.name.value].type)
            if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
                continue
            if named.name.endswith("Connection"):
                total += 2 + (first_of(field) or 1) * connection_node(named, field.selection_set.selections)
            elif named.name == "PageInfo":
                continue
            else:
                one = 1 + objects(named, field.selection_set.selections)
                total += (first_of(field) or 1) * one
        return total

    def connection_node(connection, selections) -> int:
        for field in fields(selections):
            if field.name.value == "edges":
                edge = get_named_type(connection.fields["edges"].type)
                for inner in fields(field.selection_set.selections):
                    if inner.name.value == "node":
                        node = get_named_type(edge.fields["node"].type)
                        return 1 + objects(node, inner.selection_set.selections)
            if field.name.value == "nodes":
                node = get_named_type(connection.fields["nodes"].type)
                return 1 + objects(node, field.selection_set.selections)
        return 1

    return objects(schema.query_type, operation.selection_set.selections)


@pytest.mark.parametrize("name", QUERIES)
def test_every_query_costs_less_than_the_limit_at_the_page_sizes_used(schema, name):
    estimated = cost(schema, shopify.DOCUMENTS[name], VARIABLES_FOR[name])
    assert 0 < estimated <= QUERY_COST_LIMIT, estimated


def test_the_cost_estimate_notices_a_page_too_large(schema):
    assert cost(schema, shopify.LISTINGS, {"first": 250}) > QUERY_COST_LIMIT


def test_stock_batches_are_the_documented_maximum():
    assert shopify.STOCK_BATCH == 250
