"""Service functions: the only way money and bindings move. Each runs in one transaction."""
