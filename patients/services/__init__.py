"""Business events on patients, one module per area. Each function: keyword-only, one
transaction, audit inside. Callers import the area module, e.g.
`from patients.services import records`."""
