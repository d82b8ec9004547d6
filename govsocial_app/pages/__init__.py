"""One module per page: small functions that build components."""
