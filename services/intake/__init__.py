"""Intake: trading-project registration (进场登记) and its lifecycle."""
