"""The operator CLI ``cardadmin``: projects, numbers, tariffs, cards, money and quotes."""
