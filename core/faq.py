"""The help panel's questions and answers, in English and French, told as they apply to Tandem.

The first nineteen topics cover every question of the point-of-sale FAQ Tandem was built from
(its facts, in new words); the rest are questions Tandem itself raises. `screens` says which
screens open the panel on that entry with F1.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

LANGUAGES = ("en", "fr")


@dataclass(frozen=True)
class Entry:
    topic: str
    screens: tuple[str, ...]
    en: tuple[str, str]
    fr: tuple[str, str]

    def text(self, language: str) -> tuple[str, str]:
        return self.fr if language == "fr" else self.en


ENTRIES: tuple[Entry, ...] = (
    Entry("how_it_works", ("home",), (
        "What does Tandem do between the shop and the web store?",
        "It is the shop's e-commerce integration, and it does two things every day. It sends the web store the quantity you have available and the selling price of "
        "every product the two sides share (the export), and it brings the web store's orders into the shop as "
        "web sales, so stock and reports include them (the import). `tandem --sync`, run by cron or a systemd "
        "timer, does both; the home screen shows when it last ran.",
    ), (
        "Que fait Tandem entre la boutique et le site marchand ?",
        "C'est l'intégration e-commerce de la boutique, et elle fait deux choses chaque jour. Elle envoie au site la quantité disponible et le prix de vente de chaque produit "
        "commun aux deux (l'export), et elle rapatrie les commandes du site dans la boutique sous forme de ventes "
        "Web, pour que le stock et les rapports en tiennent compte (l'import). `tandem --sync`, lancé par cron "
        "ou un minuteur systemd, fait les deux ; l'accueil indique sa dernière exécution.",
    )),
    Entry("accurate_inventory", ("home", "catalog", "locations"), (
        "What matters most for selling online?",
        "Stock figures you can trust. If the shop's counts are wrong, the website offers products you no longer "
        "have, or a supplier ships an order you could have filled from your own shelf. Import the POS catalog "
        "regularly (`tandem --import-catalog`) and keep counts honest; Tandem sends on hand minus what web sales "
        "already hold, less an optional safety buffer.",
    ), (
        "Qu'est-ce qui compte le plus pour vendre en ligne ?",
        "Des chiffres de stock fiables. Si les quantités de la boutique sont fausses, le site propose des "
        "articles épuisés, ou un fournisseur expédie une commande que vos propres rayons auraient pu servir. "
        "Importez régulièrement le catalogue de la caisse (`tandem --import-catalog`) ; Tandem envoie le stock "
        "en main moins ce que les ventes Web retiennent déjà, moins une marge de sécurité facultative.",
    )),
    Entry("catalog_in_step", ("home", "catalog", "locations"), (
        "How do I keep the website's catalog in step with the shop?",
        "Let the daily export do it: quantities and selling prices of every matched product go to the web store "
        "once a day, at the channel's export time. Creating products or pages on the website itself is the web "
        "store's side; ask whoever runs the site whether anything more is needed there.",
    ), (
        "Comment garder le catalogue du site aligné sur la boutique ?",
        "L'export quotidien s'en charge : quantités et prix de vente de chaque produit apparié partent vers le "
        "site une fois par jour, à l'heure d'export du canal. Créer les fiches produits sur le site relève du "
        "site lui-même ; demandez à la personne qui le gère s'il faut autre chose de ce côté.",
    )),
    Entry("web_developer", ("home",), (
        "Can our own web developer connect the website to Tandem?",
        "Yes. The developer creates the store's API credentials (a Shopify custom-app access token, or a "
        "WooCommerce consumer key and secret — the integrator's shared secret) and gives them to Tandem with "
        "`tandem --set-secret CHANNEL`; the channel itself is a few lines in the settings file. The README walks "
        "through both platforms step by step.",
    ), (
        "Notre développeur Web peut-il relier le site à Tandem ?",
        "Oui. Il crée les identifiants d'API du site (un jeton d'application Shopify, ou une clé et un secret "
        "WooCommerce — le secret partagé de l'intégrateur) et les confie à Tandem avec "
        "`tandem --set-secret CANAL` ; le canal lui-même tient en quelques lignes du fichier de réglages. Le "
        "README décrit les deux plateformes pas à pas.",
    )),
    Entry("supplier_requirements", ("inbox", "sale", "supplier"), (
        "What do I need before suppliers can ship my web orders?",
        "The web store must mark supplier-shipped orders (an order tag, or a named fulfillment service), and "
        "the brand needs three signed documents from you: its Internet addendum, the custom packing-slip "
        "information form, and a current retailer contract. Tandem refuses to switch supplier fulfillment on "
        "for a channel until all three are recorded with their dates: record them and switch it on from the "
        "home screen's Supplier fulfilment (f), or with `tandem --supplier-document` and `--supplier-fulfilment`.",
    ), (
        "Que faut-il avant que des fournisseurs expédient mes commandes Web ?",
        "Le site doit signaler les commandes expédiées par le fournisseur (une étiquette de commande ou un "
        "service d'expédition nommé), et la marque doit recevoir trois documents signés : son avenant Internet, "
        "le formulaire d'information pour le bordereau personnalisé et un contrat de détaillant à jour. Tandem "
        "refuse d'activer l'expédition fournisseur sur un canal tant que les trois ne sont pas enregistrés, datés : "
        "enregistrez-les et activez-la depuis l'écran d'accueil, touche f, ou avec `tandem --supplier-document` "
        "et `--supplier-fulfilment`.",
    )),
    Entry("supplier_one_location", ("inbox", "sale", "supplier"), (
        "Can all supplier-shipped orders go to one location?",
        "Yes. Agree it with the brand's sales representative; in Tandem, supplier fulfillment can route every "
        "supplier-shipped sale of a channel to one shop location.",
    ), (
        "Toutes les commandes expédiées par le fournisseur peuvent-elles aller au même endroit ?",
        "Oui. Convenez-en avec le représentant de la marque ; dans Tandem, l'expédition fournisseur peut diriger "
        "toutes les ventes expédiées par le fournisseur d'un canal vers un seul emplacement de la boutique.",
    )),
    Entry("prices_online", ("home", "catalog"), (
        "How do my selling prices get onto the website?",
        "With the quantities: the same daily export sends each matched product's selling price from the shop. "
        "Change a price in the POS, import the catalog, and the next export carries it.",
    ), (
        "Comment mes prix de vente arrivent-ils sur le site ?",
        "Avec les quantités : le même export quotidien envoie le prix de vente de chaque produit apparié. "
        "Modifiez un prix dans la caisse, importez le catalogue, et le prochain export le transmet.",
    )),
    Entry("separate_merchant_account", ("sale", "accounts"), (
        "Why a separate merchant account for online payments?",
        "Because a card charged through the shop's in-store account says the card was present. Online, nobody "
        "saw the card, and if the holder disputes the charge you face a chargeback with no proof. A separate "
        "online account protects you better and makes reconciliation simpler. In Tandem the online payment type "
        "is card-not-present and has its own accounting account (Accounts screen).",
    ), (
        "Pourquoi un compte marchand distinct pour les paiements en ligne ?",
        "Parce qu'une carte débitée par le compte du magasin indique qu'elle était présente. En ligne, personne "
        "n'a vu la carte, et si le titulaire conteste, vous subissez une rétrofacturation sans preuve. Un compte "
        "en ligne distinct protège mieux et simplifie le rapprochement. Dans Tandem, le paiement en ligne est "
        "« carte absente » et a son propre compte comptable (écran Comptes).",
    )),
    Entry("reconciliation_by_account", ("accounts",), (
        "I track classes for several shops in QuickBooks. Does one online merchant account break reconciliation?",
        "No. Reconciliation works by account, not by class or category. Map the online payment type to the "
        "same accounting account as the online merchant account and the deposits line up. Tandem's "
        "reconciliation is by day and account: `tandem --export-reconciliation DATE --format iif` writes the "
        "QuickBooks deposits.",
    ), (
        "Je suis plusieurs magasins par catégorie dans QuickBooks. Un seul compte marchand en ligne gêne-t-il le rapprochement ?",
        "Non. Le rapprochement se fait par compte, pas par catégorie. Associez le type de paiement en ligne au "
        "même compte comptable que le compte marchand en ligne et les dépôts concordent. Tandem rapproche par "
        "jour et par compte : `tandem --export-reconciliation DATE --format iif` produit les dépôts QuickBooks.",
    )),
    Entry("order_status", ("sale",), (
        "Does Tandem update the order's status on the website?",
        "Not by default, like the system it replaces. A channel can ask for it: with `push_status = true` in its "
        "settings, completing a sale also marks the order fulfilled on the website.",
    ), (
        "Tandem met-il à jour le statut de la commande sur le site ?",
        "Pas par défaut, comme le système qu'il remplace. Un canal peut le demander : avec `push_status = true` "
        "dans ses réglages, terminer une vente marque aussi la commande comme traitée sur le site.",
    )),
    Entry("customers", ("sale",), (
        "Do website customers replace my POS customers?",
        "Never. The web customer's name, email, phone and addresses stay on the web sale. On the sale screen, `l` "
        "suggests POS customers with the same email or phone to link, or creates a new one from the sale — "
        "always by hand, always in the audit log.",
    ), (
        "Les clients du site remplacent-ils mes clients de la caisse ?",
        "Jamais. Le nom, le courriel, le téléphone et les adresses du client Web restent sur la vente Web. Sur "
        "l'écran de la vente, `l` propose les clients de la caisse ayant le même courriel ou téléphone, ou en "
        "crée un à partir de la vente — toujours à la main, toujours dans le journal d'audit.",
    )),
    Entry("supplier_order_held", ("inbox", "sale", "supplier"), (
        "A supplier shipped a web order. Why isn't it in the shop yet?",
        "Supplier-shipped orders can only be downloaded from 02:30 Eastern time on the business day after they "
        "ship (weekends and holidays skipped). Until then the inbox lists the sale as \"held until\" that moment, "
        "in your local time. It never takes units from your own stock.",
    ), (
        "Un fournisseur a expédié une commande Web. Pourquoi n'est-elle pas encore dans la boutique ?",
        "Les commandes expédiées par le fournisseur ne se téléchargent qu'à partir de 2 h 30, heure de l'Est, le "
        "jour ouvrable suivant l'expédition (fins de semaine et jours fériés exclus). D'ici là, la boîte de "
        "réception l'affiche « retenue jusqu'à » ce moment, en heure locale. Elle ne prend jamais d'unités dans "
        "votre stock.",
    )),
    Entry("matching", ("resolver",), (
        "How does Tandem match web products to shop products?",
        "Automatically when one pair is identical: the shop barcode (UPC/EAN) and the web GTIN, compared as one "
        "14-digit number with a valid check digit; or the manufacturer part numbers. For sales only, the shop SKU "
        "and the web product code count too. If more than one identical counterpart exists, nothing is matched "
        "automatically: the listing waits in the match resolver.",
    ), (
        "Comment Tandem apparie-t-il les produits du site et ceux de la boutique ?",
        "Automatiquement quand une paire est identique : le code-barres de la boutique (UPC/EAN) et le GTIN du "
        "site, comparés comme un seul nombre à 14 chiffres avec une clé de contrôle valide ; ou les numéros de "
        "pièce du fabricant. Pour les ventes seulement, l'UGS de la boutique et le code produit du site comptent "
        "aussi. S'il existe plus d'une contrepartie identique, rien n'est apparié automatiquement : l'annonce "
        "attend dans l'outil d'appariement.",
    )),
    Entry("no_barcode", ("resolver", "catalog"), (
        "What about brands whose products have no UPC or EAN?",
        "Barcodes are best, because they are unique. Without one, the manufacturer part number can match, but "
        "brands reuse part numbers, so expect to link more of those products by hand in the match resolver (`m` "
        "on the home screen).",
    ), (
        "Et les marques dont les produits n'ont ni UPC ni EAN ?",
        "Les codes-barres sont préférables, car uniques. Sans eux, le numéro de pièce du fabricant peut servir, "
        "mais les marques le réutilisent : attendez-vous à relier plus de ces produits à la main dans l'outil "
        "d'appariement (`m` à l'accueil).",
    )),
    Entry("gift_cards", ("sale",), (
        "How do I sell gift cards on the website?",
        "Create the same placeholder product in the POS (flagged as the gift-card placeholder) and on the "
        "website. When a web sale with it comes in, the inbox shows \"gift card to issue\"; on the sale, `g` "
        "takes the number of the real card you hand over, for the line's amount, and records its balance.",
    ), (
        "Comment vendre des cartes-cadeaux sur le site ?",
        "Créez le même produit de remplacement dans la caisse (marqué comme carte-cadeau) et sur le site. Quand "
        "une vente Web le contient, la boîte de réception affiche « carte-cadeau à émettre » ; sur la vente, `g` "
        "demande le numéro de la vraie carte remise, pour le montant de la ligne, et enregistre son solde.",
    )),
    Entry("pay_before_pickup", ("sale", "inbox"), (
        "Why is the payment taken when the customer picks up, not before?",
        "At checkout the website only pre-authorises the card; your merchant account is credited when the "
        "payment is captured. Capturing at pickup, after checking the card and its holder (signature, government "
        "photo ID), protects you against card fraud. `p` on the sale asks for those checks, then captures.",
    ), (
        "Pourquoi le paiement est-il encaissé au retrait, et pas avant ?",
        "Au paiement en ligne, le site ne fait qu'une préautorisation ; votre compte marchand n'est crédité qu'à "
        "l'encaissement. Encaisser au retrait, après avoir vérifié la carte et son titulaire (signature, pièce "
        "d'identité officielle avec photo), protège contre la fraude. `p` sur la vente demande ces vérifications, "
        "puis encaisse.",
    )),
    Entry("return_tax_rate", ("returns",), (
        "Internet sales aren't taxed here; how do I refund at the rate the customer paid?",
        "You don't have to do anything special: each return line starts at the tax rate actually charged on "
        "that sale line. To change it, `t` on the line, then the new rate and a short reason; the original rate "
        "stays visible beside the new one.",
    ), (
        "Les ventes en ligne ne sont pas taxées ici ; comment rembourser au taux payé par le client ?",
        "Rien de spécial à faire : chaque ligne de retour part du taux de taxe réellement facturé sur la ligne "
        "de vente. Pour le changer, `t` sur la ligne, puis le nouveau taux et une courte raison ; le taux "
        "d'origine reste visible à côté du nouveau.",
    )),
    Entry("refund_shipping", ("returns",), (
        "How do I refund shipping, say when a special order is cancelled before it ships?",
        "In the return, `s` adds the shipping refund: a non-inventory product at quantity −1, priced at the "
        "shipping charged, taxed at the shipping tax charged. `a` lowers the amount if needed (never above what "
        "was charged) and `t` changes its tax rate.",
    ), (
        "Comment rembourser les frais de livraison, par exemple pour une commande spéciale annulée ?",
        "Dans le retour, `s` ajoute le remboursement de livraison : un produit hors inventaire à la quantité −1, "
        "au prix de la livraison facturée, taxé au taux facturé. `a` réduit le montant au besoin (jamais "
        "au-delà du montant facturé) et `t` change son taux de taxe.",
    )),
    Entry("completed_sales_leave", ("inbox",), (
        "How do sales leave the web sales inbox?",
        "By themselves, once completed (or cancelled). They stay in history: `h` in the inbox shows them.",
    ), (
        "Comment les ventes quittent-elles la boîte de réception des ventes Web ?",
        "D'elles-mêmes, une fois terminées (ou annulées). Elles restent dans l'historique : `h` dans la boîte "
        "de réception les affiche.",
    )),
    # Questions Tandem itself raises.
    Entry("why_ambiguous", ("resolver",), (
        "Why is a web listing \"ambiguous\" or in \"conflict\"?",
        "Ambiguous: several shop products share its barcode or part number, or several listings name the same "
        "product. Conflict: the barcode names one product and the part number another. Tandem never guesses; "
        "link it with `1`–`9` or `Enter`, or `x` if it is not sold in the shop. `?` explains each listing.",
    ), (
        "Pourquoi une annonce Web est-elle « ambiguë » ou « en conflit » ?",
        "Ambiguë : plusieurs produits de la boutique partagent son code-barres ou son numéro de pièce, ou "
        "plusieurs annonces désignent le même produit. En conflit : le code-barres désigne un produit et le "
        "numéro de pièce un autre. Tandem ne devine jamais ; reliez-la avec `1`–`9` ou `Entrée`, ou `x` si "
        "elle n'est pas vendue en boutique. `?` explique chaque annonce.",
    )),
    Entry("capture_failed", ("sale", "inbox"), (
        "Why does a sale say \"capture failed\"?",
        "The web store refused to capture the authorised payment (an expired authorisation, say). The sale "
        "stays open with the store's reason on it; nothing was taken from stock. Sort it out with the customer, "
        "then complete the pickup again.",
    ), (
        "Pourquoi une vente indique-t-elle « encaissement refusé » ?",
        "Le site a refusé d'encaisser le paiement autorisé (une autorisation expirée, par exemple). La vente "
        "reste ouverte avec la raison donnée par le site ; rien n'a été retiré du stock. Réglez la question avec "
        "le client, puis refaites le retrait.",
    )),
    Entry("export_schedule", ("home",), (
        "When does the daily export run?",
        "At the first sync after the channel's `export_time`, in its `time_zone`; other syncs only read listings "
        "and orders. Run `tandem --sync` every 15 minutes from cron or a systemd timer (see the README). "
        "`--export-now` sends changes at once, `--dry-run` shows what would be sent.",
    ), (
        "Quand l'export quotidien a-t-il lieu ?",
        "À la première synchronisation après l'`export_time` du canal, dans son `time_zone` ; les autres ne "
        "font que lire annonces et commandes. Lancez `tandem --sync` toutes les 15 minutes avec cron ou un "
        "minuteur systemd (voir le README). `--export-now` envoie tout de suite, `--dry-run` montre l'envoi.",
    )),
    Entry("secrets", ("home",), (
        "Where are the store passwords and keys kept?",
        "Outside the database, in `secrets.toml` beside the settings file, readable by its owner only (Tandem "
        "refuses it otherwise), or in TANDEM_SECRET_… environment variables. `tandem --set-secret CHANNEL` "
        "asks for them without echo; `tandem --paths` shows where the file is. They never appear on screen or "
        "in logs.",
    ), (
        "Où sont gardés les mots de passe et clés du site ?",
        "Hors de la base de données, dans `secrets.toml` à côté du fichier de réglages, lisible par son seul "
        "propriétaire (sinon Tandem le refuse), ou dans des variables d'environnement TANDEM_SECRET_…. "
        "`tandem --set-secret CANAL` les demande sans écho ; `tandem --paths` indique le fichier. Ils "
        "n'apparaissent jamais à l'écran ni dans les journaux.",
    )),
)

SEED_TOPICS = tuple(entry.topic for entry in ENTRIES[:19])


def fold(text: str) -> str:
    """Accents, case and hyphens do not matter to search: "ecommerce" finds "e-commerce"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.casefold().replace("-", "").replace("’", "'")


def search(query: str, language: str) -> list[Entry]:
    words = fold(query).split()
    if not words:
        return list(ENTRIES)
    found = []
    for entry in ENTRIES:
        question, answer = entry.text(language)
        haystack = fold(f"{question} {answer}")
        if all(word in haystack for word in words):
            found.append(entry)
    return found


def for_screen(screen: str) -> list[Entry]:
    return [entry for entry in ENTRIES if screen in entry.screens]


def default_language(configured: str | None = None, environ: dict | None = None) -> str:
    import os

    if configured in LANGUAGES:
        return configured
    env = os.environ if environ is None else environ
    locale = env.get("LC_ALL") or env.get("LC_MESSAGES") or env.get("LANG") or ""
    return "fr" if locale.lower().startswith("fr") else "en"
