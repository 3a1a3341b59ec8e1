"""Turning papers into citations: the CSL engine (pandoc's citeproc), inline forms,
reference lists of notebooks, .bib writing, and paper text made safe for Markdown and
LaTeX. Imports no search backend."""
