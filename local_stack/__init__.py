"""The embedded local stack: moto in server mode as the AWS of the laptop, the resources, demo data and the CLI."""
