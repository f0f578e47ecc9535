"""A rules file: a web store's rules written down, as a web developer keeps them with the rest of
the shop's settings, loaded with `tandem --load-rules FILE` (the manager's action, audited like a
rule changed at the console). Every rule is checked before any is saved.

    [[rules.Web]]              # the web store's name, as in the settings file
    category = "Helmets"       # or brand = "...", or product = "SKU"; none: every product
    safety_stock = 2           # or in_store_only = true (above_price = 3000), price_percent = -5,
                               # price_amount = -2, ending = ".99", floor_amount = 25, floor_percent = 90
    remove = true              # takes the rule of that kind off these products instead
"""

from __future__ import annotations

import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path

from core.audit import Actor
from core.i18n import _
from core.models import RuleKind, RuleScope
from core.rules import Rule, RuleEffect, RuleError, channel_id_of, channel_rules, checked, remove_rule, save_rule

SCOPES = {"product": RuleScope.PRODUCT, "brand": RuleScope.BRAND, "category": RuleScope.CATEGORY}
KINDS = {"safety_stock": RuleKind.SAFETY_STOCK, "in_store_only": RuleKind.IN_STORE_ONLY,
         "price_percent": RuleKind.PRICE, "price_amount": RuleKind.PRICE, "ending": RuleKind.PRICE,
         "floor_amount": RuleKind.PRICE_FLOOR, "floor_percent": RuleKind.PRICE_FLOOR}
KNOWN = {*SCOPES, *KINDS, "above_price", "remove"}


def _amount(value, key: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise RuleError(_("{key} is a number").format(key=key))
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise RuleError(_("{key} is a number").format(key=key))


def rule_of(table: dict) -> tuple[Rule, bool]:
    """One `[[rules.NAME]]` table as a checked rule, and whether it is to be removed."""
    unknown = sorted(set(table) - KNOWN)
    if unknown:
        raise RuleError(_("unknown key {key}; known: {known}").format(key=unknown[0], known=", ".join(sorted(KNOWN))))
    scopes = [key for key in SCOPES if key in table]
    if len(scopes) > 1:
        raise RuleError(_("a rule is for one brand, category or product, not {keys}").format(keys=" and ".join(scopes)))
    kinds = {KINDS[key] for key in KINDS if key in table}
    if len(kinds) != 1:
        raise RuleError(_("a rule does one thing: safety_stock, in_store_only, price_percent / price_amount / "
                          "ending, or floor_amount / floor_percent"))
    kind = kinds.pop()
    scope = SCOPES[scopes[0]] if scopes else RuleScope.CHANNEL
    target = str(table[scopes[0]]) if scopes else ""
    if kind == RuleKind.IN_STORE_ONLY and table["in_store_only"] is not True:
        raise RuleError(_("in_store_only = true, or no such key"))
    units = table.get("safety_stock")
    if units is not None and (isinstance(units, bool) or not isinstance(units, int)):
        raise RuleError(_("safety_stock is a whole number of units"))
    percent = _amount(table.get("price_percent", table.get("floor_percent")), "percent")
    amount = _amount(table.get("price_amount", table.get("floor_amount")), "amount")
    ending = table.get("ending")
    rule = Rule(kind, scope, target, units=units, above_price=_amount(table.get("above_price"), "above_price"),
                percent=percent, amount=amount, ending=str(ending) if ending is not None else None)
    remove = table.get("remove", False) is True
    return (rule if remove else checked(rule)), remove


def read_rules_file(path: Path) -> list[tuple[str, int, Rule, bool]]:
    """(store, number in the file, rule, remove) for every rule, or a RuleError naming the first
    that cannot be."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(_("cannot read {path}: {reason}").format(path=path, reason=exc))
    if set(data) - {"rules"} or not isinstance(data.get("rules"), dict):
        raise RuleError(_("{path}: a rules file has [[rules.STORE]] tables only").format(path=path))
    found = []
    for store, tables in data["rules"].items():
        if not isinstance(tables, list):
            raise RuleError(_("{path}: [[rules.{store}]] (two brackets: a store has a list of rules)").format(
                path=path, store=store))
        for number, table in enumerate(tables, 1):
            try:
                rule, remove = rule_of(table)
            except RuleError as exc:
                raise RuleError(_("{path}: rule {number} of {store}: {reason}").format(
                    path=path, number=number, store=store, reason=exc))
            found.append((store, number, rule, remove))
    return found


def _rules_of(engine, store: str) -> list[Rule]:
    with engine.connect() as conn:
        return channel_rules(conn, channel_id_of(conn, store))


def load_rules_file(engine, path: Path, actor: Actor) -> list[tuple[str, Rule, RuleEffect]]:
    """Every rule checked, and every store named known, before the first is saved."""
    from sqlalchemy import select

    from core.models import SalesChannel
    from core.roles import require

    require(actor, "rules.change")
    found = read_rules_file(path)
    with engine.connect() as conn:
        known = set(conn.execute(select(SalesChannel.name)).scalars())
    for store, number, rule, remove in found:
        if store not in known:
            raise RuleError(_("{path}: no web store named {name} (the names are the settings file's)").format(
                path=path, name=repr(store)[:100]))
        if remove and not any(kept.family == rule.family and kept.scope == rule.scope and kept.key == rule.key
                              for kept in _rules_of(engine, store)):
            raise RuleError(_("{path}: rule {number} of {store}: no such rule to remove").format(
                path=path, number=number, store=store))
    return [(store, rule, (remove_rule if remove else save_rule)(engine, store, rule, actor))
            for store, _number, rule, remove in found]
