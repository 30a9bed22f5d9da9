"""Business events of scheduling, one module per area. Each function: keyword-only, one
transaction, permission check and audit inside. Import the area module, e.g.
`from scheduling.services import attendance`."""
