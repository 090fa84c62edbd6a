"""Remote evaluation: cross-region remote bid evaluation (远程异地评标) — venues, seats, auditable
expert draws and partner confirmation."""
