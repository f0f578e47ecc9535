"""The webhook listener under hostile traffic.

    uv run python -m bench.listener [--sockets 1000] [--forged 1000] [--copies 300]

First the listener alone, in a process of its own (so its threads and memory are its own): 1,000
sockets dribbling their headers a byte at a time (each reconnecting as soon as the listener closes
it, as a slowloris does) and 1,000 posts with a bad signature, while a valid signed delivery is sent
every tenth of a second. Printed: the listener process's threads, memory (RSS) and open files
before, at the worst during, and after the attack; the time each valid delivery took to be
answered 200 (floor: p95 ≤ 1 s).

Then a real watcher on a Shopify demo store on loopback, polling every 2 seconds with webhooks:
300 copies of one signed delivery, each with a fresh X-Shopify-Event-Id and X-Shopify-Triggered-At
(neither is signed), over 4.5 seconds; the store's order reads are counted, and those no poll
asked for are the copies' (floor: at most 1 per round). Then 300 different signed deliveries (as
with a leaked secret): the reads they cause stay within the store's bucket of early reads (5 at
once, then 30 a minute), however they fall between the polls.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.table import Figure, at_most, info, print_table
from core.webhooks import sign

SECRET = "whsec_bench_0123456789"
ROOT = Path(__file__).resolve().parents[1]
ACCEPT_P95_FLOOR = 1.0
ATTACK_SECONDS = 8.0  # longer than the listener's read time limit: every dribbler is cut at least once
OPEN_FILES = 8192


def signed(order: int, event: str) -> tuple[bytes, dict]:
    body = json.dumps({"id": order}).encode()
    return body, {"X-Shopify-Hmac-Sha256": sign(SECRET, body), "X-Shopify-Event-Id": event,
                  "X-Shopify-Topic": "orders/create", "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
                  "Content-Type": "application/json"}


def more_open_files(wanted: int = OPEN_FILES) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard),
                                                    hard))


# --- the listener's process ----------------------------------------------------------------------------

def serve() -> None:
    """The child: a listener on a free loopback port, until its stdin closes."""
    from core.sync.listen import WebhookListener

    more_open_files()
    taken = []
    listener = WebhookListener("127.0.0.1", 0, {"Shop": ("shopify", SECRET)},
                               lambda name, delivery: taken.append(delivery.order_id)).start()
    print(listener.port, flush=True)
    sys.stdin.read()
    listener.stop()
    print(f"{len(taken)} taken, {listener.refused} refused, {listener.turned_away} turned away", flush=True)


class ListenerProcess:
    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-m", "bench.listener", "--serve"], cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())

    def figures(self) -> tuple[int, float, int]:
        """Threads, RSS in MiB, open files."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        files = len(os.listdir(f"/proc/{self.process.pid}/fd"))
        return int(fields["Threads"]), int(fields["VmRSS"].split()[0]) / 1024, files

    def close(self) -> str:
        self.process.stdin.close()
        said = self.process.stdout.read().strip()
        self.process.wait(timeout=60)
        return said


class Dribblers:
    """`count` connections sending their headers a byte at a time, each reopened as soon as the
    listener closes it."""

    def __init__(self, port: int, count: int):
        self.port, self.count = port, count
        self.selector = selectors.DefaultSelector()
        self.reopened = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _open(self) -> None:
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        connection.sendall(b"POST /webhooks/Shop HTTP/1.1\r\nHost: shop\r\nX-Slow: ")
        connection.setblocking(False)
        self.selector.register(connection, selectors.EVENT_READ)

    def start(self) -> Dribblers:
        for _ in range(self.count):
            self._open()
        self.thread.start()
        return self

    def _run(self) -> None:
        turn = 0
        while not self.stop.is_set():
            for key, _events in self.selector.select(timeout=0.02):
                self.selector.unregister(key.fileobj)  # answered (408) or closed: the listener let go
                key.fileobj.close()
                self.reopened += 1
                self._open()
            connections = [key.fileobj for key in self.selector.get_map().values()]
            share = max(len(connections) // 50, 1)  # every connection gets a byte about once a second
            for connection in connections[turn * share:(turn + 1) * share]:
                try:
                    connection.send(b"a")
                except OSError:
                    pass  # closed under it: seen as readable next time round
            turn = (turn + 1) % 50

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        for key in list(self.selector.get_map().values()):
            self.selector.unregister(key.fileobj)
            key.fileobj.close()


def forged_posts(port: int, count: int, answers: list[int]) -> list[threading.Thread]:
    """`count` posts with a bad signature, from ten clients at once."""
    def send(share: int, first: int) -> None:
        with httpx.Client(timeout=30) as client:
            for n in range(first, first + share):
                body, headers = signed(n, f"forged-{n}")
                headers["X-Shopify-Hmac-Sha256"] = sign("not the secret", body)
                try:
                    answers.append(client.post(f"http://127.0.0.1:{port}/webhooks/Shop", content=body,
                                               headers=headers).status_code)
                except httpx.HTTPError:
                    answers.append(0)
    share = math.ceil(count / 10)
    threads = [threading.Thread(target=send, args=(min(share, count - first), first), daemon=True)
               for first in range(0, count, share)]
    for thread in threads:
        thread.start()
    return threads


def attack(sockets: int, forged: int) -> list[Figure]:
    more_open_files()
    listener = ListenerProcess()
    try:
        time.sleep(0.5)
        before = listener.figures()
        dribblers = Dribblers(listener.port, sockets).start()
        answers: list[int] = []
        posting = forged_posts(listener.port, forged, answers)
        worst = list(listener.figures())
        waits, statuses = [], []
        ends, number = time.monotonic() + ATTACK_SECONDS, 0
        while time.monotonic() < ends:
            number += 1
            body, headers = signed(number, f"valid-{number}")
            sent = time.perf_counter()
            try:
                statuses.append(httpx.post(f"http://127.0.0.1:{listener.port}/webhooks/Shop", content=body,
                                           headers=headers, timeout=30).status_code)
            except httpx.HTTPError:
                statuses.append(0)
            waits.append(time.perf_counter() - sent)
            now = listener.figures()
            worst = [max(a, b) for a, b in zip(worst, now, strict=True)]
            time.sleep(0.1)
        for thread in posting:
            thread.join(timeout=60)
        dribblers.close()
        time.sleep(1.0)
        after = listener.figures()
    finally:
        said = listener.close()
    ordered = sorted(waits)
    p95 = ordered[max(math.ceil(len(ordered) * 0.95) - 1, 0)]
    accepted = statuses.count(200)
    print(f"listener process: threads {before[0]} before, {worst[0]} at most during, {after[0]} after; "
          f"RSS {before[1]:.1f} MiB before, {worst[1]:.1f} MiB at most during, {after[1]:.1f} MiB after; "
          f"open files {before[2]} before, {worst[2]} at most during, {after[2]} after")
    print(f"attack: {sockets} dribbling sockets ({dribblers.reopened} reopened after the listener closed them), "
          f"{len(answers)} forged posts answered {sorted(set(answers))}; listener: {said}")
    print(f"valid deliveries during the attack: {accepted} of {len(statuses)} answered 200; "
          f"p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms")
    return [info("listener threads before the attack", before[0], "threads"),
            at_most("listener threads during the attack (no thread per connection)", worst[0], before[0], "threads"),
            info("listener threads after the attack", after[0], "threads"),
            info("listener RSS before the attack", round(before[1], 1), "MiB"),
            info("listener RSS at most during the attack", round(worst[1], 1), "MiB"),
            info("listener RSS after the attack", round(after[1], 1), "MiB"),
            at_most("valid deliveries not answered 200", len(statuses) - accepted, 0, "deliveries"),
            at_most("valid delivery answered during the attack, p95", round(p95, 3), ACCEPT_P95_FLOOR, "s")]


# --- wake-ups: the watcher's order reads -----------------------------------------------------------------

class CountedReads:
    """The store's connector, noting for each order read whether a poll or a webhook asked for it
    (the watcher counts a webhook's read just before making it)."""

    def __init__(self, connector, state):
        self.connector, self.state = connector, state
        self.reads: list[str] = []
        self._webhook_reads = 0

    def orders_since(self, cursor):
        woken = self.state.webhook_reads > self._webhook_reads
        self._webhook_reads = self.state.webhook_reads
        self.reads.append("webhook" if woken else "poll")
        return self.connector.orders_since(cursor)

    def __getattr__(self, name):
        return getattr(self.connector, name)


def extra_reads(reads: list[str]) -> tuple[int, int, int]:
    """Webhook reads, polls, and the most webhook reads between two polls."""
    between, most = 0, 0
    for read in reads:
        if read == "poll":
            between = 0
        else:
            between += 1
            most = max(most, between)
    return reads.count("webhook"), reads.count("poll"), most


def wake_ups(copies: int) -> list[Figure]:
    from bench.staleness import PRODUCTS, stores
    from bench.export import barcode
    from core.audit import Actor
    from core.catalog_import import import_catalog
    from core.connectors.shopify import ShopifyConnector
    from core.db import open_database
    from core.demo_store.app import LoopbackServer
    from core.demo_store.store import LOCATION_ID
    from core.sync import apply_channel_settings
    from core.sync.wakeups import WEBHOOK_READS_AT_ONCE, WEBHOOK_READS_PER_MINUTE
    from core.sync.watch import WatchState, watch

    store = stores()[0]
    figures = []
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer(store) as server:
        engine = open_database(f"sqlite:///{Path(tmp) / 'shop.sqlite'}")
        rows = "".join(f"P{n},Product {n},{barcode(n)},10.00,50\n" for n in range(1, PRODUCTS + 1))
        import_catalog(engine, ("sku,description,upc,price,quantity\n" + rows).encode(), "Shop", Actor("bench"))
        apply_channel_settings(engine, {"Shopify": {"platform": "shopify", "url": server.url, "location": "Shop",
                                                    "store_location_id": LOCATION_ID}})
        state, stop, ports = WatchState(), threading.Event(), []
        connector = CountedReads(ShopifyConnector(server.url, store.access_token, location_id=LOCATION_ID), state)
        watcher = threading.Thread(target=watch, args=(engine, stop), kwargs={
            "connectors": {"Shopify": connector}, "webhook_secrets": {"Shopify": ("shopify", SECRET)},
            "poll_seconds": 2.0, "listen": ("127.0.0.1", 0), "on_listening": ports.append, "state": state},
            daemon=True)
        watcher.start()
        try:
            while state.rounds < 2:
                time.sleep(0.05)
            url = f"http://127.0.0.1:{ports[0]}/webhooks/Shopify"

            def send(deliveries) -> tuple[list[str], float, set[int]]:
                first, started, answers = len(connector.reads), time.monotonic(), set()
                with httpx.Client(timeout=30) as client:
                    for n, (body, headers) in enumerate(deliveries):
                        time.sleep(max(started + n * 4.5 / copies - time.monotonic(), 0))
                        answers.add(client.post(url, content=body, headers=headers).status_code)
                took = time.monotonic() - started
                time.sleep(2.5)  # one more poll: a wake-up left for later would show here
                return connector.reads[first:], took, answers

            reads, took, answers = send(signed(4242, f"copy-{n}") for n in range(copies))
            extra, polls, most = extra_reads(reads)
            print(f"{copies} copies of one signed delivery, fresh event ids, over {took:.1f} s (answered "
                  f"{sorted(answers)}): {len(reads)} order reads, {polls} by the poll, {extra} woken by the copies; "
                  f"at most {most} between two polls")
            figures += [info(f"order reads woken by {copies} copies of one delivery", extra, "reads"),
                        at_most("extra order reads per round, copies of one delivery", most, 1, "reads")]

            reads, took, answers = send(signed(50_000 + n, f"distinct-{n}") for n in range(copies))
            extra, polls, most = extra_reads(reads)
            bound = WEBHOOK_READS_AT_ONCE + math.ceil(took * WEBHOOK_READS_PER_MINUTE / 60)
            print(f"{copies} different signed deliveries over {took:.1f} s (answered {sorted(answers)}): "
                  f"{len(reads)} order reads, {polls} by the poll, {extra} woken by webhooks "
                  f"(the bucket allows {bound}); at most {most} between two polls")
            figures += [at_most(f"order reads woken by {copies} different deliveries", extra, bound, "reads"),
                        info("webhook reads between two polls, at most (one a round)", most, "reads")]
        finally:
            stop.set()
            watcher.join(timeout=60)
            connector.connector.close()
            engine.dispose()
    return figures


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--forged", type=int, default=1000)
    parser.add_argument("--copies", type=int, default=300)
    args = parser.parse_args(argv)
    return attack(args.sockets, args.forged) + wake_ups(args.copies)


def main() -> None:
    if sys.argv[1:] == ["--serve"]:
        serve()
        return
    print_table(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
