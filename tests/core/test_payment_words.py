"""The payment types every shop starts with read in the console's language; a name the shop typed
reads as typed."""

from sqlalchemy import select

from core.i18n import set_language
from core.models import PaymentType
from core.payment_types import shown_words


def test_starting_payment_types_read_in_french_and_a_shops_own_name_as_typed(engine):
    from core.db import migrate

    migrate(engine)
    with engine.connect() as conn:
        stored = conn.execute(select(PaymentType.name, PaymentType.account).order_by(PaymentType.id)).all()
    set_language("fr")
    try:
        shown = [(shown_words(name), shown_words(account)) for name, account in stored]
        assert ("Comptant", "Tiroir-caisse") in shown
        assert all(name != english for (name, _a), (english, _b) in zip(shown, stored) if english != "PayPal"), \
            "every starting name has its French words"
        assert shown_words("Caisse du marché") == "Caisse du marché"
    finally:
        set_language("en")
    assert shown_words("Cash") == "Cash"
