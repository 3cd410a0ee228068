"""What every entry point needs at run time: typed settings, AWS clients, token verification, logging."""
