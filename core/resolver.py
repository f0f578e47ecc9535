"""What a person does with a web listing the rules could not match: link it to a shop product,
say it is not sold online, or take a decision back. Every change is audited and checked against
what the person saw, so two staff resolving the same listing cannot overwrite each other."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, case, delete, func, insert, literal, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from core.roles import require
from core.i18n import N_, _, ngettext
from core.audit import Actor
from core.audit import record as audit
from core.dbtypes import UTCDateTime, utcnow
from core.sync.matching import match_channel, match_sale_lines
from core.sync.settle import release_lines, settle_sales
from core.shoptime import shown
from core.ranking import Shop, rank
from core.models import (
    CLOSED_SALE_STATES, UNRESOLVED_MATCH_STATES, LineStock, Location, MatchMethod, MatchState, Product,
    ProductLink, SalesChannel, Stock, WebListing, WebSale, WebSaleLine,
)

link_table, listing_table = ProductLink.__table__, WebListing.__table__


class ResolveError(Exception):
    """The change was refused; the message says why in words for staff."""


class AlreadyResolvedError(ResolveError):
    pass


@dataclass(frozen=True)
class _Listing:
    id: int
    channel_id: int
    version: int
    title: str
    gtin14: str | None
    part_number_key: str | None


def _listing(conn: Connection, listing_id: int) -> _Listing:
    row = conn.execute(
        select(WebListing.id, WebListing.channel_id, WebListing.version, WebListing.title,
               WebListing.gtin14, WebListing.part_number_key).where(WebListing.id == listing_id)
    ).first()
    if row is None:
        raise ResolveError(_("that web listing no longer exists"))
    return _Listing(*row)


def _manual_link(conn: Connection, listing_id: int):
    return conn.execute(
        select(ProductLink.product_id, ProductLink.linked_by, ProductLink.linked_at)
        .where(ProductLink.listing_id == listing_id, ProductLink.manual.is_(True))
    ).first()


def _check_unchanged(conn: Connection, listing: _Listing, seen_version: int) -> None:
    manual = _manual_link(conn, listing.id)
    if manual is not None:
        when = shown(manual.linked_at)
        raise AlreadyResolvedError(_('{linked_by} already resolved this listing ({when})').format(linked_by=manual.linked_by, when=when))
    if listing.version != seen_version:
        raise AlreadyResolvedError(_("this listing changed since it was shown; look at it again"))


def _claim(conn: Connection, listing: _Listing, seen_version: int, state: MatchState) -> None:
    """Move the listing to its new state only if nobody else did first."""
    claimed = conn.execute(
        update(listing_table)
        .where(listing_table.c.id == listing.id, listing_table.c.version == seen_version)
        .values(match_state=state.value, version=listing_table.c.version + 1)
    ).rowcount
    if claimed != 1:
        raise AlreadyResolvedError(_("someone else resolved this listing a moment ago"))


def _product_keys(conn: Connection, product_id: int) -> tuple[str, str | None, str | None]:
    row = conn.execute(select(Product.sku, Product.gtin14, Product.part_number_key)
                       .where(Product.id == product_id)).first()
    if row is None:
        raise ResolveError(_("that product no longer exists"))
    return row.sku, row.gtin14, row.part_number_key


def _audit(conn: Connection, actor: Actor, action: str, listing: _Listing, old: str | None,
           new: str | None) -> None:
    audit(conn, actor, action, "weblisting", listing.id, "product", old, new, listing.title)


def _refresh_sales(conn: Connection, channel_id: int) -> None:
    """Sale lines waiting on a listing take its product at once: sales become ready and their
    units are committed, exactly as if the sync had matched them."""
    match_sale_lines(conn, channel_id)
    settle_sales(conn, channel_id)


def _decide(engine: Engine, listing_id: int, product_id: int | None, actor: Actor, seen_version: int) -> None:
    with engine.begin() as conn:
        listing = _listing(conn, listing_id)
        _check_unchanged(conn, listing, seen_version)
        keys = [(listing.gtin14, listing.part_number_key)]
        if product_id is not None:
            sku, gtin, part = _product_keys(conn, product_id)
            taken = conn.execute(
                select(WebListing.title).join(ProductLink, ProductLink.listing_id == WebListing.id)
                .where(ProductLink.channel_id == listing.channel_id, ProductLink.product_id == product_id,
                       ProductLink.manual.is_(True))
            ).scalar()
            if taken is not None:
                raise ResolveError(_('{sku} is already linked by hand to the listing “{taken}”; unlink it first').format(sku=sku, taken=taken))
            keys.append((gtin, part))
            # Automatic links of this product elsewhere in the channel give way to the person.
            conn.execute(delete(link_table).where(
                link_table.c.channel_id == listing.channel_id, link_table.c.product_id == product_id,
                link_table.c.manual.is_(False)))
        old = conn.execute(
            select(Product.sku).join(ProductLink, ProductLink.product_id == Product.id)
            .where(ProductLink.listing_id == listing.id)
        ).scalar()
        conn.execute(delete(link_table).where(link_table.c.listing_id == listing.id))
        state = MatchState.MATCHED if product_id is not None else MatchState.NOT_SOLD_ONLINE
        _claim(conn, listing, seen_version, state)
        try:
            with conn.begin_nested():
                conn.execute(insert(link_table).values(
                    channel_id=listing.channel_id, listing_id=listing.id, product_id=product_id,
                    method=MatchMethod.MANUAL.value, manual=True, linked_by=str(actor), linked_at=utcnow(),
                ))
        except IntegrityError:
            raise AlreadyResolvedError(_("someone else resolved this listing a moment ago")) from None
        match_channel(conn, listing.channel_id, extra_keys=keys, around_only=True)
        _refresh_sales(conn, listing.channel_id)
        _audit(conn, actor, "link" if product_id else "not_sold_online", listing, old,
               sku if product_id is not None else "not sold online")


def link_listing(engine: Engine, listing_id: int, product_id: int, actor: Actor, seen_version: int) -> None:
    """Link a web listing to a shop product by hand. `seen_version` is the listing's version as shown."""
    require(actor, "match.decide")
    _decide(engine, listing_id, product_id, actor, seen_version)


def mark_not_sold_online(engine: Engine, listing_id: int, actor: Actor, seen_version: int) -> None:
    """Record that a web listing has no counterpart in the shop; it leaves the resolver's queue."""
    require(actor, "match.decide")
    _decide(engine, listing_id, None, actor, seen_version)


def unlink_listing(engine: Engine, listing_id: int, actor: Actor) -> str:
    """Take a manual decision back: the listing goes through the rules again, and the lines of open
    sales that the link gave a product give it back, their committed units released. Lines of
    completed sales keep their product (their stock has left the shop); the sentence returned
    says so."""

    require(actor, "match.undo")
    kept = 0
    with engine.begin() as conn:
        listing = _listing(conn, listing_id)
        manual = _manual_link(conn, listing_id)
        if manual is None:
            raise ResolveError(_("this listing has no manual link to undo"))
        keys = [(listing.gtin14, listing.part_number_key)]
        old = "not sold online"
        if manual.product_id is not None:
            sku, gtin, part = _product_keys(conn, manual.product_id)
            keys.append((gtin, part))
            old = sku
            through_link = ((WebSaleLine.listing_id == listing_id) & (WebSaleLine.product_id == manual.product_id)
                            & WebSaleLine.product_by_hand.is_(False))
            open_sales = select(WebSale.id).where(WebSale.state.not_in(CLOSED_SALE_STATES))
            # Lines of open sales that had this product through the link wait again, units released.
            release_lines(conn, select(WebSaleLine.id).where(
                through_link, WebSaleLine.sale_id.in_(open_sales), WebSaleLine.stock_state == LineStock.COMMITTED.value))
            conn.execute(update(WebSaleLine.__table__).where(
                through_link, WebSaleLine.sale_id.in_(open_sales),
                WebSaleLine.stock_state == LineStock.NONE.value).values(product_id=None))
            kept = conn.execute(select(func.count(func.distinct(WebSaleLine.sale_id))).where(
                through_link, WebSaleLine.stock_state == LineStock.SOLD.value)).scalar_one()
            if kept:
                # Completed sales keep the product; undoing the match they were sold by is a manager's call.
                require(actor, "match.undo_completed")
        conn.execute(delete(link_table).where(link_table.c.listing_id == listing_id))
        conn.execute(update(listing_table).where(listing_table.c.id == listing_id).values(
            match_state=MatchState.UNMATCHED.value, version=listing_table.c.version + 1))
        match_channel(conn, listing.channel_id, extra_keys=keys, around_only=True)
        match_sale_lines(conn, listing.channel_id)
        settle_sales(conn, listing.channel_id)
        _audit(conn, actor, "unlink", listing, old, None)
    what = _("not sold online") if old == "not sold online" else old
    text = _("Undone: “{title}” is no longer {what}; it is back in the queue.").format(title=listing.title, what=what)
    if kept:
        text += " " + ngettext("{count} completed sale keeps {what}: its units already left the shop (a return "
                               "brings them back).", "{count} completed sales keep {what}: their units already left "
                               "the shop (a return brings them back).", kept).format(count=kept, what=what)
    return text


# --- What the resolver screen shows ------------------------------------------------------------

QUEUE_PAGE = 50
FUZZY_POOL = 2000  # products the fuzzy ranking looks at, found by the title's words in SQL


@dataclass(frozen=True)
class QueueItem:
    listing_id: int
    version: int
    channel: str
    title: str
    state: str
    barcode: str | None
    gtin14: str | None
    part_number: str | None
    product_code: str | None
    price: object
    waiting_lines: int
    oldest_sale_at: object
    first_seen_at: object

    @property
    def sort_key(self) -> tuple:
        return (0 if self.waiting_lines else 1, self.oldest_sale_at or self.first_seen_at, self.listing_id)


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    total: int
    has_more: bool


@dataclass(frozen=True)
class Candidate:
    product_id: int
    sku: str
    description: str
    part_number: str | None
    price: object
    available: int  # free at the location the waiting sales take their units from
    why: str
    identical: bool
    elsewhere: int = 0  # free at the shop's other locations together


def _waiting_lines():
    return (
        select(WebSaleLine.listing_id.label("listing_id"), func.count().label("lines"),
               func.min(WebSale.ordered_at).label("oldest"))
        .join(WebSale, WebSale.id == WebSaleLine.sale_id)
        .where(WebSaleLine.product_id.is_(None), WebSaleLine.listing_id.is_not(None),
               WebSale.state.not_in(CLOSED_SALE_STATES))
        .group_by(WebSaleLine.listing_id)
        .subquery()
    )


def resolver_queue(engine: Engine, after: tuple | None = None, limit: int = QUEUE_PAGE,
                   only_listing: int | None = None) -> QueuePage:
    """Listings waiting for a person: those holding up sales first, oldest sale first.
    `only_listing` narrows it to one listing (the sale screen's "resolve this line")."""
    waiting = _waiting_lines()
    group = case((waiting.c.lines.is_(None), 1), else_=0)
    when = func.coalesce(waiting.c.oldest, WebListing.first_seen_at)
    unresolved = WebListing.match_state.in_([s.value for s in UNRESOLVED_MATCH_STATES])
    query = (
        select(WebListing.id, WebListing.version, SalesChannel.name, WebListing.title, WebListing.match_state,
               WebListing.barcode_raw, WebListing.gtin14, WebListing.part_number, WebListing.product_code,
               WebListing.price, func.coalesce(waiting.c.lines, 0), waiting.c.oldest, WebListing.first_seen_at)
        .join(SalesChannel, SalesChannel.id == WebListing.channel_id)
        .outerjoin(waiting, waiting.c.listing_id == WebListing.id)
        .where(unresolved)
        .order_by(group, when, WebListing.id)
        .limit(limit + 1)
    )
    if only_listing is not None:
        unresolved = unresolved & (WebListing.id == only_listing)
        query = query.where(WebListing.id == only_listing)
    if after is not None:
        after_group, after_when, after_id = after
        query = query.where(tuple_(group, when, WebListing.id)
                            > tuple_(literal(after_group), literal(after_when, UTCDateTime()), literal(after_id)))
    with engine.connect() as conn:
        rows = [QueueItem(*row) for row in conn.execute(query)]
        total = conn.execute(select(func.count()).select_from(WebListing).where(unresolved)).scalar_one()
    return QueuePage(rows[:limit], total, len(rows) > limit)


def waiting_sales(engine: Engine, listing_id: int) -> tuple[int, int]:
    """How many lines, in how many open sales, wait on this listing for a product."""
    with engine.connect() as conn:
        lines, sales = conn.execute(
            select(func.count(), func.count(func.distinct(WebSaleLine.sale_id)))
            .join(WebSale, WebSale.id == WebSaleLine.sale_id)
            .where(WebSaleLine.listing_id == listing_id, WebSaleLine.product_id.is_(None),
                   WebSale.state.not_in(CLOSED_SALE_STATES))).one()
    return lines, sales


def waiting_orders(engine: Engine, listing_id: int, limit: int = 5) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(
            select(WebSale.order_number).join(WebSaleLine, WebSaleLine.sale_id == WebSale.id)
            .where(WebSaleLine.listing_id == listing_id, WebSaleLine.product_id.is_(None),
                   WebSale.state.not_in(CLOSED_SALE_STATES))
            .group_by(WebSale.order_number).order_by(func.min(WebSale.ordered_at)).limit(limit)
        ).scalars())


def units_from(conn: Connection, listing_id: int) -> tuple[int | None, str | None]:
    """The location (id, name) the sales waiting on this listing take their units from: the oldest
    waiting sale's, else the web store's own location."""
    location = conn.execute(
        select(WebSale.location_id).join(WebSaleLine, WebSaleLine.sale_id == WebSale.id)
        .where(WebSaleLine.listing_id == listing_id, WebSaleLine.product_id.is_(None),
               WebSale.state.not_in(CLOSED_SALE_STATES), WebSale.location_id.is_not(None))
        .order_by(WebSale.ordered_at).limit(1)).scalar()
    if location is None:
        location = conn.execute(select(SalesChannel.location_id).join(WebListing, WebListing.channel_id == SalesChannel.id)
                                .where(WebListing.id == listing_id)).scalar()
    name = conn.execute(select(Location.name).where(Location.id == location)).scalar() if location else None
    return location, name


def short_after_link(engine: Engine, listing_id: int) -> list[str]:
    """After a link: the locations where open sales of this listing now hold more units of its
    product than are on the shelf (their units are promised all the same; staff must know)."""
    with engine.connect() as conn:
        return list(conn.execute(
            select(Location.name).distinct()
            .select_from(WebSaleLine)
            .join(WebSale, WebSale.id == WebSaleLine.sale_id)
            .join(Stock, (Stock.product_id == WebSaleLine.product_id) & (Stock.location_id == WebSale.location_id))
            .join(Location, Location.id == Stock.location_id)
            .where(WebSaleLine.listing_id == listing_id, WebSale.state.not_in(CLOSED_SALE_STATES),
                   WebSaleLine.stock_state == LineStock.COMMITTED.value, Stock.committed > Stock.on_hand)
            .order_by(Location.name)).scalars())


def stock_location(engine: Engine, listing_id: int) -> tuple[int | None, str | None]:
    with engine.connect() as conn:
        return units_from(conn, listing_id)


def _available(conn: Connection, product_ids: list[int], location_id: int | None) -> dict[int, tuple[int, int]]:
    """Per product: units free at the location, and free at the others together."""
    if not product_ids:
        return {}
    free = Stock.on_hand - Stock.committed
    # No location known (a web store set up without one): every location counts as here.
    here = Stock.location_id == location_id if location_id is not None else literal(True)
    return {pid: (int(at or 0), int(others or 0)) for pid, at, others in conn.execute(
        select(Stock.product_id, func.sum(case((here, free), else_=0)),
               func.sum(case((~here & (free > 0), free), else_=0)))
        .where(Stock.product_id.in_(product_ids)).group_by(Stock.product_id)
    ).all()}


def candidates_for(engine: Engine, listing_id: int, limit: int = 9) -> list[Candidate]:
    """Shop products this listing could be: those with an identical key (marked with it), then
    those whose name, brand or part number look like the listing's (rapidfuzz finds them), ranked
    by what tells them apart (core.ranking), each with its reason."""
    from rapidfuzz import fuzz, process

    with engine.connect() as conn:
        listing = conn.execute(
            select(WebListing.channel_id, WebListing.title, WebListing.gtin14, WebListing.part_number_key,
                   WebListing.product_code, WebListing.price).where(WebListing.id == listing_id)
        ).first()
        if listing is None:
            return []
        taken = select(ProductLink.product_id).where(
            ProductLink.channel_id == listing.channel_id, ProductLink.manual.is_(True),
            ProductLink.product_id.is_not(None))
        columns = (Product.id, Product.sku, Product.description, Product.part_number, Product.price, Product.brand)
        found: dict[int, tuple] = {}
        why: dict[int, list[str]] = {}
        for label, condition in (
            (N_("barcode"), Product.gtin14 == listing.gtin14 if listing.gtin14 else None),
            (N_("part no."), Product.part_number_key == listing.part_number_key if listing.part_number_key else None),
            (N_("SKU=code"), Product.sku == listing.product_code if listing.product_code else None),
        ):
            if condition is None:
                continue
            for row in conn.execute(select(*columns).where(condition, Product.id.not_in(taken)).limit(limit)):
                found.setdefault(row.id, row)
                why.setdefault(row.id, []).append(label)
        identical = list(found)
        words = sorted({w for w in listing.title.lower().split() if len(w) >= 3}, key=len, reverse=True)[:6]
        pool = []
        if words and len(identical) < limit:
            pool = conn.execute(
                select(*columns).where(
                    or_(*(Product.search_text.like(func.lower(f"%{w}%")) for w in words)),
                    Product.id.not_in(taken), Product.id.not_in(identical or [-1]), Product.active.is_(True),
                ).limit(FUZZY_POOL)
            ).all()
        fuzzy = dict((key, score) for _text, score, key in process.extract(
            listing.title, {row.id: f"{row.brand or ''} {row.description} {row.part_number or ''}" for row in pool},
            scorer=fuzz.token_set_ratio, limit=limit * 4, score_cutoff=50,
        )) if pool else {}
        by_id = {row.id: row for row in pool if row.id in fuzzy}
        shop = [Shop(pid, found[pid].brand, found[pid].description, found[pid].part_number, found[pid].price,
                     tuple(why[pid])) for pid in identical]
        shop += [Shop(row.id, row.brand, row.description, row.part_number, row.price) for row in by_id.values()]
        chosen = [(hit.product_id, hit.reason, hit.identical)
                  for hit in rank(listing.title, listing.price, shop, fuzzy)][:limit]
        location_id, _name = units_from(conn, listing_id)
        stock = _available(conn, [pid for pid, _why, _same in chosen], location_id)
    rows = found | by_id
    return [
        Candidate(pid, rows[pid].sku, rows[pid].description, rows[pid].part_number, rows[pid].price,
                  max(stock.get(pid, (0, 0))[0], 0), reason, is_identical, stock.get(pid, (0, 0))[1])
        for pid, reason, is_identical in chosen
    ]


def explain(engine: Engine, listing_id: int) -> str:
    """Why this listing needs a person, in a sentence or two for staff."""
    with engine.connect() as conn:
        listing = conn.execute(
            select(WebListing.channel_id, WebListing.match_state, WebListing.barcode_raw, WebListing.gtin14,
                   WebListing.part_number, WebListing.part_number_key, WebListing.product_code)
            .where(WebListing.id == listing_id)
        ).first()
        if listing is None:
            return _("This listing no longer exists.")

        def skus(condition) -> list[str]:
            return list(conn.execute(select(Product.sku).where(condition).order_by(Product.sku).limit(5)).scalars())

        by_barcode = skus(Product.gtin14 == listing.gtin14) if listing.gtin14 else []
        by_part = skus(Product.part_number_key == listing.part_number_key) if listing.part_number_key else []
        def other_titles(condition) -> list[str]:
            return list(conn.execute(
                select(WebListing.title).where(WebListing.channel_id == listing.channel_id,
                                               WebListing.id != listing_id, condition).limit(3)
            ).scalars())

        same_barcode = other_titles(WebListing.gtin14 == listing.gtin14) if listing.gtin14 else []
        same_part = (other_titles(WebListing.part_number_key == listing.part_number_key)
                     if listing.part_number_key else [])
    notes = []
    if listing.barcode_raw and not listing.gtin14:
        notes.append(_("The web barcode {barcode} is not a valid GTIN (wrong length or check digit), so it cannot "
                       "be used.").format(barcode=listing.barcode_raw))
    state = listing.match_state
    if state == MatchState.UNMATCHED:
        if not listing.gtin14 and not listing.part_number_key:
            notes.append(_("The listing has no usable barcode and no part number, so only a person can say which "
                           "product it is."))
        else:
            notes.append(_("No shop product has this listing's barcode or part number."))
        if listing.product_code:
            notes.append(_("Its product code {code} is only used for sales, never for the daily export.").format(
                code=listing.product_code))
    elif state == MatchState.CONFLICT:
        notes.append(_("The barcode points at {by_barcode} but the part number points at {by_part}. Tandem never "
                       "guesses which one is right.").format(by_barcode=", ".join(by_barcode), by_part=", ".join(by_part)))
    elif state == MatchState.AMBIGUOUS:
        if len(by_barcode) > 1:
            notes.append(_("Several shop products share the barcode {barcode}: {products}.").format(
                barcode=listing.gtin14, products=", ".join(by_barcode)))
        if len(by_part) > 1:
            notes.append(_("Several shop products share the part number {part}: {products}. Part numbers are not "
                           "unique between brands.").format(part=listing.part_number, products=", ".join(by_part)))
        for key, titles in ((_("Other web listings carry the same barcode: {titles}."), same_barcode),
                            (_("Other web listings carry the same part number: {titles}."), same_part)):
            if titles:
                quoted = "; ".join(f"“{t}”" for t in titles)
                notes.append(key.format(titles=quoted))
        if same_barcode or same_part:
            notes.append(_("A product is linked automatically only when exactly one listing names it."))
    else:
        notes.append(_("This listing is resolved."))
    return " ".join(notes)
