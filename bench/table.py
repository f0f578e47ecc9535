"""One row per measured figure: its value, the floor it is held to, and whether it passes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str = ""
    floor: str = ""  # "<= 150 ms", ">= 0.5"; empty for a figure shown for information
    passed: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.passed is None else ("pass" if self.passed else "FAIL")

    def shown_value(self) -> str:
        if self.floor == "yes":
            return "yes" if self.value else "no"
        if float(self.value).is_integer():
            return f"{self.value:,.0f}"
        return f"{self.value:,.3f}" if abs(self.value) < 10 else f"{self.value:,.1f}"


def at_most(name: str, value: float, floor: float, unit: str = "") -> Figure:
    return Figure(name, value, unit, f"<= {floor:g}", value <= floor)


def at_least(name: str, value: float, floor: float, unit: str = "") -> Figure:
    return Figure(name, value, unit, f">= {floor:g}", value >= floor)


def info(name: str, value: float, unit: str = "") -> Figure:
    return Figure(name, value, unit)


def print_table(figures: list[Figure], title: str | None = None) -> None:
    if title:
        print(title)
    width = max(len(f.name) for f in figures)
    print(f"{'figure':<{width}}  {'value':>12} {'unit':<9} {'floor':<12} result")
    print("-" * (width + 44))
    for f in figures:
        print(f"{f.name:<{width}}  {f.shown_value():>12} {f.unit:<9} {f.floor:<12} {f.verdict}")
