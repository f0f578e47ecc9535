"""The resolver's order of candidates, and the reason each row shows.

Names alike are the hard case: every size and colour of one model, one part number sold under two
brands. A fuzzy ratio saturates there (nine "similar 100%" rows tell staff nothing), so candidates
are ranked by what tells them apart: identifiers that agree first, then the words that differ
between the web title and the shop's description, then how close the price is; the fuzzy ratio
only breaks what is still tied. The reason names those differences, so the right pick shows
without opening each row."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from core.i18n import _

WORD = re.compile(r"[^\W_]+(?:[.,/'-][^\W_]+)*")
SHOWN_WORDS = 2  # per side of a difference: the row has little room


@dataclass(frozen=True)
class Shop:
    """What the ranking reads of one shop product."""

    product_id: int
    brand: str | None
    description: str
    part_number: str | None
    price: Decimal | None
    same_keys: tuple[str, ...] = ()  # identifiers equal to the listing's: barcode, part no., SKU=code


@dataclass(frozen=True)
class Ranked:
    product_id: int
    reason: str
    identical: bool  # an identifier agrees (the row is marked as such)


def words(text: str | None) -> list[str]:
    return WORD.findall((text or "").casefold())


def _differences(title_words: list[str], product: Shop) -> tuple[list[str], list[str]]:
    """Words of the title the product lacks, and words of the product's description the title lacks
    (its brand and part number count as the product's when the title has them)."""
    product_words, brand = words(product.description), set(words(product.brand))
    known = set(product_words) | brand | set(words(product.part_number))
    title = set(title_words)
    lacking = [word for word in dict.fromkeys(title_words) if word not in known]
    # The brand is told apart by itself ("brand" when the title names it), not as a differing word.
    extra = [word for word in dict.fromkeys(product_words) if word not in title and word not in brand]
    return lacking, extra


def _brand_agrees(title_words: list[str], product: Shop) -> bool:
    brand = words(product.brand)
    return bool(brand) and all(word in title_words for word in brand)


def _reason(same_keys: tuple[str, ...], brand: bool, lacking: list[str], extra: list[str],
            price_gap: Decimal | None) -> str:
    """Identifiers, then what differs, then an equal price, then the brand: the row is narrow, and
    what tells candidates apart goes first."""
    parts = [" + ".join(_(label) for label in same_keys)] if same_keys else []
    if lacking and extra:
        parts.append("{0} ≠ {1}".format(" ".join(lacking[:SHOWN_WORDS]), " ".join(extra[:SHOWN_WORDS])))
    elif lacking:
        parts.append(_("lacks {words}").format(words=" ".join(lacking[:SHOWN_WORDS])))
    elif extra:
        parts.append(_("adds {words}").format(words=" ".join(extra[:SHOWN_WORDS])))
    else:
        parts.append(_("same words"))
    if price_gap == 0:  # another price is in the row's own column
        parts.append(_("same price"))
    if brand:
        parts.append(_("brand"))
    return " · ".join(parts)


def rank(title: str, price: Decimal | None, products: list[Shop], fuzzy: dict[int, float] | None = None) -> list[Ranked]:
    """Best first. `fuzzy` (rapidfuzz's ratio per product) only breaks ties."""
    fuzzy = fuzzy or {}
    title_words = words(title)
    scored = []
    for product in products:
        brand = _brand_agrees(title_words, product)
        lacking, extra = _differences(title_words, product)
        gap = product.price - price if price is not None and product.price is not None else None
        key = (-len(product.same_keys), -brand, len(lacking) + len(extra),
               abs(gap) if gap is not None else Decimal("Infinity"), -fuzzy.get(product.product_id, 0.0))
        reason = _reason(product.same_keys, brand, lacking, extra, gap)
        scored.append((key, Ranked(product.product_id, reason, bool(product.same_keys))))
    scored.sort(key=lambda pair: pair[0])
    return [ranked for _key, ranked in scored]
