"""Seeded stores: `catalogue.list_scenarios` and `catalogue.build_state`, from `data`, `seeds`."""
