"""Every key of the console, in one place: its id, default keys, the action it runs, its label,
what it does, and where it applies. The screens' bindings, the footer, the key hints, the home
menu, the command palette and the help panel's key list all come from here, and a shop can rebind
any key by id in its settings (`[keys]` in the settings file: `"home.inbox" = "S"`)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


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

    @property
    def screen(self) -> str:
        return self.id.partition(".")[0] if "." in self.id else "app"


ACTIONS: tuple[Action, ...] = (
    # app
    Action('quit', 'ctrl+q', 'quit', 'Quit', 'Leave Tandem', show=False, priority=True),
    Action('commands', 'ctrl+p', 'command_palette', 'Commands', 'Every action of this screen, searchable', show=False),
    # `?` is text in a text box, except in a search box not yet typed into (tui.widgets.search_box).
    Action('help', 'f1,question_mark', 'help', 'Help', 'Questions and answers for this screen', show=False,
           priority=True),
    # accounts
    Action('accounts.back', 'escape', 'back', 'Back', 'Back to the home screen'),
    Action('accounts.edit', 'e', 'edit_account', 'Account', 'Change the accounting account'),
    Action('accounts.present', 'p', 'toggle_present', 'Card present', 'Whether the card was present (in-shop card payments)'),
    Action('accounts.before', 'b', 'day(-1)', 'Day before', 'The reconciliation of the day before'),
    Action('accounts.after', 'f', 'day(1)', 'Day after', 'The reconciliation of the day after'),
    # catalog
    Action('catalog.back', 'escape', 'back', 'Back', 'Back to the table, then home'),
    Action('catalog.search', 'slash', 'search', 'Search', 'Type to search the catalog'),
    Action('catalog.next', 'pagedown', 'next_page', 'Next page', 'The next page of products', priority=True, show=False),
    Action('catalog.previous', 'pageup', 'previous_page', 'Prev page', 'The page before', priority=True, show=False),
    # confirm
    Action('confirm.yes', 'y', 'answer(True)', 'Yes', 'Yes, go ahead'),
    Action('confirm.no', 'n,escape', 'answer(False)', 'No', 'No, leave things as they are'),
    # customer
    Action('customer.create', 'c', 'create', 'Create from sale', "Create a POS customer from the web sale's name, email and phone"),
    Action('customer.close', 'escape', 'dismiss_none', 'Close', 'Close without linking'),
    # document
    Action('document.cancel', 'escape', 'dismiss_none', 'Cancel', 'Close without recording'),
    # faq
    Action('faq.back', 'escape', 'back', 'Back', 'Back to the screen the help was opened from'),
    Action('faq.language', 'f2,ctrl+l', 'switch_language', 'Language', 'English or French', priority=True),
    Action('faq.next', 'down', 'next', 'Next', 'The next question', show=False, priority=True),
    Action('faq.previous', 'up', 'previous', 'Previous', 'The question before', show=False, priority=True),
    # gift-card
    Action('gift-card.cancel', 'escape', 'dismiss_none', 'Cancel', 'Close without issuing'),
    # home
    Action('home.inbox', 's', 'open_inbox', 'Sales', 'The web sales to handle', menu='Sales inbox — web sales to pick up, ship, or finish'),
    Action('home.returns', 't', 'open_returns', 'Returns', 'Returns and tax editor', menu='Returns — refunds with per-line tax rates and shipping'),
    Action('home.accounts', 'a', 'open_accounts', 'Accounts', 'Payment types and reconciliation', menu="Accounts — payment types and the day's reconciliation"),
    Action('home.resolver', 'm', 'open_resolver', 'Matches', 'Resolve web listings the rules could not match', menu='Match resolver — link web listings to shop products'),
    Action('home.catalog', 'c', 'open_catalog', 'Catalog', 'Search the products', menu='Catalog — search the products, see stock at each location'),
    Action('home.locations', 'l', 'open_locations', 'Locations', 'Add, rename or retire locations', show=False, menu="Locations — add, rename or retire the shop's locations"),
    Action('home.supplier', 'f', 'open_supplier', 'Supplier', 'Supplier fulfilment: signed documents and the switch', show=False, menu='Supplier fulfilment — signed documents, switched on or off'),
    Action('home.sync', 'y', 'sync', 'Sync', 'Sync every web store now (the same as tandem --sync)',
           menu='Sync now — every web store, as tandem --sync does'),
    Action('home.history', 'h', 'open_sync_history', 'Syncs', 'Each sync and what it did, per web store', show=False,
           menu='Syncs — each sync and what it did; sync one web store or all'),
    Action('home.refresh', 'r', 'refresh', 'Refresh', 'Read the figures again', show=False),
    Action('home.quit', 'q', 'leave', 'Quit', 'Leave Tandem (asks first)'),
    # inbox
    Action('inbox.back', 'escape', 'back', 'Back', 'Back to the home screen'),
    Action('inbox.filter', 'f', 'next_filter', 'Filter', 'Cycle the status filter'),
    Action('inbox.channel', 'c', 'next_channel', 'Store', 'Cycle the web store filter'),
    Action('inbox.history', 'h', 'toggle_history', 'History', 'Completed and cancelled sales'),
    Action('inbox.search', 'slash', 'search', 'Search', 'Find a sale: order number, name, email, phone or a scanned barcode'),
    Action('inbox.next', 'pagedown', 'next_page', 'Next page', 'The next page of sales', priority=True, show=False),
    Action('inbox.previous', 'pageup', 'previous_page', 'Prev page', 'The page before', priority=True, show=False),
    Action('inbox.refresh', 'r', 'reload', 'Refresh', 'Read the sales again', show=False),
    # locations
    Action('locations.back', 'escape', 'back', 'Back', 'Back to the home screen'),
    Action('locations.add', 'a', 'add', 'Add', 'Open a new location'),
    Action('locations.rename', 'r', 'rename', 'Rename', 'Give the highlighted location a new name'),
    Action('locations.retire', 'd', 'retire', 'Retire', 'Stop using it; its history stays'),
    # pickup
    Action('pickup.card', '1', "toggle('card')", 'Card', 'The card shown matches the one used online'),
    Action('pickup.signature', '2', "toggle('signature')", 'Signature', 'The customer signed'),
    Action('pickup.photo-id', '3', "toggle('photo-id')", 'Photo ID', 'A government photo ID was checked'),
    Action('pickup.confirm', 'enter', 'confirm', 'Complete', 'Capture the payment and complete the pickup', priority=True),
    Action('pickup.cancel', 'escape', 'dismiss_none', 'Cancel', 'Close; the sale stays as it is'),
    # prompt
    Action('prompt.cancel', 'escape', 'dismiss_none', 'Cancel', 'Close without saving'),
    # why
    Action('why.close', 'escape,q,w,enter', 'dismiss', 'Close', 'Close this explanation'),
    Action('why.faq', 'h', 'faq', 'Help entry', "The help panel's entry on matching"),
    # resolver
    Action('resolver.back', 'escape', 'back', 'Back', 'Back to the home screen'),
    # Not a priority key: Enter must come after the digits of a scan, in the order they were typed.
    Action('resolver.link', 'enter', 'link_highlighted', 'Link', 'Link the listing to the highlighted product'),
    Action('resolver.not-online', 'x', 'not_sold_online', 'Not online', 'This listing has no product in the shop'),
    Action('resolver.skip', 's', 'skip', 'Skip', 'Leave it for later; next listing'),
    Action('resolver.undo', 'u', 'undo', 'Undo', 'Take back the last decision made here; again for the one before'),
    Action('resolver.search', 'slash', 'search', 'Search', 'Search the whole catalog'),
    Action('resolver.why', 'w', 'why', 'Why?', 'Why this listing needs a person'),
    Action('resolver.down', 'j', 'cursor_down', 'Down', 'The next candidate', show=False),
    Action('resolver.up', 'k', 'cursor_up', 'Up', 'The candidate before', show=False),
    Action('resolver.link-1', '1', 'link_number(1)', 'Link 1', 'Link the listing to candidate 1', show=False),
    Action('resolver.link-2', '2', 'link_number(2)', 'Link 2', 'Link the listing to candidate 2', show=False),
    Action('resolver.link-3', '3', 'link_number(3)', 'Link 3', 'Link the listing to candidate 3', show=False),
    Action('resolver.link-4', '4', 'link_number(4)', 'Link 4', 'Link the listing to candidate 4', show=False),
    Action('resolver.link-5', '5', 'link_number(5)', 'Link 5', 'Link the listing to candidate 5', show=False),
    Action('resolver.link-6', '6', 'link_number(6)', 'Link 6', 'Link the listing to candidate 6', show=False),
    Action('resolver.link-7', '7', 'link_number(7)', 'Link 7', 'Link the listing to candidate 7', show=False),
    Action('resolver.link-8', '8', 'link_number(8)', 'Link 8', 'Link the listing to candidate 8', show=False),
    Action('resolver.link-9', '9', 'link_number(9)', 'Link 9', 'Link the listing to candidate 9', show=False),
    # returns
    Action('returns.back', 'escape', 'back', 'Back', 'Back; an unposted draft is abandoned'),
    Action('returns.more', 'plus,equals_sign', 'more', '+1', 'One more unit comes back'),
    Action('returns.less', 'minus', 'less', '-1', 'One unit fewer'),
    Action('returns.tax', 't', 'tax', 'Tax rate', "Change this line's tax rate"),
    Action('returns.restock', 'r', 'restock', 'Restock', 'Restock or not (damaged)'),
    Action('returns.shipping', 's', 'shipping', 'Shipping', 'Add the shipping refund'),
    Action('returns.amount', 'a', 'amount', 'Amount', 'Refund less shipping than was charged'),
    Action('returns.confirm', 'c', 'confirm', 'Confirm', 'Post the refund'),
    # sale
    Action('sale.back', 'escape', 'back', 'Back', 'Back to the inbox'),
    Action('sale.pickup', 'p', 'pickup', 'Pickup', 'Complete pickup: checks, capture, done'),
    Action('sale.shipped', 's', 'shipped', 'Shipped', 'Capture and complete a shipped sale'),
    Action('sale.gift-card', 'g', 'gift_card', 'Gift card', 'Issue the gift card for this line'),
    Action('sale.match', 'm', 'resolve', 'Match', "Resolve this line's match"),
    Action('sale.undo-match', 'u', 'undo_match', 'Undo match', 'Take back the link that gave this line its product'),
    Action('sale.customer', 'l', 'customer', 'Customer', 'Link or create the POS customer'),
    Action('sale.cancel', 'x', 'cancel_sale', 'Cancel sale', 'Cancel the sale and release its units'),
    Action('sale.shop-ships', 'o', 'shop_ships', 'We ship it', 'Tagged supplier-shipped, but the shop ships it from its own stock'),
    Action('sale.supplier-ships', 'v', 'supplier_ships', 'Supplier ships', 'The supplier ships it: wait for its release time, commit nothing'),
    # syncs
    Action('syncs.back', 'escape', 'back', 'Back', 'Back to the home screen'),
    Action('syncs.one', 'enter', 'sync_one', 'Sync store', 'Sync the highlighted web store now', priority=True),
    Action('syncs.all', 'a', 'sync_all', 'Sync all', 'Sync every web store now'),
    Action('syncs.more', 'pagedown', 'more', 'Older', 'Older syncs', priority=True, show=False),
    # supplier
    Action('supplier.back', 'escape', 'back', 'Back', 'Back to the home screen'),
    Action('supplier.record', 'n', 'record', 'Record', 'Record the highlighted signed document'),
    Action('supplier.on', 'o', 'switch_on', 'Switch on', 'Switch supplier fulfilment on (asks where orders go)'),
    Action('supplier.off', 'x', 'switch_off', 'Switch off', 'Switch supplier fulfilment off (asks first)'),
    # tax-rate
    Action('tax-rate.cancel', 'escape', 'dismiss_none', 'Cancel', 'Close without changing the rate'),
)
BY_ID = {action.id: action for action in ACTIONS}
_rebound: dict[str, str] = {}

KEY_NAMES = {"question_mark": "?", "slash": "/", "escape": "esc", "plus": "+", "minus": "-", "equals_sign": "=",
             "enter": "Enter", "down": "↓", "up": "↑", "f1": "F1", "f2": "F2", "ctrl+p": "^p", "ctrl+q": "^q",
             "pagedown": "PgDn", "pageup": "PgUp", "right_square_bracket": "]", "left_square_bracket": "["}


def bindings(screen: str) -> list[Binding]:
    """The Textual bindings of a screen (or "app"), in the registry's order."""
    return [Binding(action.keys, action.action, action.label, id=action.id, tooltip=action.description,
                    show=action.show, priority=action.priority) for action in ACTIONS if action.screen == screen]


def for_screen(screen: str) -> list[Action]:
    return [action for action in ACTIONS if action.screen == screen]


def rebind(keymap: dict[str, str]) -> list[str]:
    """Remember a shop's own keys (ids to keys) for the hints; returns the ids the registry does not know."""
    unknown = [action_id for action_id in keymap if action_id not in BY_ID]
    _rebound.update({action_id: keys for action_id, keys in keymap.items() if action_id in BY_ID})
    return unknown


def keys_of(action_id: str) -> str:
    return _rebound.get(action_id) or BY_ID[action_id].keys


def key(action_id: str) -> str:
    """The key to show for an action: its first key, as people write it."""
    first = keys_of(action_id).split(",")[0]
    return KEY_NAMES.get(first, first)


def hint(*items: tuple[str, str]) -> str:
    """A line of key hints from (action id, words) pairs: "f status · c store"."""
    return " · ".join(f"{key(action_id)} {words}" for action_id, words in items)


def key_list(screen: str) -> str:
    """The help panel's list of a screen's keys, then those that work everywhere."""
    rows = [action for action in for_screen(screen) + for_screen("app")]
    return "\n".join(f"[b]{key(action.id)}[/b]  {action.label} — {action.description}" for action in rows)


def screen_of(screen_object) -> str:
    """The registry's name for a Textual screen: the screen part of its bindings' ids."""
    return next((binding.id.partition(".")[0] for binding in getattr(screen_object, "BINDINGS", ())
                 if getattr(binding, "id", None) and "." in binding.id), "home")
