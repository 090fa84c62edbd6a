"""Remote evaluation's pure domain: venues, experts, the solver and the verifiable draw."""
