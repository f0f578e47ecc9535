"""The command palette (ctrl+p): every action of the screen it is opened on, and those that work
everywhere, by their words — the same registry as the keys."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from core.i18n import _
from tui.actions import Action, described, for_screen, key, offered, screen_of


class ScreenActions(Provider):
    def _actions(self) -> list[Action]:
        """What the screen offers now: the same check as its footer's keys."""
        return [action for action in for_screen(screen_of(self.screen)) + for_screen("app")
                if offered(action, self.screen)]

    @staticmethod
    def _words(action: Action) -> str:
        return f"{_(action.label)} ({key(action.id)})"

    async def _run(self, action: Action) -> None:
        target = self.app if action.screen == "app" else self.screen
        await target.run_action(action.action)

    async def discover(self) -> Hits:
        for action in self._actions():
            yield DiscoveryHit(self._words(action), partial(self._run, action), help=described(action))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action in self._actions():
            words = self._words(action)
            score = max(matcher.match(words), matcher.match(_(action.description)))
            if score > 0:
                yield Hit(score, matcher.highlight(words), partial(self._run, action), help=described(action))
