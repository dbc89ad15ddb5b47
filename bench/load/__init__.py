"""The SIPp load harness (``python -m bench.load``): N concurrent two-leg calls through the
engine, a bare ARI app and native ``Dial(…,L())`` on one private Asterisk, judged at SIPp."""
