"""Channel rules: what a web store is sent, as the shop decides it, rather than the POS as it is.

- safety stock: units held back for the shop floor (per category, brand or product; the channel's
  own is `safety_buffer` in the settings file);
- in store only: sent as 0 whatever the shop has (per category, brand or product, optionally only
  above a price: "bikes over 3,000");
- price: the shop's price, a percentage or an amount off or on, rounded to the shop's price ending;
- price floor: no price rule goes under it (a minimum advertised price per product, from the
  catalog import or by hand, or per brand as a share of the list price).

Of each family (quantity, price, floor) the most specific rule wins: product over brand over
category over channel. Each decision names its rule, so the console and the dry run show
POS → rule → store, and a rule change says how many products it moves before they are sent
through the change path (one change row per product moved).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Iterable

from sqlalchemy import Connection, Engine, delete, false, func, insert, or_, select, true, update

from core.audit import Actor, record
from core.dbtypes import utcnow
from core.i18n import _, ngettext
from core.models import (ChannelRule, Change, Product, ProductLink, RuleKind, RuleScope, SalesChannel, Stock)
from core.roles import require

log = logging.getLogger(__name__)
rule_table = ChannelRule.__table__
CENT = Decimal("0.01")
FAMILY = {RuleKind.SAFETY_STOCK: "quantity", RuleKind.IN_STORE_ONLY: "quantity", RuleKind.PRICE: "price",
          RuleKind.PRICE_FLOOR: "floor"}
# Most specific first: the first rule of a family that applies to a product is its rule.
PRECEDENCE = (RuleScope.PRODUCT, RuleScope.BRAND, RuleScope.CATEGORY, RuleScope.CHANNEL)
MAX_UNITS = 1_000_000


def fold(text: str | None) -> str:
    """How a rule's target and a product's SKU, brand or category are compared: spaces around
    and capitals (accented ones too) ignored."""
    return (text or "").strip().lower()


def matching(column, keys: set[str]):
    """SQL that finds at least every row whose `column` folds to one of `keys` (the rule book then
    decides exactly). SQLite's lower() folds ASCII capitals only, so a key with other letters is
    matched with each of them as a one-character wildcard."""
    folded = func.lower(func.trim(column))
    plain = sorted(key for key in keys if key.isascii())
    terms = [folded.in_(plain)] if plain else []
    for key in sorted(keys - set(plain)):
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        terms.append(folded.like("".join(c if c.isascii() else "_" for c in escaped), escape="\\"))
    return func.coalesce(or_(*terms), false()) if terms else false()


class RuleError(ValueError):
    """A rule that cannot be: said in one line, nothing saved."""


@dataclass(frozen=True)
class Rule:
    kind: RuleKind
    scope: RuleScope
    target: str = ""
    units: int | None = None
    above_price: Decimal | None = None
    percent: Decimal | None = None
    amount: Decimal | None = None
    ending: str | None = None
    id: int | None = None
    changed_by: str | None = None

    @property
    def family(self) -> str:
        return FAMILY[self.kind]

    @property
    def key(self) -> str:
        return fold(self.target)

    def where(self) -> str:
        """Which products, in the shop's words."""
        if self.scope == RuleScope.CHANNEL:
            return _("every product")
        words = {RuleScope.BRAND: _("brand {target}"), RuleScope.CATEGORY: _("category {target}"),
                 RuleScope.PRODUCT: _("product {target}")}[self.scope]
        return words.format(target=self.target)

    def what(self) -> str:
        """What it does, in the shop's words."""
        if self.kind == RuleKind.SAFETY_STOCK:
            return _("keep {units} back").format(units=self.units)
        if self.kind == RuleKind.IN_STORE_ONLY:
            if self.above_price is not None:
                return _("in store only over {price}").format(price=self.above_price)
            return _("in store only")
        if self.kind == RuleKind.PRICE:
            parts = []
            if self.percent:
                parts.append(f"{self.percent:+}%".replace(".00%", "%"))
            if self.amount:
                parts.append(f"{self.amount:+}")
            if self.ending:
                parts.append(_("ending {ending}").format(ending=self.ending))
            return _("price {change}").format(change=" ".join(parts) or _("as in the shop"))
        if self.amount is not None:
            return _("floor {amount}").format(amount=self.amount)
        return _("floor {percent} of list price").format(percent=f"{_plain(self.percent)}%")

    @property
    def name(self) -> str:
        return f"{self.what()} · {self.where()}"


def _plain(amount: Decimal | None) -> str:
    return "" if amount is None else (f"{amount:f}".rstrip("0").rstrip(".") if "." in f"{amount:f}" else f"{amount}")


@dataclass(frozen=True)
class ProductFacts:
    """What the rules look at: one product as the shop has it."""

    sku: str
    brand: str | None
    category: str | None
    price: Decimal
    msrp: Decimal | None = None
    map_price: Decimal | None = None


@dataclass(frozen=True)
class Decision:
    value: object
    rule: str  # the rule's name, or what the value is without one


@dataclass
class RuleBook:
    """One channel's rules, read once, asked per product."""

    channel_buffer: int = 0
    rules: dict[tuple[str, RuleScope, str], Rule] = field(default_factory=dict)

    @classmethod
    def of(cls, rules: Iterable[Rule], channel_buffer: int = 0) -> RuleBook:
        return cls(channel_buffer or 0, {(rule.family, rule.scope, rule.key): rule for rule in rules})

    @property
    def empty(self) -> bool:
        return not self.rules

    def _first(self, family: str, product: ProductFacts) -> Rule | None:
        keys = {RuleScope.PRODUCT: fold(product.sku), RuleScope.BRAND: fold(product.brand),
                RuleScope.CATEGORY: fold(product.category), RuleScope.CHANNEL: ""}
        for scope in PRECEDENCE:
            if scope != RuleScope.CHANNEL and not keys[scope]:
                continue
            rule = self.rules.get((family, scope, keys[scope]))
            if rule is None:
                continue
            if rule.kind == RuleKind.IN_STORE_ONLY and rule.above_price is not None \
                    and product.price <= rule.above_price:
                continue  # not this product: a less specific rule may still apply
            return rule
        return None

    def quantity(self, product: ProductFacts, pos_available: int) -> Decision:
        """What the store is sent of `pos_available` (on hand less committed)."""
        rule = self._first("quantity", product)
        if rule is None:
            held = self.channel_buffer
            named = _("channel safety stock {units}").format(units=held) if held else _("as in the shop")
            return Decision(max(pos_available - held, 0), named)
        if rule.kind == RuleKind.IN_STORE_ONLY:
            return Decision(0, rule.name)
        return Decision(max(pos_available - (rule.units or 0), 0), rule.name)

    def held_back(self, product: ProductFacts) -> tuple[bool, int, str]:
        """(in store only, units held back, the rule's name) for the product."""
        rule = self._first("quantity", product)
        if rule is None:
            return False, self.channel_buffer, _("channel safety stock {units}").format(units=self.channel_buffer)
        return rule.kind == RuleKind.IN_STORE_ONLY, rule.units or 0, rule.name

    def floor(self, product: ProductFacts) -> Decision | None:
        by_hand = self.rules.get(("floor", RuleScope.PRODUCT, fold(product.sku)))
        if by_hand is None and product.map_price is not None:
            return Decision(product.map_price, _("minimum advertised price {amount}").format(amount=product.map_price))
        rule = self._first("floor", product)
        if rule is None:
            return None
        if rule.amount is not None:
            return Decision(rule.amount, rule.name)
        base = product.msrp if product.msrp is not None else product.price
        return Decision((base * rule.percent / 100).quantize(CENT, ROUND_HALF_UP), rule.name)

    def price(self, product: ProductFacts) -> Decision:
        rule = self._first("price", product)
        if rule is None:
            return Decision(product.price, _("as in the shop"))
        adjusted = product.price * (1 + (rule.percent or Decimal(0)) / 100) + (rule.amount or Decimal(0))
        floor = self.floor(product)
        if adjusted <= 0 and floor is None:
            # An amount off larger than the price: never a free or one-cent product on the web.
            return Decision(product.price, _("{rule} would go to nothing: the shop's price").format(rule=rule.name))
        adjusted = round_to_ending(max(adjusted, CENT), rule.ending)
        if floor is not None and adjusted < floor.value:
            return Decision(floor.value, _("{rule}, stopped at {floor}").format(rule=rule.name, floor=floor.rule))
        return Decision(adjusted, rule.name)


def round_to_ending(price: Decimal, ending: str | None) -> Decimal:
    """To the nearest price with the shop's ending: ".99" makes 47.32 into 46.99 or 47.99 (the
    nearer), "9.00" makes 123.40 into 119.00. Never under one step's ending (a price stays > 0)."""
    price = price.quantize(CENT, ROUND_HALF_UP)
    if not ending:
        return price
    value = Decimal(ending)
    whole_digits = len(ending.split(".")[0])
    step = Decimal(10) ** whole_digits
    below = ((price - value) / step).to_integral_value(rounding="ROUND_FLOOR") * step + value
    above = below + step
    nearest = below if price - below < above - price else above
    return nearest if nearest > 0 else above


def parse_ending(ending: str | None) -> str | None:
    if ending is None or not ending.strip():
        return None
    text = ending.strip().replace(",", ".")
    if text.startswith("."):
        text = "0" + text if len(text) == 3 else text
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RuleError(_("a price ending looks like .99, .95 or 9.00, not {value}").format(value=repr(ending)[:20]))
    if value < 0 or value.as_tuple().exponent != -2 or len(text.split(".")[0]) > 3:
        raise RuleError(_("a price ending looks like .99, .95 or 9.00, not {value}").format(value=repr(ending)[:20]))
    return text[1:] if text.startswith("0.") else text


# --- reading and writing ---------------------------------------------------------------------------


def _from_row(row) -> Rule:
    return Rule(RuleKind(row.kind), RuleScope(row.scope), row.target, row.units, row.above_price, row.percent,
                row.amount, row.ending, row.id, row.changed_by)


def channel_rules(conn: Connection, channel_id: int) -> list[Rule]:
    rows = conn.execute(select(rule_table).where(rule_table.c.channel_id == channel_id).order_by(rule_table.c.id))
    return [_from_row(row) for row in rows]


def rule_book(conn: Connection, channel_id: int) -> RuleBook:
    buffer = conn.execute(select(SalesChannel.safety_buffer).where(SalesChannel.id == channel_id)).scalar() or 0
    return RuleBook.of(channel_rules(conn, channel_id), buffer)


def checked(rule: Rule) -> Rule:
    """The rule as it will be kept, or a RuleError saying what is wrong with it."""
    kind, scope = RuleKind(rule.kind), RuleScope(rule.scope)
    target = (rule.target or "").strip()
    if scope == RuleScope.CHANNEL:
        target = ""
    elif not target or len(target) > 100 or "\x00" in target:
        raise RuleError(_("name the brand, category or SKU the rule is for (1 to 100 characters)"))
    if kind == RuleKind.SAFETY_STOCK:
        if scope == RuleScope.CHANNEL:
            raise RuleError(_("the channel's own safety stock is safety_buffer in the settings file"))
        if rule.units is None or not 0 <= rule.units <= MAX_UNITS:
            raise RuleError(_("a safety stock is a whole number of units from 0 to 1,000,000"))
        return Rule(kind, scope, target, units=int(rule.units))
    if kind == RuleKind.IN_STORE_ONLY:
        if scope == RuleScope.CHANNEL:
            raise RuleError(_("a whole store in store only is a store not synced: name a brand, category or product"))
        if rule.above_price is not None and rule.above_price < 0:
            raise RuleError(_("the price above which it is in store only cannot be negative"))
        return Rule(kind, scope, target, above_price=_cents(rule.above_price))
    if kind == RuleKind.PRICE:
        percent, amount = _cents(rule.percent), _cents(rule.amount)
        if percent is not None and not Decimal(-90) <= percent <= Decimal(1000):
            raise RuleError(_("a price rule's percentage is from -90 to +1000"))
        if amount is not None and abs(amount) > Decimal(1_000_000):
            raise RuleError(_("a price rule's amount is at most 1,000,000 either way"))
        if not percent and not amount and not rule.ending:
            raise RuleError(_("a price rule changes the price: give a percentage, an amount or an ending"))
        return Rule(kind, scope, target, percent=percent, amount=amount, ending=parse_ending(rule.ending))
    if (rule.amount is None) == (rule.percent is None):
        raise RuleError(_("a floor is either an amount or a percentage of the list price"))
    if rule.amount is not None and rule.amount <= 0:
        raise RuleError(_("a floor amount is more than 0"))
    if rule.percent is not None and not Decimal(1) <= rule.percent <= Decimal(1000):
        raise RuleError(_("a floor's percentage of the list price is from 1 to 1000"))
    return Rule(kind, scope, target, percent=_cents(rule.percent), amount=_cents(rule.amount))


def _cents(amount) -> Decimal | None:
    return None if amount is None else Decimal(amount).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class RuleEffect:
    """What a rule change moves on one channel: the products whose sent quantity or price differ."""

    products: tuple[int, ...]
    quantities: int
    prices: int
    replanned: tuple[int, ...] = ()
    reached: int = 0  # the store's products the rule names (none: a brand or SKU mistyped?)

    def said(self, rule: Rule) -> str:
        """What the change moves, in the shop's words, with a word when it names no product."""
        moved = ngettext("moves {count} product", "moves {count} products", self.moved).format(count=self.moved)
        if not self.reached and rule.scope != RuleScope.CHANNEL:
            return moved + " — " + _("no product of this store has {where}").format(where=rule.where())
        return moved

    @property
    def moved(self) -> int:
        return len(self.products)


def _facts_query(channel_id: int):
    stock = (select(Stock.product_id, func.sum(Stock.on_hand - Stock.committed).label("available"))
             .group_by(Stock.product_id).subquery())
    return (select(Product.id, Product.sku, Product.brand, Product.category, Product.price, Product.msrp,
                   Product.map_price, func.coalesce(stock.c.available, 0).label("available"))
            .join(ProductLink, ProductLink.product_id == Product.id)
            .outerjoin(stock, stock.c.product_id == Product.id)
            .where(ProductLink.channel_id == channel_id, Product.non_inventory.is_(False))
            .distinct())


def products_reached(rules: Iterable[Rule]):
    """The products any of `rules` can reach, as SQL: at least those (the rule book then decides
    exactly); a rule for every product reaches them all. One IN-list or LIKE per scope."""
    keys: dict[RuleScope, set[str]] = {RuleScope.PRODUCT: set(), RuleScope.BRAND: set(), RuleScope.CATEGORY: set()}
    for rule in rules:
        if rule.scope == RuleScope.CHANNEL:
            return true()
        keys[rule.scope].add(rule.key)
    terms = [matching(column, keys[scope]) for scope, column in (
        (RuleScope.PRODUCT, Product.sku), (RuleScope.BRAND, Product.brand), (RuleScope.CATEGORY, Product.category))
        if keys[scope]]
    return or_(*terms) if terms else false()


def facts(row) -> ProductFacts:
    return ProductFacts(row.sku, row.brand, row.category, row.price, row.msrp, row.map_price)


def rule_effect(conn: Connection, channel_id: int, before: RuleBook, after: RuleBook,
                reach: Iterable[Rule]) -> RuleEffect:
    """The products of the channel within the reach of the changed rules whose sent values differ
    between the two books (the stores' availability summed over the shop, as a web store sees it)."""
    moved, replanned, quantities, prices, reached = [], [], 0, 0, 0
    for row in conn.execute(_facts_query(channel_id).where(products_reached(reach))):
        reached += 1
        product = facts(row)
        quantity = before.quantity(product, row.available), after.quantity(product, row.available)
        price = before.price(product), after.price(product)
        quantity_moves, price_moves = quantity[0].value != quantity[1].value, price[0].value != price[1].value
        if quantity_moves or price_moves:
            moved.append(row.id)
            quantities += quantity_moves
            prices += price_moves
        # Counted over the whole shop's stock; a store selling one location may differ, so every
        # product whose rule changed is planned again (the export sends only what differs).
        if quantity_moves or price_moves or quantity[0].rule != quantity[1].rule or price[0].rule != price[1].rule:
            replanned.append(row.id)
    return RuleEffect(tuple(moved), quantities, prices, tuple(replanned), reached)


def channel_id_of(conn: Connection, channel: str | int) -> int:
    if isinstance(channel, int):
        return channel
    found = conn.execute(select(SalesChannel.id).where(SalesChannel.name == channel)).scalar()
    if found is None:
        raise RuleError(_("no web store named {name}").format(name=repr(channel)[:100]))
    return found


def _same_slot(rule: Rule):
    return (rule_table.c.family == rule.family) & (rule_table.c.scope == rule.scope.value) \
        & (rule_table.c.target_key == rule.key)


def preview_rule(engine: Engine, channel: str | int, rule: Rule, remove: bool = False) -> RuleEffect:
    """How many products saving (or removing) the rule would move, without saving it."""
    with engine.connect() as conn:
        return _effect_of(conn, channel_id_of(conn, channel), checked(rule), remove)


def _effect_of(conn: Connection, channel_id: int, rule: Rule, remove: bool) -> RuleEffect:
    before = rule_book(conn, channel_id)
    rules = {key: kept for key, kept in before.rules.items() if key != (rule.family, rule.scope, rule.key)}
    if not remove:
        rules[(rule.family, rule.scope, rule.key)] = rule
    after = RuleBook(before.channel_buffer, rules)
    return rule_effect(conn, channel_id, before, after, [rule])


def _record_moves(conn: Connection, channel_id: int, products: tuple[int, ...]) -> None:
    if products:
        conn.execute(insert(Change.__table__), [{"kind": "product", "product_id": product, "channel_id": channel_id}
                                                for product in products])


def save_rule(engine: Engine, channel: str | int, rule: Rule, actor: Actor) -> RuleEffect:
    """Add the rule, or replace the one of its family for the same products; the products it moves
    are exported in the watcher's next round (or the next sync). Audited under the person."""
    require(actor, "rules.change")
    rule = checked(rule)
    with engine.begin() as conn:
        channel_id = channel_id_of(conn, channel)
        effect = _effect_of(conn, channel_id, rule, remove=False)
        old = conn.execute(select(rule_table).where(rule_table.c.channel_id == channel_id, _same_slot(rule))).first()
        values = {"kind": rule.kind.value, "units": rule.units, "above_price": rule.above_price,
                  "percent": rule.percent, "amount": rule.amount, "ending": rule.ending, "target": rule.target,
                  "changed_by": actor.user, "changed_at": utcnow()}
        if old is None:
            conn.execute(insert(rule_table).values(channel_id=channel_id, family=rule.family, scope=rule.scope.value,
                                                   target_key=rule.key, version=1, **values))
        else:
            conn.execute(update(rule_table).where(rule_table.c.id == old.id)
                         .values(version=rule_table.c.version + 1, **values))
        _record_moves(conn, channel_id, effect.replanned)
        channel_name = conn.execute(select(SalesChannel.name).where(SalesChannel.id == channel_id)).scalar()
        record(conn, actor, "rule_changed" if old is not None else "rule_added", "channelrule", channel_name,
               rule.family, _from_row(old).name if old is not None else None, rule.name, effect.said(rule))
    log.info("%s: rule %s by %s moves %d product(s)", channel_name, rule.name, actor.user, effect.moved)
    return effect


def remove_rule(engine: Engine, channel: str | int, rule: Rule, actor: Actor) -> RuleEffect:
    require(actor, "rules.change")
    with engine.begin() as conn:
        channel_id = channel_id_of(conn, channel)
        old = conn.execute(select(rule_table).where(rule_table.c.channel_id == channel_id, _same_slot(rule))).first()
        if old is None:
            raise RuleError(_("no such rule on this web store: {rule}").format(rule=rule.name))
        kept = _from_row(old)
        effect = _effect_of(conn, channel_id, kept, remove=True)
        conn.execute(delete(rule_table).where(rule_table.c.id == old.id))
        _record_moves(conn, channel_id, effect.replanned)
        channel_name = conn.execute(select(SalesChannel.name).where(SalesChannel.id == channel_id)).scalar()
        record(conn, actor, "rule_removed", "channelrule", channel_name, kept.family, kept.name, None,
               effect.said(kept))
    log.info("%s: rule %s removed by %s, moves %d product(s)", channel_name, kept.name, actor.user, effect.moved)
    return effect


def _shown_order(rule: Rule) -> tuple[int, int]:
    """Quantities, then prices, then floors; within each, the most specific first."""
    return ("quantity", "price", "floor").index(rule.family), PRECEDENCE.index(rule.scope)


def rule_lines(engine: Engine) -> list[str]:
    """`tandem --rules`: every web store's rules, with who last changed each."""
    with engine.connect() as conn:
        lines = []
        for channel_id, name, buffer in conn.execute(select(SalesChannel.id, SalesChannel.name,
                                                            SalesChannel.safety_buffer)
                                                     .where(SalesChannel.active.is_(True)).order_by(SalesChannel.id)):
            lines.append(f"{name}:")
            if buffer:
                lines.append("  " + _("channel safety stock {units} (safety_buffer in the settings file)").format(
                    units=buffer))
            rules = sorted(channel_rules(conn, channel_id), key=_shown_order)
            lines += [f"  {rule.name}  ({rule.changed_by})" for rule in rules]
            if not rules and not buffer:
                lines.append("  " + _("no rules: the shop's quantities and prices as they are"))
        return lines


def rule_from_form(kind: str, scope: str, target: str, amount: str, ending: str = "") -> Rule:
    """A rule as the console's dialog gives it: what, for which products, an amount typed as staff
    write it ("2", "3000", "-5%", "-2.50", "90%"), and a price ending. A RuleError says what to fix."""
    kind, scope = RuleKind(kind), RuleScope(scope)
    text = (amount or "").strip().replace("\u2212", "-").replace(",", ".").replace(" ", "")
    percent = text.endswith("%")
    number_text = text.rstrip("%")
    value = None
    if number_text:
        try:
            value = Decimal(number_text)
        except InvalidOperation:
            raise RuleError(_("the amount is a number, like 2, -5% or 25.00, not {value}").format(value=repr(amount)[:20]))
    if kind == RuleKind.SAFETY_STOCK:
        if value is None or percent or value != value.to_integral_value():
            raise RuleError(_("a safety stock is a whole number of units from 0 to 1,000,000"))
        return checked(Rule(kind, scope, target, units=int(value)))
    if kind == RuleKind.IN_STORE_ONLY:
        if percent:
            raise RuleError(_("in store only takes a price above which it applies, or nothing"))
        return checked(Rule(kind, scope, target, above_price=value))
    if kind == RuleKind.PRICE:
        return checked(Rule(kind, scope, target, percent=value if percent else None,
                            amount=None if percent else value, ending=ending or None))
    return checked(Rule(kind, scope, target, percent=value if percent else None, amount=None if percent else value))


def store_rules(engine: Engine) -> tuple[list[tuple[str, Rule]], list[str]]:
    """Every active store's rules, most specific first, and the stores' names (the Rules screen)."""
    with engine.connect() as conn:
        channels = conn.execute(select(SalesChannel.id, SalesChannel.name).where(SalesChannel.active.is_(True))
                                .order_by(SalesChannel.id)).all()
        rows = []
        for channel_id, name in channels:
            rules = sorted(channel_rules(conn, channel_id), key=_shown_order)
            rows += [(name, rule) for rule in rules]
        return rows, [name for _id, name in channels]
