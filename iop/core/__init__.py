"""Building blocks every app may use: base models, optimistic concurrency, API errors."""
