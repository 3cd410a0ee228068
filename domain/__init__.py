"""The business of the dealership in plain Python: entities, value objects, rules. No AWS library is imported here."""
