"""The test bed the tests, the demo and the benches share (like panoramisk's ``testing``):
a private Asterisk, SIPp scenarios and RTP, a private PostgreSQL, the in-process fake ARI, the
"astro" project, and the worlds built from them (the engine on the fake ARI; the engine, a
real Asterisk and SIPp end to end). It imports the project's packages; nothing there imports it."""
