"""Payment providers for callers' online top-ups (issue 24): ``transfer``, ``webhook`` and
``paypal`` behind one small interface, their HTTP callbacks, and the unpaid orders' sweep."""
