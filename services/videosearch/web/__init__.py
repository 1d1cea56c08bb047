"""The web page: one more client of the three services' gRPC API (search, watch, index)."""
