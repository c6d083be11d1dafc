"""The model contract and the parts families share; it never imports a family.

What every model honours (:mod:`.forecaster`, :mod:`.classifier`), what a family hands the
pipeline (:mod:`.family`), and shared building blocks: the window slicer (:mod:`.windows`),
the training-split scaler (:mod:`.scaler`), calendar covariates (:mod:`.calendar`), gap
masking (:mod:`.masking`), node scaling (:mod:`.scaled`), the ridge-started linear skip
(:mod:`.skip`, :mod:`.ridge`) and the local pretrained encoder (:mod:`.pretrained`).
"""
