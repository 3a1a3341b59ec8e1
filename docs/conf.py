"""Sphinx configuration of jupyter-papers' documentation (MyST Markdown pages).

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

project = "jupyter-papers"
author = "the jupyter-papers team"
extensions = ["myst_parser"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]
html_theme = "sphinx_book_theme"
html_title = "jupyter-papers"
html_theme_options = {"repository_url": "https://github.com/jupyter-papers/jupyter-papers", "use_repository_button": True}
