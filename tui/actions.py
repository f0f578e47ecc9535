"""Every key of the console, in one place: its id, default keys, the action it runs, its label,
what it does, and where it applies. The screens' bindings, the footer, the key hints, the home
menu, the command palette and the help panel's key list all come from here, and a shop can rebind
any key by id in its settings (`[keys]` in the settings file: `"home.inbox" = "S"`)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.content import Content

from core.i18n import N_, _
from tui.plain import styled


@dataclass(frozen=True)
class Action:
    id: str  # "screen.name"; "app" actions have no screen part. Also the Textual binding id.
    keys: str  # Textual's key names, comma-separated
    action: str  # the Textual action it runs on its screen (or the app)
    label: str  # the footer's word for it
    description: str  # what it does, for the help panel and the command palette
    show: bool = True  # in the footer
    priority: bool = False  # before the focused widget (keys a text box would otherwise take)
    menu: str | None = None  # its line on the home screen's menu
    needs: str | None = None  # what core.roles calls it: a person whose role does not allow it alone
    #                           does not see it in the footer; its key asks for a manager's approval

    @property
    def restricted(self) -> bool:
        """The person at the console may not do it alone (it needs a manager's approval, or the owner)."""
        if self.needs is None:
            return False
        from core.audit import current_actor
        from core.roles import allowed_alone

        return not allowed_alone(current_actor().role, self.needs)

    @property
    def screen(self) -> str:
        return self.id.partition(".")[0] if "." in self.id else "app"


ACTIONS: tuple[Action, ...] = (
    # app
    Action('quit', 'ctrl+q', 'quit', N_('Quit'), N_('Leave Tandem'), show=False, priority=True),
    Action('commands', 'ctrl+p', 'command_palette', N_('Commands'), N_('Every action of this screen, searchable'), show=False),
    # `?` is text in a text box, except in a search box not yet typed into (tui.widgets.search_box).
    Action('help', 'f1,question_mark', 'help', N_('Help'), N_('Questions and answers for this screen'), show=False,
           priority=True),
    Action('language', 'f2', 'switch_language', N_('Language'), N_('Switch between English and French; remembered'),
           show=False, priority=True),
    # accounts
    Action('accounts.back', 'escape', 'back', N_('Back'), N_('Back to the home screen')),
    Action('accounts.edit', 'e', 'edit_account', N_('Account'), N_('Change the accounting account'), needs='payment_type.edit'),
    Action('accounts.present', 'p', 'toggle_present', N_('Card present'), N_('Whether the card was present (in-shop card payments)'), needs='payment_type.edit'),
    Action('accounts.before', 'b', 'day(-1)', N_('Day before'), N_('The reconciliation of the day before')),
    Action('accounts.after', 'f', 'day(1)', N_('Day after'), N_('The reconciliation of the day after')),
    # catalog
    Action('catalog.back', 'escape', 'back', N_('Back'), N_('Back to the table, then home')),
    Action('catalog.web', 'w', 'web', N_('On the web'), N_('What each web store is sent for this product, and why')),
    Action('catalog.search', 'slash', 'search', N_('Search'), N_('Type to search the catalog')),
    Action('catalog.next', 'pagedown', 'next_page', N_('Next page'), N_('The next page of products'), priority=True, show=False),
    Action('catalog.previous', 'pageup', 'previous_page', N_('Prev page'), N_('The page before'), priority=True, show=False),
    # approval
    Action('approval.cancel', 'escape', 'dismiss_none', N_('Cancel'), N_('Close without approving')),
    # confirm
    # y for yes, o for oui: the hint shows the one that starts the word in the console's language.
    Action('confirm.yes', 'y,o', 'answer(True)', N_('Yes'), N_('Yes, go ahead')),
    Action('confirm.no', 'n,escape', 'answer(False)', N_('No'), N_('No, leave things as they are')),
    # customer
    Action('customer.create', 'c', 'create', N_('Create from sale'), N_("Create a POS customer from the web sale's name, email and phone")),
    Action('customer.close', 'escape', 'dismiss_none', N_('Close'), N_('Close without linking')),
    # document
    Action('document.cancel', 'escape', 'dismiss_none', N_('Cancel'), N_('Close without recording')),
    # faq
    Action('faq.back', 'escape', 'back', N_('Back'), N_('Back to the screen the help was opened from')),
    Action('faq.next', 'down', 'next', N_('Next'), N_('The next question'), show=False, priority=True),
    Action('faq.previous', 'up', 'previous', N_('Previous'), N_('The question before'), show=False, priority=True),
    Action('faq.answer-down', 'pagedown', 'answer_page(1)', N_('Answer down'), N_('Scroll the answer down a page'),
           show=False, priority=True),
    Action('faq.answer-up', 'pageup', 'answer_page(-1)', N_('Answer up'), N_('Scroll the answer up a page'),
           show=False, priority=True),
    # gift-card
    Action('gift-card.cancel', 'escape', 'dismiss_none', N_('Cancel'), N_('Close without issuing')),
    # home
    Action('home.inbox', 's', 'open_inbox', N_('Sales'), N_('The web sales to handle'), menu=N_('Sales inbox — web sales to pick up, ship, or finish')),
    Action('home.returns', 't', 'open_returns', N_('Returns'), N_('Returns and tax editor'), menu=N_('Returns — refunds with per-line tax rates and shipping')),
    Action('home.accounts', 'a', 'open_accounts', N_('Accounts'), N_('Payment types and reconciliation'), menu=N_("Accounts — payment types and the day's reconciliation")),
    Action('home.resolver', 'm', 'open_resolver', N_('Matches'), N_('Resolve web listings the rules could not match'), menu=N_('Match resolver — link web listings to shop products')),
    Action('home.catalog', 'c', 'open_catalog', N_('Catalog'), N_('Search the products'), menu=N_('Catalog — search the products, see stock at each location')),
    Action('home.rules', 'w', 'open_rules', N_('Rules'), N_('Web-store rules: safety stock, in store only, prices'),
           show=False, menu=N_('Rules — safety stock, in store only and prices for the web')),
    Action('home.locations', 'l', 'open_locations', N_('Locations'), N_('Add, rename or retire locations'), show=False, menu=N_("Locations — add, rename or retire the shop's locations")),
    Action('home.supplier', 'f', 'open_supplier', N_('Supplier'), N_('Supplier fulfilment: signed documents and the switch'), show=False, menu=N_('Supplier fulfilment — signed documents, switched on or off')),
    # Not on the menu (it fills 80x24 already): the owner reaches it by its key, the palette or help.
    Action('home.staff', 'p', 'open_staff', N_('Staff'), N_('Who works here, their roles, PINs and SSH keys'),
           show=False, needs='staff.manage'),
    Action('home.sync', 'y', 'sync', N_('Sync'), N_('Sync every web store now (the same as tandem --sync)'),
           menu=N_('Sync now — every web store, as tandem --sync does')),
    Action('home.history', 'h', 'open_sync_history', N_('Syncs'), N_('Each sync and what it did, per web store'), show=False,
           menu=N_('Syncs — each sync and what it did; sync one web store or all')),
    Action('home.refresh', 'r', 'refresh', N_('Refresh'), N_('Read the figures again'), show=False),
    Action('home.quit', 'q', 'leave', N_('Quit'), N_('Leave Tandem (asks first)')),
    # inbox
    Action('inbox.back', 'escape', 'back', N_('Back'), N_('Back to the home screen')),
    Action('inbox.filter', 'f', 'next_filter', N_('Filter'), N_('Cycle the status filter')),
    Action('inbox.channel', 'c', 'next_channel', N_('Store'), N_('Cycle the web store filter')),
    Action('inbox.history', 'h', 'toggle_history', N_('History'), N_('Completed and cancelled sales')),
    Action('inbox.search', 'slash', 'search', N_('Search'), N_('Find a sale: order number, name, email, phone or a scanned barcode')),
    Action('inbox.next', 'pagedown', 'next_page', N_('Next page'), N_('The next page of sales'), priority=True, show=False),
    Action('inbox.previous', 'pageup', 'previous_page', N_('Prev page'), N_('The page before'), priority=True, show=False),
    Action('inbox.refresh', 'r', 'reload', N_('Refresh'), N_('Read the sales again'), show=False),
    # rule
    Action('rule.cancel', 'escape', 'cancel', N_('Cancel'), N_('Close without saving the rule')),
    # rules
    Action('rules.back', 'escape', 'back', N_('Back'), N_('Back to the home screen')),
    Action('rules.add', 'a', 'add', N_('Add'), N_('Add a rule, or change the one for the same products'),
           needs='rules.change'),
    Action('rules.remove', 'd', 'remove', N_('Remove'), N_('Take the highlighted rule off'), needs='rules.change'),
    # locations
    Action('locations.back', 'escape', 'back', N_('Back'), N_('Back to the home screen')),
    Action('locations.add', 'a', 'add', N_('Add'), N_('Open a new location'), needs='locations.change'),
    Action('locations.rename', 'r', 'rename', N_('Rename'), N_('Give the highlighted location a new name'), needs='locations.change'),
    Action('locations.retire', 'd', 'retire', N_('Retire'), N_('Stop using it; its history stays'), needs='locations.change'),
    Action('locations.restore', 'u', 'restore', N_('Restore'), N_('Put a retired location back in use'),
           needs='locations.change'),
    # pickup
    Action('pickup.card', '1', "toggle('card')", N_('Card'), N_('The card shown matches the one used online')),
    Action('pickup.signature', '2', "toggle('signature')", N_('Signature'), N_('The customer signed')),
    Action('pickup.photo-id', '3', "toggle('photo-id')", N_('Photo ID'), N_('A government photo ID was checked')),
    Action('pickup.confirm', 'enter', 'confirm', N_('Complete'), N_('Capture the payment and complete the pickup')),
    Action('pickup.cancel', 'escape', 'dismiss_none', N_('Cancel'), N_('Close; the sale stays as it is')),
    # product-web
    Action('product-web.close', 'escape,enter', 'close', N_('Close'), N_('Back to the catalog')),
    # prompt
    Action('prompt.cancel', 'escape', 'dismiss_none', N_('Cancel'), N_('Close without saving')),
    # why
    Action('why.close', 'escape,q,w,enter', 'dismiss', N_('Close'), N_('Close this explanation')),
    Action('why.faq', 'h', 'faq', N_('Help entry'), N_("The help panel's entry on matching")),
    # resolver
    Action('resolver.back', 'escape', 'back', N_('Back'), N_('Back to the home screen')),
    # Not a priority key: Enter must come after the digits of a scan, in the order they were typed.
    Action('resolver.link', 'enter', 'link_highlighted', N_('Link'), N_('Link the listing to the highlighted product')),
    Action('resolver.not-online', 'x', 'not_sold_online', N_('Not online'), N_('This listing has no product in the shop')),
    Action('resolver.skip', 's', 'skip', N_('Skip'), N_('Leave it for later; next listing')),
    Action('resolver.undo', 'u', 'undo', N_('Undo'), N_('Take back the last decision made here; again for the one before')),
    Action('resolver.search', 'slash', 'search', N_('Search'), N_('Search the whole catalog')),
    Action('resolver.why', 'w', 'why', N_('Why?'), N_('Why this listing needs a person')),
    Action('resolver.down', 'j', 'cursor_down', N_('Down'), N_('The next candidate'), show=False),
    Action('resolver.up', 'k', 'cursor_up', N_('Up'), N_('The candidate before'), show=False),
    Action('resolver.link-1', '1', 'link_number(1)', N_('Link 1'), N_('Link the listing to candidate 1'), show=False),
    Action('resolver.link-2', '2', 'link_number(2)', N_('Link 2'), N_('Link the listing to candidate 2'), show=False),
    Action('resolver.link-3', '3', 'link_number(3)', N_('Link 3'), N_('Link the listing to candidate 3'), show=False),
    Action('resolver.link-4', '4', 'link_number(4)', N_('Link 4'), N_('Link the listing to candidate 4'), show=False),
    Action('resolver.link-5', '5', 'link_number(5)', N_('Link 5'), N_('Link the listing to candidate 5'), show=False),
    Action('resolver.link-6', '6', 'link_number(6)', N_('Link 6'), N_('Link the listing to candidate 6'), show=False),
    Action('resolver.link-7', '7', 'link_number(7)', N_('Link 7'), N_('Link the listing to candidate 7'), show=False),
    Action('resolver.link-8', '8', 'link_number(8)', N_('Link 8'), N_('Link the listing to candidate 8'), show=False),
    Action('resolver.link-9', '9', 'link_number(9)', N_('Link 9'), N_('Link the listing to candidate 9'), show=False),
    # returns
    Action('returns.back', 'escape', 'back', N_('Back'), N_('Back; an unposted draft is abandoned')),
    Action('returns.more', 'plus,equals_sign', 'more', N_('+1'), N_('One more unit comes back')),
    Action('returns.less', 'minus', 'less', N_('-1'), N_('One unit fewer')),
    Action('returns.tax', 't', 'tax', N_('Tax rate'), N_("Change this line's tax rate"), needs='return.tax_rate'),
    Action('returns.restock', 'r', 'restock', N_('Restock'), N_('Restock or not (damaged)')),
    Action('returns.shipping', 's', 'shipping', N_('Shipping'), N_('Add the shipping refund')),
    Action('returns.amount', 'a', 'amount', N_('Amount'), N_('Refund less shipping than was charged')),
    Action('returns.confirm', 'c', 'confirm', N_('Confirm'), N_('Post the refund')),
    # sale
    Action('sale.back', 'escape', 'back', N_('Back'), N_('Back to the inbox')),
    Action('sale.pickup', 'p', 'pickup', N_('Pickup'), N_('Complete pickup: checks, capture, done')),
    Action('sale.shipped', 's', 'shipped', N_('Shipped'), N_('Capture and complete a shipped sale')),
    Action('sale.gift-card', 'g', 'gift_card', N_('Gift card'), N_('Issue the gift card for this line')),
    Action('sale.match', 'm', 'resolve', N_('Match'), N_("Resolve this line's match")),
    # The same key on a line that has its product: not in the footer (a correction, not the next step).
    Action('sale.repick', 'm', 'repick', N_('Change product'), N_("Put this line on another shop product (a wrong "
                                                                  "pick), until the sale is completed"), show=False),
    Action('sale.undo-match', 'u', 'undo_match', N_('Undo match'), N_('Take back the link that gave this line its product')),
    Action('sale.customer', 'l', 'customer', N_('Customer'), N_('Link or create the POS customer')),
    Action('sale.accept-held-back', 'k', 'accept_held_back', N_('Accept'),
           N_('Let this order take the units a web-store rule holds back'), needs='sale.held_back'),
    Action('sale.cancel', 'x', 'cancel_sale', N_('Cancel sale'), N_('Cancel the sale and release its units'), needs='sale.cancel'),
    Action('sale.shop-ships', 'o', 'shop_ships', N_('We ship it'), N_('Tagged supplier-shipped, but the shop ships it from its own stock')),
    Action('sale.supplier-ships', 'v', 'supplier_ships', N_('Supplier ships'), N_('The supplier ships it: wait for its release time, commit nothing')),
    # staff
    Action('staff.back', 'escape', 'back', N_('Back'), N_('Back to the home screen')),
    Action('staff.add', 'a', 'add', N_('Add'), N_('Add a member of staff'), needs='staff.manage'),
    Action('staff.role', 'o', 'role', N_('Role'), N_('Next role for the highlighted person: cashier, manager, owner'),
           needs='staff.manage'),
    Action('staff.retire', 'd', 'retire', N_('Retire'), N_('Retire the highlighted person; their history stays'),
           needs='staff.manage'),
    # syncs
    Action('syncs.back', 'escape', 'back', N_('Back'), N_('Back to the home screen')),
    Action('syncs.one', 'enter', 'sync_one', N_('Sync store'), N_('Sync the highlighted web store now'), priority=True),
    Action('syncs.all', 'a', 'sync_all', N_('Sync all'), N_('Sync every web store now')),
    Action('syncs.more', 'pagedown', 'more', N_('Older'), N_('Older syncs'), priority=True, show=False),
    # supplier
    Action('supplier.back', 'escape', 'back', N_('Back'), N_('Back to the home screen')),
    Action('supplier.record', 'n', 'record', N_('Record'), N_('Record the highlighted signed document'), needs='supplier.change'),
    Action('supplier.on', 'o', 'switch_on', N_('Switch on'), N_('Switch supplier fulfilment on (asks where orders go)'), needs='supplier.change'),
    Action('supplier.off', 'x', 'switch_off', N_('Switch off'), N_('Switch supplier fulfilment off (asks first)'), needs='supplier.change'),
    # tax-rate
    Action('tax-rate.cancel', 'escape', 'dismiss_none', N_('Cancel'), N_('Close without changing the rate')),
)
BY_ID = {action.id: action for action in ACTIONS}
_rebound: dict[str, str] = {}

# Keys as people write them; the named ones in the console's language (a French keyboard says Entrée).
KEY_NAMES = {"question_mark": "?", "slash": "/", "escape": N_("esc"), "plus": "+", "minus": "-", "equals_sign": "=",
             "enter": N_("Enter"), "down": "↓", "up": "↑", "f1": "F1", "f2": "F2", "ctrl+p": "^p", "ctrl+q": "^q",
             "pagedown": N_("PgDn"), "pageup": N_("PgUp"), "right_square_bracket": "]", "left_square_bracket": "["}


def bindings(screen: str) -> list[Binding]:
    """The Textual bindings of a screen (or "app"), in the registry's order."""
    return [Binding(action.keys, action.action, action.label, id=action.id, tooltip=action.description,
                    show=action.show, priority=action.priority) for action in ACTIONS if action.screen == screen]


class ForThisPerson:
    """Mixed into a screen: its footer leaves out what the person's role does not allow alone (the
    key still works, and asks for a manager's approval); the command palette and the help panel
    say "needs a manager" beside it."""

    @property
    def active_bindings(self):
        from dataclasses import replace

        from textual.binding import ActiveBinding

        shown = {}
        for key, active in super().active_bindings.items():
            action = BY_ID.get(active.binding.id or "")
            if action is not None and action.restricted and active.binding.show:
                active = ActiveBinding(active.node, replace(active.binding, show=False), active.enabled,
                                       active.tooltip)
            shown[key] = active
        return shown


def described(action: Action) -> str:
    """What the palette and the help panel say of an action: its description, and whether the
    person at the console needs someone's approval for it."""
    from core.roles import NEEDS, OWNER

    if not action.restricted:
        return _(action.description)
    who = _("needs the owner") if NEEDS[action.needs][0] == OWNER else _("needs a manager")
    return f"{_(action.description)} — {who}"


def for_screen(screen: str) -> list[Action]:
    return [action for action in ACTIONS if action.screen == screen]


def offered(action: Action, screen_object) -> bool:
    """Whether a screen offers this action now. The screen's own `check_action` is the one source:
    Textual's footer reads it for the keys, and the command palette and the help panel's key list
    read it here, so none of them offers what the sale's state (or the screen's) does not allow."""
    from textual.actions import parse

    if action.screen == "app" or screen_object is None:
        return True
    _destination, name, parameters = parse(action.action)
    return screen_object.check_action(name, parameters) is True


def rebind(keymap: dict[str, str]) -> list[str]:
    """Remember a shop's own keys (ids to keys) for the hints; returns the ids the registry does not know."""
    unknown = [action_id for action_id in keymap if action_id not in BY_ID]
    _rebound.update({action_id: keys for action_id, keys in keymap.items() if action_id in BY_ID})
    return unknown


def keys_of(action_id: str) -> str:
    return _rebound.get(action_id) or BY_ID[action_id].keys


def key(action_id: str) -> str:
    """The key to show for an action: its first key, as people write it."""
    keys = keys_of(action_id).split(",")
    word = _(BY_ID[action_id].label).casefold()
    first = next((k for k in keys if len(k) == 1 and word.startswith(k)), keys[0])
    return _(KEY_NAMES.get(first, first))


def hint(*items: tuple[str, str]) -> str:
    """A line of key hints from (action id, words) pairs: "f status · c store"."""
    return " · ".join(f"{key(action_id)} {words}" for action_id, words in items)


def menu_line(action: Action) -> Content:
    return styled("[b]{key}[/b]  {words}", key=key(action.id), words=_(action.menu))


def key_list(screen: str, screen_object=None) -> Content:
    """The help panel's list of a screen's keys, then those that work everywhere; with the screen
    itself, only the keys it offers now."""
    rows = [action for action in for_screen(screen) + for_screen("app") if offered(action, screen_object)]
    return Content("\n").join(styled("[b]{key}[/b]  {label} — {description}", key=key(action.id), label=_(action.label),
                                     description=described(action)) for action in rows)


def screen_of(screen_object) -> str:
    """The registry's name for a Textual screen: the screen part of its bindings' ids."""
    return next((binding.id.partition(".")[0] for binding in getattr(screen_object, "BINDINGS", ())
                 if getattr(binding, "id", None) and "." in binding.id), "home")
