"""The search engines behind PaperIndex: ``whoosh/`` is the embedded default. Front ends
never import a backend; they call ``jupyter_papers.index``."""
