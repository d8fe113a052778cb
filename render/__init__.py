"""Renderers: a resolved :class:`~engine.result.Result` -> text for a person or a program.

Nothing in the inference core imports this package.
"""
