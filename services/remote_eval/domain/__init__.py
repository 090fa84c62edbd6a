"""Remote evaluation\x27s pure domain: venues, experts, the solver and the verifiable draw."""
