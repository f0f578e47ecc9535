"""Input limits shared by core and the console, importable without the database stack."""

# What a search box keeps of what was typed or pasted. Twelve words already narrow a catalog to a
# handful; a pasted page of text would otherwise become thousands of LIKE terms (SQLite refuses
# the expression, PostgreSQL spends seconds on it).
SEARCH_CHARACTERS = 200
SEARCH_WORDS = 12
