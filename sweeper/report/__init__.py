"""A folder of runs as one table, its figures, and the report that explains them."""
