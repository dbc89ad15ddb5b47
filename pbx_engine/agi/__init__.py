"""FastAGI mode: the dialplan keeps the call (``Dial(…,L())``); we authorize, activate, settle."""
