"""Runs inside the IPython kernel: the %papers magic, the ipywidgets panel, and the
comm bridge through which both insert cells into JupyterLab."""
