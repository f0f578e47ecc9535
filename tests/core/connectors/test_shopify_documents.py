"""Every GraphQL document the Shopify connector can send, checked against Shopify's published
Admin API schema (2025-01, and each version Tandem is tested with: 2025-01 extended with exactly
what Shopify documents as added since), and its worst-case cost against the 1,000-point limit."""

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
from core.connectors import shopify_versions as versions

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


def with_group_objects(introspection: dict) -> dict:
    """2026-01's bulkOperationRunQuery argument `groupObjects: Boolean! = false`."""
    mutation = next(t for t in introspection["__schema"]["types"] if t["name"] == "Mutation")
    field = next(f for f in mutation["fields"] if f["name"] == "bulkOperationRunQuery")
    field["args"].append({"name": "groupObjects", "description": None, "defaultValue": "false",
                          "isDeprecated": False, "deprecationReason": None, "type": {
                              "kind": "NON_NULL", "name": None, "ofType": {"kind": "SCALAR", "name": "Boolean",
                                                                            "ofType": None}}})
    return introspection


@pytest.fixture(scope="module")
def schema_2026():
    """2025-01 plus exactly what 2026 versions add for bulk queries and inventory mutations."""
    base = build_client_schema(with_group_objects(json.load(gzip.open(SCHEMA_FILE))["data"]))
    base._validation_errors = []
    extended = extend_schema(base, parse(
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


# What each tested version adds to 2025-01, as Shopify's changelog documents it: from 2026-01
# `groupObjects` on bulk queries, `changeFromQuantity` on inventory quantities and the
# `@idempotent` directive (mandatory on inventory mutations from 2026-04). Nothing else Tandem
# asks for changed in between; so the schema_2026 fixture is each tested version's schema.


@pytest.mark.parametrize("version", versions.TESTED)
def test_every_document_sent_to_a_tested_version_is_valid_against_it(schema_2026, version):
    assert version >= "2026-01"
    documents = shopify.documents_for(version)
    assert documents["set_stock"] == shopify.stock_document(shopify.STOCK_ALIASES, idempotent=version >= "2026-04")
    invalid = {name: validate(schema_2026, parse(document)) for name, document in documents.items()}
    assert {name: errors for name, errors in invalid.items() if errors} == {}
    for calls in (1, 2, shopify.STOCK_ALIASES):
        assert validate(schema_2026, parse(shopify.stock_document(calls, idempotent=version >= "2026-04"))) == []
        assert validate(schema_2026, parse(shopify.prices_document(calls))) == []
    for bulk_query in shopify.BULK_QUERIES.values():
        assert validate(schema_2026, parse(bulk_query)) == []


def test_the_default_version_is_the_newest_tested_and_tested_versions_are_quarterly():
    assert versions.DEFAULT == versions.TESTED[-1] == shopify.DEFAULT_API_VERSION
    assert all(versions.is_version(version) for version in versions.TESTED)
    assert list(versions.TESTED) == sorted(set(versions.TESTED))
    assert versions.retires_on("2026-10").isoformat() == "2027-10-01"
    assert "2025-01" not in versions.TESTED  # retired on 2026-01-01


def test_the_2026_inventory_document_is_not_valid_without_them(schema):
    assert validate(schema, parse(shopify.stock_document(2, idempotent=True))) != []


VARIABLES_FOR = {
    "check_access": {},
    "check_locations": {},
    "check_linked": {},
    "check_by_sku": {"first": shopify.CHECK_SAMPLE},
    "listings": {"first": shopify.LISTING_PAGE},
    "orders": {"first": shopify.ORDER_PAGE, "lines": shopify.ORDER_FIRST_LINES},
    "order_lines": {"lines": shopify.ORDER_LINES},
    "capturable": {},
    "captures": {},
    "refundable": {},
    "bulk_status": {},
    "current_bulk": {},
    "product_statuses": {},
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
        return 10 * len(operation.selection_set.selections)  # each mutation field, aliased or not

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


@pytest.mark.parametrize("calls", [1, 2, shopify.STOCK_ALIASES])
def test_aliased_stock_documents_are_valid_at_every_size(schema, schema_2026, calls):
    assert validate(schema, parse(shopify.stock_document(calls))) == []
    assert validate(schema_2026, parse(shopify.stock_document(calls, idempotent=True))) == []


@pytest.mark.parametrize("calls", [1, 2, shopify.PRICE_ALIASES])
def test_aliased_price_documents_are_valid_at_every_size(schema, calls):
    assert validate(schema, parse(shopify.prices_document(calls))) == []


@pytest.mark.parametrize("calls", [1, 2, shopify.PRICE_ALIASES])
def test_aliased_status_documents_are_valid_at_every_size(schema, calls):
    """productUpdate(product: ProductUpdateInput) with a status: unpublishing for an in-store-only rule."""
    assert validate(schema, parse(shopify.status_document(calls))) == []


def test_aliased_mutations_stay_within_the_cost_cap_and_the_cap_is_reached(schema):
    assert cost(schema, shopify.status_document(shopify.PRICE_ALIASES), {}) <= QUERY_COST_LIMIT
    assert cost(schema, shopify.prices_document(shopify.PRICE_ALIASES), {}) <= QUERY_COST_LIMIT
    assert cost(schema, shopify.prices_document(shopify.PRICE_ALIASES + 1), {}) > QUERY_COST_LIMIT
    assert cost(schema, shopify.stock_document(shopify.STOCK_ALIASES), {}) <= QUERY_COST_LIMIT
    assert shopify.ShopifyConnector.stock_batch_size == shopify.STOCK_BATCH * shopify.STOCK_ALIASES


@pytest.mark.parametrize("first,lines", [(1, 1), (2, 3), (shopify.ORDER_PAGE, shopify.ORDER_FIRST_LINES), (3, 20)])
def test_the_connectors_cost_model_is_shopifys_calculation(schema, first, lines):
    from core.connectors import shopify_cost

    assert shopify_cost.orders_cost(first, lines) == cost(schema, shopify.ORDERS, {"first": first, "lines": lines})
    assert shopify_cost.listings_cost(first) == cost(schema, shopify.LISTINGS, {"first": first})
    assert shopify_cost.order_lines_cost(lines) == cost(schema, shopify.ORDER_LINES_PAGE, {"lines": lines})


def test_pages_carry_as_many_orders_and_listings_as_the_cap_allows(schema):
    def orders(first):
        return cost(schema, shopify.ORDERS, {"first": first, "lines": shopify.ORDER_FIRST_LINES})

    assert orders(shopify.ORDER_PAGE) <= QUERY_COST_LIMIT < orders(shopify.ORDER_PAGE + 1)
    assert cost(schema, shopify.LISTINGS, {"first": shopify.LISTING_PAGE}) <= QUERY_COST_LIMIT \
        < cost(schema, shopify.LISTINGS, {"first": shopify.LISTING_PAGE + 1})


@pytest.mark.parametrize("name", ["TandemListings", "TandemOrders", "TandemOrderLines"])
def test_the_demo_store_charges_what_shopify_calculates(schema, name):
    from core.demo_store.shopify_api import requested_cost

    document = {"TandemListings": shopify.LISTINGS, "TandemOrders": shopify.ORDERS,
                "TandemOrderLines": shopify.ORDER_LINES_PAGE}[name]
    for variables in ({"first": 7, "lines": 2}, {"first": 17, "lines": 3}):
        assert requested_cost(name, document, variables) == cost(schema, document, variables)
    for calls in (1, 40):
        assert requested_cost("TandemSetPrices", shopify.prices_document(calls), {}) == \
            cost(schema, shopify.prices_document(calls), {})


@pytest.mark.parametrize("name", sorted(shopify.BULK_QUERIES))
def test_bulk_queries_are_valid_and_within_shopifys_bulk_limits(schema, name):
    """At most five connections, nested at most two deep, no top-level node(s)."""
    document = parse(shopify.BULK_QUERIES[name])
    assert validate(schema, document) == []
    operation = document.definitions[0]

    def connections(selections, parent, depth):
        found = []
        for field in selections:
            named = get_named_type(parent.fields[field.name.value].type)
            if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)) or field.selection_set is None:
                continue
            inner = depth + named.name.endswith("Connection")
            if named.name.endswith("Connection"):
                found.append(inner)
            found += connections(field.selection_set.selections, named, inner)
        return found

    assert operation.selection_set.selections[0].name.value not in ("node", "nodes")
    depths = connections(operation.selection_set.selections, schema.query_type, 0)
    assert 1 <= len(depths) <= 5 and max(depths) <= 2, depths


def test_the_bulk_query_takes_groupobjects_only_from_2026(schema):
    from core.connectors import shopify_bulk

    assert validate(schema, parse(shopify_bulk.RUN_QUERY)) == []
    assert validate(schema, parse(shopify_bulk.RUN_QUERY_2026)) != [], "2025-01 has no groupObjects argument"
