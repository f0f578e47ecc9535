"""Reconciliation by accounting account, not by category (SPEC §7): for each day and account,
the payments in, the refunds out, the net, how many, and their references. Exported as CSV and
as a QuickBooks Desktop IIF deposit file, each transaction summing to zero."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Engine, select

from core.shoptime import shop_zone
from core.models import Payment, PaymentType, WebSale

SALES_ACCOUNT = "Web sales"
REFUNDS_ACCOUNT = "Web sales refunds"


@dataclass
class AccountDay:
    day: date
    account: str
    payments_in: Decimal = Decimal("0.00")
    refunds_out: Decimal = Decimal("0.00")
    count: int = 0
    references: list[str] = field(default_factory=list)

    @property
    def net(self) -> Decimal:
        return self.payments_in + self.refunds_out


def reconciliation(engine: Engine, first: date, last: date | None = None, tz=None) -> list[AccountDay]:
    """Days are the shop's local days (its time zone unless one is given)."""
    last = last or first
    tz = tz or shop_zone()
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Payment.received_at, PaymentType.account, Payment.amount, WebSale.order_number, Payment.reference)
            .join(PaymentType, PaymentType.id == Payment.payment_type_id)
            .join(WebSale, WebSale.id == Payment.sale_id)
            .where(Payment.received_at >= start, Payment.received_at < end)
            .order_by(Payment.received_at, Payment.id)
        ).all()
    days: dict[tuple[date, str], AccountDay] = {}
    for received, account, amount, order_number, reference in rows:
        day = received.astimezone(tz).date()
        entry = days.setdefault((day, account), AccountDay(day, account))
        if amount >= 0:
            entry.payments_in += amount
        else:
            entry.refunds_out += amount
        entry.count += 1
        entry.references.append(f"{order_number}" + (f" ({reference})" if reference and reference.startswith("return")
                                                       else ""))
    return [days[key] for key in sorted(days)]


def to_csv(entries: list[AccountDay]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "account", "payments_in", "refunds_out", "net", "count", "references"])
    for e in entries:
        writer.writerow([e.day.isoformat(), e.account, f"{e.payments_in:.2f}", f"{e.refunds_out:.2f}", f"{e.net:.2f}",
                         e.count, " ".join(e.references)])
    return out.getvalue()


def to_iif(entries: list[AccountDay], sales_account: str = SALES_ACCOUNT, refunds_account: str = REFUNDS_ACCOUNT) -> str:
    """One QuickBooks deposit per day and account: the account receives the net; the income and
    refund accounts carry the other side, so each transaction sums to zero."""
    lines = [
        "!TRNS\tTRNSID\tTRNSTYPE\tDATE\tACCNT\tAMOUNT\tMEMO",
        "!SPL\tSPLID\tTRNSTYPE\tDATE\tACCNT\tAMOUNT\tMEMO",
        "!ENDTRNS",
    ]

    def clean(text: str) -> str:
        return text.replace("\t", " ").replace("\n", " ")

    for number, e in enumerate(entries, start=1):
        day = e.day.strftime("%m/%d/%Y")
        memo = clean(f"Tandem web sales {e.day.isoformat()}, {e.count} payments")
        lines.append(f"TRNS\t{number}\tDEPOSIT\t{day}\t{clean(e.account)}\t{e.net:.2f}\t{memo}")
        if e.payments_in:
            lines.append(f"SPL\t{number}\tDEPOSIT\t{day}\t{clean(sales_account)}\t{-e.payments_in:.2f}\t{memo}")
        if e.refunds_out:
            lines.append(f"SPL\t{number}\tDEPOSIT\t{day}\t{clean(refunds_account)}\t{-e.refunds_out:.2f}\t{memo}")
        lines.append("ENDTRNS")
    return "\n".join(lines) + "\n"


def parse_iif(text: str) -> list[list[tuple[str, Decimal]]]:
    """Transactions of an IIF file as (account, amount) lists; for checking what was written."""
    header: dict[str, list[str]] = {}
    transactions, current = [], None
    for raw in text.splitlines():
        cells = raw.split("\t")
        kind = cells[0]
        if kind.startswith("!"):
            header[kind[1:]] = cells
            continue
        if kind == "TRNS":
            current = []
        if kind in ("TRNS", "SPL"):
            names = header[kind]
            row = dict(zip(names[1:], cells[1:]))
            current.append((row["ACCNT"], Decimal(row["AMOUNT"])))
        if kind == "ENDTRNS":
            transactions.append(current)
    return transactions


