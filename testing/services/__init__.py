"""Business events of drug and alcohol testing, one module per area: `draws` (month keys, the
daily draw), `collection` (orders, specimens, results, the clinical response)."""
