"""Print the routing table of the catalog: ``python -m actions.routing``."""

from actions.catalog import get_catalog
from actions.routing.table import all_routes, format_table

print(format_table(all_routes(get_catalog())))
