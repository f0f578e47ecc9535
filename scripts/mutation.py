"""Mutation testing of the code that moves money and stock (mutmut 3; its settings are in
pyproject.toml under [tool.mutmut]).

    uv run python scripts/mutation.py                  # the functions that move money and stock
    uv run python scripts/mutation.py --survivors      # after adding tests: the survivors again
    uv run python scripts/mutation.py --wide           # all the money and stock code (hours)
    uv run python scripts/mutation.py --only 'core.returns.x_complete_return*'
    uv run python scripts/mutation.py --report         # the last run's score and survivors again

Each mutant (one small change to one function: `<` for `<=`, `+` for `-`, an argument dropped...)
runs against the tests that reach that function, fastest first, stopping at the first failure.
A mutant that every test lets through ("survived") is a change to the money or stock rules that
no test would notice: kill it with a test, or say why it changes nothing.

By default only the functions that move money and stock are mutated (MOVES_MONEY_AND_STOCK
below: posting a return and the amounts and limits it rests on, capturing a sale, claiming a
sale at the version seen, selling and releasing units): about 520 mutants, some 40 minutes on 2
workers. --wide mutates all the money and stock code (MONEY_AND_STOCK below), which takes hours:
  - core/returns.py: units and money refunded, tax and shipping shares, restocking, the capture
    check, redoing an overtaken draft, the refund sent to the website (not the sale search, the
    audit helper, or the wording of the limits and of what an overtaken draft lost);
  - core/pickup.py: capture and completion, cancelling (units released, cards voided), through
    the store too (not cards_voided, which only words what a cancel did);
  - core/gift_cards.py: issuing a card for the line's amount, taking back what is left on it
    (refunds, cancels), setting its balance;
  - core/reconciliation.py: the money by day and account, and the CSV and IIF written from it
    (not parse_iif, which only reads a file back for the tests);
  - core/sales.py: reading a sale and claiming it at the version staff saw (two terminals never
    both complete, cancel or capture), and giving a line its product by hand, changing or undoing
    that (its committed units move with it); not short_at, which only names a location;
  - core/sync/settle.py: where the units actually move (committed, released, sold, once per
    line) for the modules above; not refresh_states, which only sets the sales' states.
Lines that only build a message for staff or an audit entry are not mutated (see
do_not_mutate_patterns in pyproject.toml). Properties (ReturnLineView.amounts, ReturnView.totals)
are never mutated: mutmut 3 leaves decorated functions alone.

The run starts afresh (the mutants/ folder is rebuilt), unless --survivors is given: that tests
again only what the last run did not kill (after adding tests, say), reusing its mutants/. The tests
run on SQLite only (TANDEM_TEST_POSTGRES_URL is dropped). A mutant that no other test kills runs
the state-machine test, the slowest by far, so mutation runs give it fewer sequences (5, still
derandomized, no shrinking; --state-machine-examples 0 runs CI's 30): a survivor is worth one
more look with `--only NAME --state-machine-examples 0`. Two runs of the same code and tests
give the same score. Exit code 0 unless mutmut failed, or --fail-under is given and the score is
lower.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"

MONEY_AND_STOCK: dict[str, list[str]] = {
    "core/returns.py": [
        "redo_draft", "line_amounts", "share", "start_return", "_returned_elsewhere", "_shipping_refunded",
        "_shipping_tax_charged", "_line_charged", "_draft_line", "set_quantity", "add_units", "_set_units",
        "checked_tax_change", "set_tax_rate", "set_restock", "add_shipping_refund", "set_shipping_amount",
        "return_view", "_view", "abandon_return", "complete_return", "refund_on_website",
    ],
    "core/pickup.py": [
        "ships", "complete_sale", "cancel_sale", "_channel_of_sale", "cancel_with_store", "complete_with_store",
    ],
    "core/gift_cards.py": [
        "issue_gift_card", "cards_of_sale", "take_back", "void_cards_to_cancel", "set_gift_card_balance",
    ],
    "core/reconciliation.py": ["reconciliation", "to_csv", "to_iif"],
    "core/sales.py": [
        "_sale", "_claim", "put_line_on_product", "change_line_product", "undo_line_product", "_open_line",
    ],
    "core/sync/settle.py": [
        "settle_sales", "_first_location", "_move", "_stock_lines", "_commit_stock", "release_stock",
        "release_lines", "sell_stock",
    ],
}


# The functions that move money or stock themselves, or compute the amounts and limits that do.
MOVES_MONEY_AND_STOCK: dict[str, list[str]] = {
    "core/returns.py": [
        "complete_return", "share", "line_amounts", "_line_charged", "_shipping_tax_charged", "_returned_elsewhere",
        "_shipping_refunded",
    ],
    "core/pickup.py": ["complete_sale"],
    "core/sales.py": ["_claim"],
    "core/sync/settle.py": ["sell_stock", "release_stock"],
}


def module_of(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def patterns_for(functions: dict[str, list[str]]) -> list[str]:
    return [f"{module_of(path)}.x_{name}__mutmut_*" for path, names in functions.items() for name in names]


def function_of(mutant: str) -> str:
    """core.returns.x_complete_return__mutmut_12 -> core.returns.complete_return"""
    module, _, mangled = mutant.partition("__mutmut_")[0].rpartition(".")
    return f"{module}.{mangled.removeprefix('x_')}"


def run_mutmut(patterns: list[str], workers: int, state_machine_examples: int) -> int:
    env = dict(os.environ)
    for name in ("TANDEM_TEST_POSTGRES_URL", "TANDEM_STATE_MACHINE_EXAMPLES", "TANDEM_STATE_MACHINE_MUTATION_EXAMPLES"):
        env.pop(name, None)
    if state_machine_examples:
        env["TANDEM_STATE_MACHINE_MUTATION_EXAMPLES"] = str(state_machine_examples)
    mutmut = Path(sys.executable).with_name("mutmut")
    command = [str(mutmut) if mutmut.exists() else "mutmut", "run", "--max-children", str(workers), *patterns]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def results(patterns: list[str]) -> dict[str, dict[str, str]]:
    """{module: {mutant: status}} for the mutants the patterns select, read from mutants/."""
    from fnmatch import fnmatch

    from mutmut.stats import status_by_exit_code

    found: dict[str, dict[str, str]] = {}
    for path in MONEY_AND_STOCK:
        meta = MUTANTS / f"{path}.meta"
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        chosen = {name: status_by_exit_code[code] for name, code in codes.items()
                  if any(fnmatch(name, pattern) for pattern in patterns)}
        if chosen:
            found[module_of(path)] = chosen
    return found


def diff_of(mutant: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    try:
        lines = get_diff_for_mutant(mutant).splitlines()
    except Exception as exc:  # noqa: BLE001 - a report without one diff is still a report
        return f"    (no diff: {exc})"
    return "\n".join("    " + line for line in lines[2:] if line.startswith(("+", "-", "@")))


def report(patterns: list[str]) -> tuple[int, int]:
    """Print the score per module and every mutant tested but not killed; returns (killed, tested)."""
    os.chdir(ROOT)  # mutmut reads its settings and mutants/ from the project's folder
    by_module = results(patterns)
    if not by_module:
        print("no results: run the mutation tests first")
        return 0, 0
    killed_all = tested_all = 0
    print("\nmodule                  killed/tested  survived  no tests  timeout  other  not run")
    for module, statuses in by_module.items():
        counts = Counter(statuses.values())
        killed, tested = counts["killed"], len(statuses) - counts["not checked"]
        other = tested - killed - counts["survived"] - counts["no tests"] - counts["timeout"]
        killed_all, tested_all = killed_all + killed, tested_all + tested
        print(f"{module:24s}{killed:>7d}/{tested:<7d}{counts['survived']:>8d}{counts['no tests']:>10d}"
              f"{counts['timeout']:>9d}{other:>7d}{counts['not checked']:>9d}")
    if tested_all:
        print(f"{'all':24s}{killed_all:>7d}/{tested_all:<7d} score {100 * killed_all / tested_all:.1f} %")
    lines = []
    for statuses in by_module.values():
        for mutant, status in sorted(statuses.items(), key=lambda item: (item[0].partition("__mutmut_")[0],
                                                                          int(item[0].rpartition("_")[2]))):
            if status not in ("killed", "not checked"):
                lines.append(f"\n{status}: {mutant}  ({function_of(mutant)})\n{diff_of(mutant)}")
    if lines:
        text = "".join(lines)
        print(f"\nnot killed ({len(lines)}):{text}")
        (MUTANTS / "survivors.txt").write_text(text.lstrip() + "\n")
        print(f"\n(also in {MUTANTS.relative_to(ROOT)}/survivors.txt; `uv run mutmut show NAME` shows one)")
    return killed_all, tested_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--wide", action="store_true", help="all the money and stock code, not only what moves it")
    parser.add_argument("--only", nargs="+", metavar="GLOB",
                        help="mutant names to run instead, e.g. 'core.pickup.x_complete_sale*'")
    parser.add_argument("--survivors", action="store_true",
                        help="test again only the mutants of the selection that the last run did not kill")
    parser.add_argument("--state-machine-examples", type=int, default=5, metavar="N",
                        help="sequences of the state-machine test per mutant (default 5; 0: CI's full set)")
    parser.add_argument("--report", action="store_true", help="only print the last run's score and survivors")
    parser.add_argument("--fail-under", type=float, metavar="PERCENT", help="exit 1 when the score is lower")
    args = parser.parse_args(argv)
    patterns = args.only or patterns_for(MONEY_AND_STOCK if args.wide else MOVES_MONEY_AND_STOCK)
    if not args.report:
        run = patterns
        if args.survivors:
            os.chdir(ROOT)
            last = results(patterns)
            if not last:
                print("no earlier run to take the survivors of: run without --survivors first")
                return 1
            run = sorted(name for statuses in last.values() for name, status in statuses.items()
                         if status not in ("killed", "not checked"))
            if not run:
                print("nothing to test again: the last run killed every mutant it tested")
                report(patterns)
                return 0
        elif MUTANTS.exists():
            shutil.rmtree(MUTANTS)
        code = run_mutmut(run, max(1, args.workers), args.state_machine_examples)
        if code != 0:
            print(f"mutmut stopped with exit code {code}", file=sys.stderr)
            return code
    killed, total = report(patterns)
    if args.fail_under is not None and (not total or 100 * killed / total < args.fail_under):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
