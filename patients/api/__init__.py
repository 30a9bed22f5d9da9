"""REST API over the patients app, one module per area; `routes` lists them for the router."""
