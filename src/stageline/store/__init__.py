"""Storage: SQL tables, migrations and the data-access functions over them."""
