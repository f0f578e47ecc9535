"""What a shop sets up itself from the `tandem` command: its locations, and supplier fulfilment
with its three signed documents. Each change is audited; a refusal changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cli import main
from core.db import open_database
from core.models import AuditEntry, Location, SalesChannel, SupplierDocument

from tests.conftest import dump

CATALOG = "sku,description,price,quantity\nTUBE,Tube,8.99,{tubes}\nCHAIN,Chain,39.50,{chains}\n"


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_chain_opens_a_second_shop_and_loads_its_counts(database_url, tmp_path, capsys):
    db = ["--db", database_url]
    first, second = tmp_path / "main.csv", tmp_path / "second.csv"
    first.write_text(CATALOG.format(tubes=10, chains=2))
    second.write_text(CATALOG.format(tubes=4, chains=0))
    assert run(capsys, "--import-catalog", str(first), "--location", "Main Street", *db)[0] == 0
    code, _, err = run(capsys, "--import-catalog", str(second), "--location", "Riverside", *db)
    assert code == 1 and "no location named 'Riverside'" in err and "tandem --add-location Riverside" in err
    assert run(capsys, "--add-location", "Riverside", *db)[0] == 0
    assert run(capsys, "--import-catalog", str(second), "--location", "Riverside", *db)[0] == 0
    code, out, _ = run(capsys, "--locations", *db)
    assert out.splitlines() == ["Main Street\tin use\t12 units on hand", "Riverside\tin use\t4 units on hand"]
    code, _, err = run(capsys, "--add-location", "riverside", *db)
    assert code == 1 and "already a location named 'riverside'" in err
    assert run(capsys, "--rename-location", "Riverside", "Riverside Mall", *db)[0] == 0
    assert run(capsys, "--retire-location", "Riverside Mall", *db)[0] == 0
    code, out, _ = run(capsys, "--locations", *db)
    assert "Riverside Mall\tretired\t4 units on hand" in out, "a retired location keeps its history"
    code, _, err = run(capsys, "--import-catalog", str(second), "--location", "Riverside Mall", *db)
    assert code == 1 and "retired" in err
    code, _, err = run(capsys, "--retire-location", "Main Street", *db)
    assert code == 1 and "at least one location" in err
    engine = open_database(database_url)
    with engine.connect() as conn:
        actions = set(conn.execute(select(AuditEntry.action).where(AuditEntry.entity == "location")).scalars())
        assert conn.execute(select(Location.active).where(Location.name == "Main Street")).scalar() is True
    assert actions == {"location_added", "location_renamed", "location_retired"}
    engine.dispose()


def settings_file(tmp_path) -> str:
    config = tmp_path / "config.toml"
    config.write_text('[channels.Web]\nplatform = "shopify"\nurl = "https://shop.example"\nlocation = "Main Street"\n'
                      'store_location_id = "gid://shopify/Location/1"\n')
    return str(config)


def test_supplier_fulfilment_is_switched_on_from_the_command_once_the_documents_are_current(
        database_url, tmp_path, capsys):
    common = ["--db", database_url, "--config", settings_file(tmp_path)]
    (tmp_path / "c.csv").write_text(CATALOG.format(tubes=1, chains=1))
    assert run(capsys, "--import-catalog", str(tmp_path / "c.csv"), "--location", "Main Street", *common)[0] == 0
    assert run(capsys, "--add-location", "Warehouse", *common)[0] == 0
    code, _, err = run(capsys, "--supplier-fulfilment", "Web", "on", *common)
    assert code == 1 and "is not on file" in err
    assert run(capsys, "--supplier-document", "Web", "internet_addendum", "2026-01-05", *common)[0] == 0
    assert run(capsys, "--supplier-document", "Web", "packing_slip_form", "2026-01-05",
               "--reference", "binder 3, tab 2", *common)[0] == 0
    assert run(capsys, "--supplier-document", "Web", "retailer_contract", "2025-01-01", "--ends", "2025-12-31",
               *common)[0] == 0
    engine = open_database(database_url)
    before = dump(engine)
    code, _, err = run(capsys, "--supplier-fulfilment", "Web", "on", "--location", "Warehouse", *common)
    assert code == 1 and "ended on 2025-12-31" in err and "nothing was changed" in err
    assert dump(engine) == before
    assert run(capsys, "--supplier-document", "Web", "retailer_contract", "2026-01-02", "--ends", "2099-12-31",
               *common)[0] == 0
    code, out, _ = run(capsys, "--supplier-fulfilment", "Web", "on", "--location", "Warehouse", *common)
    assert code == 0 and "supplier orders go to Warehouse" in out
    with engine.connect() as conn:
        on, receiving = conn.execute(select(SalesChannel.supplier_fulfillment, Location.name)
                                     .join(Location, Location.id == SalesChannel.supplier_location_id)).one()
        documents = conn.execute(select(SupplierDocument.kind, SupplierDocument.reference)
                                 .order_by(SupplierDocument.kind)).all()
    assert on is True and receiving == "Warehouse"
    assert ("packing_slip_form", "binder 3, tab 2") in documents
    code, _, err = run(capsys, "--supplier-document", "Web", "handshake", "2026-01-05", *common)
    assert code == 1 and "unknown document 'handshake'" in err
    assert run(capsys, "--supplier-fulfilment", "Web", "off", *common)[0] == 0
    with engine.connect() as conn:
        assert conn.execute(select(SalesChannel.supplier_fulfillment)).scalar() is False
    code, out, _ = run(capsys, "--supplier-document", "Web", "retailer_contract", "2026-02-01", "--brand", "Trek",
                       *common)
    assert code == 0 and "retailer_contract for Trek signed 2026-02-01 recorded" in out
    with engine.connect() as conn:
        assert conn.execute(select(SupplierDocument.brand, SupplierDocument.signed_on)
                            .where(SupplierDocument.brand != "")).one()[0] == "Trek"
    with pytest.raises(SystemExit):
        main(["--locations", "--brand", "Trek", *common])
    assert "--brand go with --supplier-document" in capsys.readouterr().err
    engine.dispose()
