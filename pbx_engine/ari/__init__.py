"""A small typed ARI client on aiohttp: REST calls the flows use and the events WebSocket."""
