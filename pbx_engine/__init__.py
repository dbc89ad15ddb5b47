"""The telephony engine: sans-IO call machines, the ARI client and adapter, timers, the runner."""
