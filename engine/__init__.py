"""The inference machinery of cicatrix.

Nothing in this package knows the domain it reasons about: every piece of domain knowledge is
read from a knowledge-base folder (``kb/``) at run time, so another domain's
knowledge base loads with no code change.
"""

__version__ = "0.1.0"  # the one place the version is written; pyproject.toml reads it
