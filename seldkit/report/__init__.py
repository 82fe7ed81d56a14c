"""Reports: figures made with matplotlib from scored results, assembled into one self-contained
HTML file (images embedded) with the PNGs beside it.

:mod:`.figures` holds one module per kind of result (clip metrics, DCASE, QA, training runs, comparisons),
each a set of pure functions from arrays to a :class:`matplotlib.figure.Figure`; :mod:`.build` reads what a
report is made from and chooses the sections; :mod:`.html` writes the files.
"""
