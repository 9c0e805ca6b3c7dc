"""Shipped data (data/*.yaml), loaded once, and resolution of user-typed names into frozen records."""
