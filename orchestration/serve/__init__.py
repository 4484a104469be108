"""`commerce-analytics serve`: the read API and the dashboard over the published marts."""
