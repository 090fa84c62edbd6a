"""One module per detection rule, each with its data in ``<module>.json`` beside it."""
