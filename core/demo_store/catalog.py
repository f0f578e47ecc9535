"""The demo shop's data: a catalog of a few thousand products over several (invented) brands, and
the web store's listings built from the same seed, so they match the catalog by barcode, by part
number and by code, with some that need a person."""

from __future__ import annotations

import csv
import io
import random
from decimal import Decimal

from core.connectors.base import ListingData
from core.identifiers import with_check_digit

DEMO_SEED = 20261127
LOCATIONS = ("Main Street", "Warehouse")
GIFT_CARD_SKU = "GIFT-CARD"
SHIPPING_REFUND_SKU = "SHIP-REFUND"

# brand -> (GS1 company prefix, part-number prefix)
BRANDS = {
    "Velotek": ("0845012", "VT"),
    "Kestrel Components": ("0886123", "KC"),
    "Alpenrad": ("4049731", "AR"),
    "Cobalt Tyres": ("0712345", "CT"),
    "Summit Tools": ("0763891", "ST"),
    "Lumen Lights": ("0619934", "LL"),
    "Northwind Cycles": ("0850004", "NW"),
    "Ridgeline": ("0810236", "RL"),
}

# family -> (price range, variants, brands that make it)
FAMILIES = {
    "Inner tube": ((6, 14), ["700x23-25 Presta 48mm", "700x28-32 Presta 60mm", "26x1.9-2.3 Schrader",
                             "27.5x2.1-2.4 Presta", "29x2.1-2.4 Presta", "20x1.75 Schrader"],
                   ["Cobalt Tyres", "Alpenrad", "Velotek"]),
    "Tyre": ((32, 89), ["700x25 folding", "700x28 folding", "700x32 wire", "29x2.35 tubeless",
                        "27.5x2.6 tubeless", "650b x 47 gravel", "26x2.1 urban"],
             ["Cobalt Tyres", "Alpenrad"]),
    "Chain": ((19, 79), ["8-speed 116L", "10-speed 116L", "11-speed 118L", "12-speed 126L"],
              ["Kestrel Components", "Velotek"]),
    "Cassette": ((39, 249), ["11-28 10s", "11-32 11s", "11-34 11s", "10-51 12s", "10-45 12s"],
                 ["Kestrel Components"]),
    "Brake pads": ((12, 39), ["disc resin", "disc sintered", "rim road", "rim V-brake"],
                   ["Kestrel Components", "Alpenrad", "Velotek"]),
    "Helmet": ((59, 229), ["road S", "road M", "road L", "MTB S", "MTB M", "MTB L", "commuter M"],
               ["Northwind Cycles", "Ridgeline"]),
    "Light set": ((29, 149), ["400 lm front", "800 lm front", "1200 lm front", "rear 60 lm",
                              "front+rear USB-C"], ["Lumen Lights"]),
    "Floor pump": ((39, 119), ["steel", "aluminium", "tubeless booster"], ["Summit Tools", "Velotek"]),
    "Multi-tool": ((19, 69), ["9 functions", "15 functions", "with chain breaker"],
                   ["Summit Tools", "Ridgeline"]),
    "Saddle": ((39, 179), ["road 143mm", "road 155mm", "MTB 140mm", "comfort 180mm"],
               ["Ridgeline", "Northwind Cycles"]),
    "Grips": ((14, 39), ["lock-on black", "lock-on blue", "ergonomic", "foam"], ["Ridgeline", "Velotek"]),
    "Bottle": ((8, 24), ["620 ml", "750 ml", "950 ml insulated"], ["Northwind Cycles", "Velotek"]),
    "Bottle cage": ((9, 49), ["alloy", "carbon", "side-entry"], ["Velotek", "Ridgeline"]),
    "Bar tape": ((19, 45), ["black", "white", "red", "gel"], ["Velotek", "Ridgeline"]),
    "Pedals": ((29, 199), ["flat alloy", "clipless road", "clipless MTB", "commuter"],
              ["Kestrel Components", "Northwind Cycles"]),
    "Lock": ((29, 129), ["U-lock", "folding", "chain 110cm", "cable"], ["Summit Tools"]),
    "Jersey": ((49, 129), ["XS", "S", "M", "L", "XL"], ["Northwind Cycles"]),
    "Gloves": ((19, 59), ["S", "M", "L", "XL"], ["Northwind Cycles", "Ridgeline"]),
    "Bike": ((549, 3899), ["hybrid S", "hybrid M", "hybrid L", "gravel 52", "gravel 56", "gravel 58",
                           "trail M", "trail L", "e-bike M", "e-bike L", "kids 20in", "kids 24in"],
             ["Northwind Cycles"]),
}
COLOURS = ["", "", "", " - black", " - grey", " - red", " - blue", " - green", " - orange"]
COLUMNS = ["sku", "description", "brand", "upc", "part_number", "price", "msrp", "quantity",
           "non_inventory", "gift_card", "active"]


def demo_catalog_rows(seed: int = DEMO_SEED, target: int = 3000) -> list[dict]:
    """The demo catalog as CSV rows; deterministic for a given seed."""
    rng = random.Random(seed)
    rows: list[dict] = []
    serial = 0
    shared_part_numbers: list[str] = []
    while len(rows) < target:
        for family, ((low, high), variants, brands) in FAMILIES.items():
            for brand in brands:
                prefix, pn_prefix = BRANDS[brand]
                model = rng.choice(["Pro", "Sport", "Elite", "Trail", "City", "Race", "Tour", "Lite"])
                for variant in variants:
                    colour = rng.choice(COLOURS)
                    serial += 1
                    price = rng.randint(low, high) + rng.choice([0.0, 0.49, 0.95, 0.99])
                    part_number = f"{pn_prefix}-{family[:2].upper()}{serial:05d}"
                    if rng.random() < 0.01 and shared_part_numbers:
                        # Two brands sometimes use the same part number: matching must not guess.
                        part_number = rng.choice(shared_part_numbers)
                    elif rng.random() < 0.01:
                        shared_part_numbers.append(part_number)
                    roll = rng.random()
                    if roll < 0.12:
                        upc = ""  # no barcode: only the part number can match it
                    else:
                        body = (prefix + f"{serial:05d}").rjust(12, "0")[-12:]
                        upc = with_check_digit(body[1:]) if len(prefix) == 7 and prefix.startswith("0") else with_check_digit(body)
                        if roll > 0.997:
                            upc = upc[:-1] + str((int(upc[-1]) + 1) % 10)  # a mistyped barcode
                    rows.append({
                        "sku": f"{pn_prefix}{serial:06d}",
                        "description": f"{brand} {model} {family.lower()} {variant}{colour}",
                        "brand": brand,
                        "upc": upc,
                        "part_number": part_number,
                        "price": f"{price:.2f}",
                        "msrp": f"{price * 1.1:.2f}" if rng.random() < 0.6 else "",
                        "quantity": str(max(0, int(rng.gauss(4, 5)))),
                        "non_inventory": "no",
                        "gift_card": "no",
                        "active": "no" if rng.random() < 0.03 else "yes",
                    })
                    if len(rows) >= target:
                        break
    rows.append({"sku": GIFT_CARD_SKU, "description": "Gift card (placeholder)", "brand": "", "upc": "",
                 "part_number": "", "price": "0.00", "msrp": "", "quantity": "", "non_inventory": "yes",
                 "gift_card": "yes", "active": "yes"})
    rows.append({"sku": SHIPPING_REFUND_SKU, "description": "Shipping refund", "brand": "", "upc": "",
                 "part_number": "", "price": "0.00", "msrp": "", "quantity": "", "non_inventory": "yes",
                 "gift_card": "no", "active": "yes"})
    return rows


def catalog_csv(rows: list[dict], delimiter: str = ",") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


DEMO_CHANNEL = "Demo web store"
DEMO_SECOND_CHANNEL = "Demo WooCommerce"  # the same stock, sold on a second web store


def demo_listings(rows: list[dict], seed: int = DEMO_SEED) -> list[ListingData]:
    """The demo web store's products: most match by barcode or part number, and some need a person."""
    rng = random.Random(seed + 2)
    listings = []
    products = [row for row in rows if row["non_inventory"] == "no"]
    for n, row in enumerate(products):
        roll = rng.random()
        if roll < 0.18:
            continue  # not sold online
        words = row["description"].split()
        title = " ".join(w for w in words if w not in {"Pro", "Sport", "Elite", "Trail", "City", "Race",
                                                         "Tour", "Lite", "-"})
        barcode = part = code = None
        if roll < 0.70:
            barcode = row["upc"].zfill(14) if rng.random() < 0.3 and row["upc"] else row["upc"] or None
            part = row["part_number"] if rng.random() < 0.3 else None
        elif roll < 0.85:
            part = row["part_number"].lower()
        elif roll < 0.90:
            code = row["sku"]  # only the shop's SKU: good for sales, never for the export
        elif roll < 0.92 and row["upc"]:
            barcode = row["upc"][:-1] + str((int(row["upc"][-1]) + 3) % 10)  # mistyped on the web
        elif roll < 0.94:
            other = products[rng.randrange(len(products))]
            barcode, part = row["upc"] or None, other["part_number"]  # the two keys disagree
        listings.append(ListingData(
            external_id=f"demo-{n + 1}", title=title, product_code=code,
            barcode=barcode, part_number=part, price=Decimal(row["price"]),
        ))
        if n % 150 == 0 and row["upc"]:
            # The same product listed twice: both listings become ambiguous.
            listings.append(ListingData(
                external_id=f"demo-{n + 1}-copy", title=f"{title} (bundle)",
                barcode=row["upc"], price=Decimal(row["price"]),
            ))
    return listings


