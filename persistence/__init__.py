"""The one place that touches DynamoDB: the single table's schema, its PynamoDB models and the repositories."""
