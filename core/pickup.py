"""Pickup and payment (SPEC §8-9, §13): a sale picked up at the counter needs the card, signature
and photo-ID checks; completing captures the web authorisation (through the store where the
platform can) and records the payment under its payment type; a shipped sale is completed as
shipped; cancelling releases its units."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, insert, select

from core.roles import require
from core.i18n import N_, _, money
from core.audit import Actor
from core.audit import record as audit
from core.config import ChannelConfig
from core.connectors.base import ConnectorError
from core.connectors.registry import connector_for
from core.dbtypes import utcnow
from core.models import (
    Fulfillment,
    Payment,
    PaymentType,
    SalesChannel,
    SaleState,
    Stock,
    WebSale,
    WebSaleLine,
)
from core.gift_cards import IssuedCard, void_cards_to_cancel
from core.sales import STATUS_LABELS, SaleError, _claim, _sale
from core.sync.settle import release_stock, sell_stock

sale_table, line_table, stock_table = WebSale.__table__, WebSaleLine.__table__, Stock.__table__


def ships(shipping_charged: Decimal, fulfillment: str) -> bool:
    """Whether a sale travels to the customer (shipping was charged, or the supplier ships it)
    rather than being picked up at the counter, where the card and holder are checked."""
    return shipping_charged > 0 or fulfillment == Fulfillment.SUPPLIER.value


@dataclass(frozen=True)
class PickupChecks:
    card_matches: bool = False
    signature: bool = False
    photo_id: bool = False

    @property
    def missing(self) -> list[str]:
        names = {"card_matches": N_("the card matches the order"), "signature": N_("the holder signed"),
                 "photo_id": N_("government photo ID seen")}
        return [text for name, text in names.items() if not getattr(self, name)]


def complete_sale(engine: Engine, sale_id: int, actor: Actor, seen_version: int, *, connector=None,
                  checks: PickupChecks | None = None, pickup: bool = True) -> str:
    """Capture the authorised payment and complete the sale; a refused capture leaves it open
    with the reason. Returns a sentence for staff."""
    require(actor, "sale.pickup" if pickup else "sale.shipped")
    with engine.connect() as conn:
        sale = _sale(conn, sale_id)
    if sale.version != seen_version:
        raise SaleError(_("someone else changed this sale a moment ago; look at it again"))
    if sale.state not in (SaleState.READY.value, SaleState.CAPTURE_FAILED.value):
        reasons = {SaleState.WAITING_MATCH.value: _("some lines still need a match"),
                   SaleState.GIFT_CARD_TO_ISSUE.value: _("a gift card is still to issue"),
                   SaleState.HELD.value: _("it waits for a person to decide who ships it") if sale.hold_reason
                   else _("it is held for the supplier"),
                   SaleState.COMPLETED.value: _("it is already completed"), SaleState.CANCELLED.value: _("it was cancelled")}
        raise SaleError(_("this sale cannot be completed: {reason}").format(reason=reasons.get(sale.state, sale.state)))
    if sale.held_back_reason:
        raise SaleError(_("this sale takes units a web-store rule keeps from the web ({reason}): a manager accepts "
                          "it first, or it is cancelled").format(reason=sale.held_back_reason))
    if pickup and ships(sale.shipping_charged, sale.fulfillment):
        raise SaleError(_("this sale is shipped to the customer, not picked up: mark it shipped"))
    if not pickup and not ships(sale.shipping_charged, sale.fulfillment):
        raise SaleError(_("the customer picks this sale up: complete it with the pickup checks"))
    if pickup:
        missing = (checks or PickupChecks()).missing
        if missing:
            raise SaleError(_("confirm the pickup checks first: {missing}").format(missing="; ".join(_(m) for m in missing)))
    reference, elsewhere = None, connector is None
    if connector is not None:
        try:
            reference = connector.capture(sale.external_id, sale.authorized_amount)
            elsewhere = reference is None
        except ConnectorError as exc:
            with engine.begin() as conn:
                _claim(conn, sale_id, seen_version, state=SaleState.CAPTURE_FAILED.value, capture_error=str(exc))
                audit(conn, actor, "capture_failed", "websale", sale_id, "state", sale.state, "capture_failed", str(exc))
            raise SaleError(_("the payment could not be captured: {reason}").format(reason=exc)) from None
    with engine.begin() as conn:
        online = conn.execute(select(PaymentType.id).where(PaymentType.online.is_(True), PaymentType.active.is_(True),
                                                          PaymentType.card_present.is_(False))
                              .order_by(PaymentType.id).limit(1)).scalar()
        if online is None:
            raise SaleError(_("no online payment type is set up; add one in the payment settings"))
        _claim(conn, sale_id, seen_version, state=SaleState.COMPLETED.value, completed_at=utcnow(),
               completed_by=str(actor), captured_amount=sale.authorized_amount, capture_error=None,
               payment_type_id=online)
        conn.execute(insert(Payment.__table__).values(
            sale_id=sale_id, payment_type_id=online, amount=sale.authorized_amount, reference=reference,
            captured_elsewhere=elsewhere, received_at=utcnow(), received_by=str(actor)))
        sell_stock(conn, sale_id)
        note = "pickup checks confirmed" if pickup else "shipped"
        audit(conn, actor, "complete", "websale", sale_id, "state", sale.state, "completed", note)
    if elsewhere:
        return _("Sale {number} completed; {amount} recorded as captured elsewhere.").format(
            number=sale.order_number, amount=money(sale.authorized_amount))
    return _("Sale {number} completed; {amount} captured.").format(number=sale.order_number,
                                                                   amount=money(sale.authorized_amount))


def cancel_sale(engine: Engine, sale_id: int, actor: Actor, seen_version: int) -> list[IssuedCard]:
    """Cancel an open sale: its units released, and every gift card it issued voided first (a card
    already spent refuses the cancel). Returns the cards voided."""
    require(actor, "sale.cancel")
    with engine.begin() as conn:
        sale = _sale(conn, sale_id)
        if sale.state in (SaleState.COMPLETED.value, SaleState.CANCELLED.value):
            raise SaleError(_("this sale is already {state}").format(state=_(STATUS_LABELS.get(sale.state, sale.state))))
        _claim(conn, sale_id, seen_version, state=SaleState.CANCELLED.value)
        voided = void_cards_to_cancel(conn, sale_id, actor)
        release_stock(conn, select(sale_table.c.id).where(sale_table.c.id == sale_id))
        audit(conn, actor, "cancel", "websale", sale_id, "state", sale.state, "cancelled")
    return voided


def cards_voided(cards: list[IssuedCard]) -> str:
    """What a cancel took back, for staff."""
    return " ".join(_("Gift card {number} voided: {amount} taken back.").format(number=card.number,
                                                                              amount=money(card.balance))
                    for card in cards)


# What cancelling does to the web payment, by platform, said before staff confirm.
CANCEL_OUTCOMES = {
    "shopify": N_("The order is cancelled on Shopify too, which releases the card authorisation."),
    "demo": N_("The order is cancelled on the demo web store too, which releases the card authorisation."),
    "woocommerce": N_("The order is set cancelled on the website; WooCommerce leaves the card authorisation to "
                      "its payment gateway, to void there."),
}


def _channel_of_sale(engine: Engine, sale_id: int):
    """The sale's web store row, with the order's id on the website as `order_external_id`."""
    with engine.connect() as conn:
        channel = conn.execute(select(SalesChannel.__table__, WebSale.external_id.label("order_external_id"))
                               .join(WebSale, WebSale.channel_id == SalesChannel.id)
                               .where(WebSale.id == sale_id)).first()
    if channel is None:
        raise SaleError(_("that sale no longer exists"))
    return channel


def cancel_with_store(engine: Engine, sale_id: int, actor: Actor, seen_version: int, *, secrets_path=None) -> str:
    """Cancel the sale here (its units released), then on the website, which releases the web
    authorisation where the platform does. The shop's side is committed first: a website that
    cannot be reached leaves the sale cancelled here and staff told what is left to do there."""
    require(actor, "sale.cancel")
    channel = _channel_of_sale(engine, sale_id)
    voided = cards_voided(cancel_sale(engine, sale_id, actor, seen_version))
    try:
        connector = connector_for(ChannelConfig.from_row(channel), secrets_path)
    except Exception as exc:  # noqa: BLE001 - missing credentials and the like: the cancel here stands
        outcome = _("Cancelled here.") + " " + _("The website could not be reached ({reason}): cancel the order there "
                                                 "too.").format(reason=exc)
    else:
        try:
            outcome = connector.cancel(channel.order_external_id)
        except ConnectorError as exc:
            outcome = _("Cancelled here.") + " " + _("The website refused or did not answer ({reason}): cancel the "
                                                     "order there so the card authorisation is released.").format(reason=exc)
        finally:
            connector.close()
    with engine.begin() as conn:
        audit(conn, actor, "cancel_on_website", "websale", sale_id, note=outcome)
    return f"{voided} {outcome}" if voided else outcome


def complete_with_store(engine: Engine, sale_id: int, actor: Actor, seen_version: int, *, secrets_path=None,
                        checks: PickupChecks | None = None, pickup: bool = True) -> str:
    """Complete a sale through its web store: capture there where the platform can, and, when
    the channel asks for it (`push_status`), mark the order fulfilled on the website too."""
    require(actor, "sale.pickup" if pickup else "sale.shipped")
    channel = _channel_of_sale(engine, sale_id)
    config = ChannelConfig.from_row(channel)
    try:
        connector = connector_for(config, secrets_path)
    except Exception as exc:  # missing credentials and the like: the sale stays as it is
        raise SaleError(_("cannot reach the web store: {reason}").format(reason=exc)) from None
    try:
        message = complete_sale(engine, sale_id, actor, seen_version, connector=connector, checks=checks, pickup=pickup)
        if config.push_status:
            try:
                connector.complete(channel.order_external_id)
                message += " " + _("The website shows it fulfilled.")
            except ConnectorError as exc:
                message += " " + _("The website could not be updated ({reason}); the sale is complete here.").format(reason=exc)
        return message
    finally:
        connector.close()
