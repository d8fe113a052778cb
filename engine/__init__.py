"""The inference machinery of cicatrix.

Nothing in this package knows about scars: every piece of domain knowledge is
read from a knowledge-base folder (``kb/``) at run time, so another domain's
knowledge base loads with no code change.
"""
