"""The thin adapter between Asterisk (ARI), the cards services and the call machines."""
