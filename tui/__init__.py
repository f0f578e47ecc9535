"""Tandem's staff console: screens, widgets and styles over `core`. No SQL lives here."""

DISTRIBUTION = "tandem"  # see core.DISTRIBUTION
