"""Columns that follow the terminal's width, and names cut where they do not differ."""

from tui.widgets.fitted_table import Col, column_widths, fit_column, shorten

BIKES = ["Northwind Cycles Lite bike gravel 56", "Northwind Cycles Race bike gravel 56 - green",
         "Northwind Cycles Pro bike gravel 56 - red", "Northwind Cycles Tour bike gravel 56 - orange",
         "Northwind Cycles Lite bike gravel 56 - grey"]


def test_nine_look_alike_names_stay_told_apart_when_cut():
    for width in (29, 24, 20):
        fitted = fit_column(BIKES, width)
        assert all(len(name) <= width for name in fitted)
        assert len(set(fitted)) == len(BIKES), (width, fitted)
    assert fit_column(BIKES, 29)[1] == "…Race bike gravel 56 - green", "the shared brand goes, model and colour stay"
    assert fit_column(BIKES, 20)[3].endswith("orange") and "Tour" in fit_column(BIKES, 20)[3]


def test_what_fits_is_left_alone_and_a_cut_says_so():
    assert fit_column(["Tube 700x25", "Chain 11s"], 20) == ["Tube 700x25", "Chain 11s"]
    assert shorten("Velotek inner tube 700x28-32 Presta 60mm black", 20).endswith("60mm black")
    assert "…" in shorten("Velotek inner tube 700x28-32 Presta 60mm black", 20)


def test_the_extra_width_goes_to_the_names():
    columns = [Col("Order", 7), Col("Status", 21, grow=2), Col("Customer", 14, grow=3), Col("Total", 9)]
    assert column_widths(columns, 51) == [7, 21, 14, 9]
    wide = column_widths(columns, 91)
    assert wide[0] == 7 and wide[3] == 9 and sum(wide) == 91 and wide[2] > wide[1] > 21
    narrow = column_widths(columns, 40)
    assert narrow[0] == 7 and narrow[3] == 9 and min(narrow) >= 7


async def test_amounts_statuses_and_dates_are_never_cut_names_give_way():
    """A column marked whole is as wide as its widest value (money in French: "-1 110,86"); the
    name beside it gives way instead."""
    from rich.text import Text
    from textual.app import App

    from tui.widgets.fitted_table import FittedTable

    columns = [Col("Line", 19, grow=1, fit=True), Col(Text("Price", justify="right"), 7, whole=True),
               Col("Status", 8, whole=True)]

    class Table(App):
        def compose(self):
            yield FittedTable(columns, id="t")

    app = Table()
    async with app.run_test(size=(40, 6)) as pilot:
        table = app.query_one(FittedTable)
        table.set_rows([("1", ["Northwind Cycles bike e-bike M orange", Text("1 052,95", justify="right"),
                               "retenue jusqu'à"])])
        await pilot.pause()
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row[1] == "1 052,95" and row[2] == "retenue jusqu'à"
        assert row[0].startswith("…") or row[0].endswith("…") or "…" in row[0]
