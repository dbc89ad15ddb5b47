"""The call as a sans-IO state machine: events in, commands out; no I/O, no clock, no database."""
