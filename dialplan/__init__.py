"""The dialplan the engine needs, rendered from the numbers in the database."""
