"""Who holds ``champion`` and ``challenger`` after a registration round (phase 4).

:func:`rank` orders the round's families by the contract's primary metric (series: lowest
``test_mse``; text: highest ``test_accuracy``; ties: the candidate listed first wins), with
the verdict's choice first when there is one. :func:`choose_aliases` applies the promotion
gate's answer: promoted, the best family becomes champion and the runner-up (or the named
family) challenger; held back, the current champion keeps its alias and the newcomer waits
as challenger. :func:`move_aliases` is the only write, made after every version exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tokfrag.registry.candidates import AnyCandidate
from tokfrag.registry.contracts import Contract
from tokfrag.registry.tracking import Store

CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass(frozen=True)
class Aliases:
    """The families and versions the two aliases go to."""

    champion: str
    champion_version: int
    challenger: str | None
    challenger_version: int | None
    promoted: bool  # False: the gate kept an earlier champion


def rank(
    candidates: Sequence[AnyCandidate], contract: Contract, winner: str | None = None
) -> list[str]:
    """The candidates' families, best first on ``contract``'s primary metric; ``winner``
    (the verdict's choice), when given, comes first whatever its metric."""
    # Stable sort: on a tie the candidate listed first wins.
    sign = -1.0 if contract.higher_is_better else 1.0
    ranked = sorted(candidates, key=lambda c: sign * float(c.metrics[contract.primary_metric]))
    if winner is not None:
        ranked = sorted(ranked, key=lambda c: c.family != winner)
    return [c.family for c in ranked]


def choose_aliases(
    ranked: Sequence[str],
    versions: Mapping[str, int],
    previous: tuple[str, int] | None,
    *,
    promote: bool,
    challenger: str | None = None,
) -> Aliases:
    """Where the aliases go, given the ranked families, their versions and the current
    champion's ``(family, version)`` (``previous``, None when there is none).

    The best family is champion when ``promote`` is True, when there is no champion yet, or
    when it already is the champion; ``challenger`` (by default the runner-up) is then
    challenger. Otherwise the current champion stays and ``challenger`` (by default the best
    family) is challenger.
    """
    best = ranked[0]
    promoted = promote or previous is None or previous[1] == versions[best]
    if promoted:
        rest = list(ranked[1:])
        if challenger is not None and challenger in rest:
            rest.remove(challenger)
            rest.insert(0, challenger)
        second = rest[0] if rest else None
        return Aliases(best, versions[best], second, versions[second] if second else None, True)
    # The gate kept the old champion: the newcomer waits as challenger (or the family named
    # ``challenger``: a family winner that a baseline beat waits in its place).
    assert previous is not None
    second = challenger if challenger is not None and challenger in versions else best
    return Aliases(previous[0], previous[1], second, versions[second], False)


def move_aliases(store: Store, champion_version: int, challenger_version: int | None) -> None:
    """Point ``champion`` (and ``challenger``, or remove it when there is none) at versions."""
    client = store.client()
    client.set_registered_model_alias(store.model_name, CHAMPION, str(champion_version))
    if challenger_version is not None:
        client.set_registered_model_alias(store.model_name, CHALLENGER, str(challenger_version))
    elif CHALLENGER in client.get_registered_model(store.model_name).aliases:
        # A lone candidate has no runner-up; an old challenger would claim a comparison
        # that this registration did not make.
        client.delete_registered_model_alias(store.model_name, CHALLENGER)
