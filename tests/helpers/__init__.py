"""Helpers shared by the test modules.

A test module (``test_*.py``) never imports another test module nor a ``conftest.py``:
what two of them need lives here, under a public name (tests/test_test_layout.py).
"""
