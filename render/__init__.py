"""Renderers: a resolved :class:`~cicatrix.engine.resolve.result.Result` -> text for a person or a program.

Nothing in the engine imports this package (tests/test_architecture.py checks it).
"""
