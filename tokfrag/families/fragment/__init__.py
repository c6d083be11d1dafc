"""The fragment family: windows that keep both time and the graph of who relates to whom.

Series: the sensor graph (given, or a correlation graph on training steps, :mod:`.graph`)
and three graph networks (:mod:`.gconvgru_model`, :mod:`.stgcn_model`,
:mod:`.wavenet_model`). Text: a word co-occurrence graph per document (:mod:`.docgraph`) and
a gated graph network over it (:mod:`.docgraph_model`). :data:`FAMILY` is its registry entry.
"""

from tokfrag.families.fragment.family import FAMILY

__all__ = ["FAMILY"]
