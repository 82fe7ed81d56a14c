"""Reports: figures of scored results in one self-contained HTML file, with the PNGs beside it.

The figures are made with matplotlib from scored results; the HTML file embeds them as images.

:mod:`.figures` holds one module per kind of result (clip metrics, DCASE, QA, training runs, comparisons),
each a set of pure functions from arrays to a :class:`matplotlib.figure.Figure`; :mod:`.build` reads what a
report is made from and chooses the sections; :mod:`.html` writes the files.
"""
