"""Data sets for training and evaluating the reference models.

The published layout loader (:mod:`.layout`), spatial targets (:mod:`.targets`), audio conditioning
(:mod:`.audio`), measured HRIRs (:mod:`.sofa`), and the synthetic binaural scene generator (:mod:`.synth`).
"""
