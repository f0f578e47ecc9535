"""The help panel's content: every fact of the seed FAQ in both languages, and search."""

import pytest

from core import faq

# The seed FAQ's nineteen questions, each with facts its entry must carry in both languages.
SEED_FACTS = {
    "how_it_works": (["export", "import"], ["export", "import"]),
    "accurate_inventory": (["stock"], ["stock"]),
    "catalog_in_step": (["quantities", "prices", "once a day"], ["quantités", "prix", "une fois par jour"]),
    "web_developer": (["shared secret"], ["secret partagé"]),
    "supplier_requirements": (["Internet addendum", "packing-slip", "retailer contract"],
                              ["avenant Internet", "bordereau", "contrat de détaillant"]),
    "supplier_one_location": (["one shop location"], ["un seul emplacement"]),
    "prices_online": (["selling price"], ["prix de vente"]),
    "separate_merchant_account": (["chargeback", "card-not-present"], ["rétrofacturation", "carte absente"]),
    "reconciliation_by_account": (["by account, not by class"], ["par compte, pas par catégorie"]),
    "order_status": (["Not by default"], ["Pas par défaut"]),
    "customers": (["Never", "by hand"], ["Jamais", "à la main"]),
    "supplier_order_held": (["02:30 Eastern", "business day"], ["2 h 30, heure de l'Est", "jour ouvrable"]),
    "matching": (["GTIN", "part number", "more than one identical counterpart"],
                 ["GTIN", "numéro", "plus d'une contrepartie identique"]),
    "no_barcode": (["part number", "by hand"], ["numéro de pièce", "à la main"]),
    "gift_cards": (["placeholder"], ["remplacement"]),
    "pay_before_pickup": (["pre-authorises", "photo ID"], ["préautorisation", "photo"]),
    "return_tax_rate": (["rate actually charged"], ["réellement facturé"]),
    "refund_shipping": (["non-inventory", "−1"], ["hors inventaire", "−1"]),
    "completed_sales_leave": (["completed"], ["terminées"]),
}


def test_the_checklist_covers_the_nineteen_seed_questions():
    assert len(SEED_FACTS) == 19
    assert set(faq.SEED_TOPICS) == set(SEED_FACTS)


@pytest.mark.parametrize("topic", SEED_FACTS)
def test_every_seed_fact_has_an_entry_in_both_languages(topic):
    entry = next(e for e in faq.ENTRIES if e.topic == topic)
    english, french = SEED_FACTS[topic]
    for facts, (question, answer) in ((english, entry.en), (french, entry.fr)):
        assert question.strip() and answer.strip()
        for fact in facts:
            assert fact.casefold() in f"{question} {answer}".casefold(), (topic, fact)
    assert entry.en != entry.fr


def test_tandem_adds_its_own_questions():
    own = {e.topic for e in faq.ENTRIES} - set(faq.SEED_TOPICS)
    assert {"why_ambiguous", "export_schedule", "secrets", "capture_failed", "live_sync", "channel_rules"} <= own


@pytest.mark.parametrize(("query", "language", "topic"), [
    ("ecommerce", "en", "how_it_works"),
    ("E-COMMERCE", "fr", "how_it_works"),
    ("remboursement", "fr", "refund_shipping"),
    ("Remboursement", "fr", "refund_shipping"),
    ("etiquette", "fr", "supplier_requirements"),
    ("recu", "fr", None),
    ("gift card", "en", "gift_cards"),
    ("carte cadeau", "fr", "gift_cards"),
])
def test_search_ignores_case_accents_and_hyphens(query, language, topic):
    found = [e.topic for e in faq.search(query, language)]
    if topic is None:
        assert found == []
    else:
        assert topic in found


def test_every_screen_has_entries_for_f1():
    for screen in ("home", "inbox", "sale", "resolver", "returns", "accounts", "catalog", "rules"):
        assert faq.for_screen(screen), screen


@pytest.mark.parametrize(("configured", "env", "language"), [
    ("fr", {"LANG": "en_US.UTF-8"}, "fr_CA"), (None, {"LANG": "fr_CA.UTF-8"}, "fr_CA"),
    (None, {"LANG": "en_GB.UTF-8"}, "en_GB"), (None, {}, "en_CA"), (None, {"LC_ALL": "fr_FR"}, "fr_FR"),
    ("fr_FR", {}, "fr_FR"), ("fr-ca", {}, "fr_CA"), ("de", {"LANG": "de_DE.UTF-8"}, "en_CA"), (None, {"LANG": "C"}, "en_CA"),
])
def test_the_language_follows_the_setting_then_the_locale(configured, env, language):
    from core.i18n import resolve

    assert resolve(configured, env) == language


@pytest.mark.parametrize(("query", "topic"), [
    ("remboursement", "return_tax_rate"),  # that entry says "rembourser"
    ("remboursé", "return_tax_rate"),
    ("REMBOURSER", "return_tax_rate"),
    ("expédier", "supplier_requirements"),  # that entry says "expédition", "expédiées"
    ("expedition", "accurate_inventory"),  # that one "expédié"
])
def test_french_search_finds_the_other_words_of_a_family(query, topic):
    assert topic in [e.topic for e in faq.search(query, "fr")]


def test_a_word_family_is_not_any_word_sharing_a_few_letters():
    assert faq.search("remboursementzz", "fr") == []
    assert "return_tax_rate" not in [e.topic for e in faq.search("remise", "fr")]
