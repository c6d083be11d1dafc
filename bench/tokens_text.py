"""Part 2 of bench/tokens.py: text tokenisation throughput (documents/second).

The WordPiece ``TextTokenizer`` fitted on MR's fit documents (the fit itself timed too), and
the local all-MiniLM-L6-v2 tokenizer, encoding MR's test documents, with the mean tokens per
document and the share of unknown ids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common import best_of
from records import Record, record
from tokens_series import TOKENIZER


def mr_documents(root: Path, params: Any) -> dict[str, list[str]]:
    """MR's fit and test documents as the prepared split in the scratch project has them."""
    from tokfrag.data.text_canonical import load_text
    from tokfrag.stages import Layout

    layout = Layout.of(params, root)
    data = load_text(layout.data_dir)
    split = json.loads((layout.prepared / "split.json").read_text())
    return {part: [data.texts[i] for i in split[part]] for part in ("fit", "test")}


def text_tokenisation(params: Any, root: Path, repeats: int) -> list[Record]:
    """Part 2's records on MR as prepared in ``root``: the WordPiece fit, then both
    tokenizers' encoding of the test documents, each the best of ``repeats`` calls (the fit
    the best of ``repeats // 3`` single calls)."""
    from tokfrag.families.token.wordpiece import TextTokenizer

    t = params.token.text
    docs = mr_documents(root, params)
    fit, test = docs["fit"], docs["test"]
    fit_seconds = min(
        best_of({"fit": lambda: TextTokenizer(t.vocab_size, t.max_length).fit(fit)}, 1)["fit"]
        for _ in range(max(1, repeats // 3))
    )
    scratch = TextTokenizer(t.vocab_size, t.max_length).fit(fit)
    minilm = TextTokenizer.from_pretrained(max_length=t.max_length)
    best = best_of(
        {
            "scratch": lambda: scratch.encode(test),
            "minilm": lambda: minilm.encode(test),
        },
        repeats,
    )
    base = (
        f"MR TextGCN split ({len(fit)} fit documents, {len(test)} test documents), "
        f"max_length {t.max_length}, padded to the longest; best of {repeats} alternating "
        "calls; the tokenizers library's own thread pool"
    )
    records = [
        record(
            "mr",
            base + "; fit on the fit documents",
            f"tokfrag TextTokenizer.fit (WordPiece, vocab_size {t.vocab_size})",
            TOKENIZER,
            "documents_per_second",
            len(fit) / fit_seconds,
            seconds=fit_seconds,
            vocab=scratch.vocab_size,
        ),
    ]
    for name, tok, label in (
        (
            "scratch",
            scratch,
            f"tokfrag TextTokenizer.encode (WordPiece fit on MR, {scratch.vocab_size} ids)",
        ),
        (
            "minilm",
            minilm,
            f"all-MiniLM-L6-v2 tokenizer via TextTokenizer.from_pretrained "
            f"({minilm.vocab_size} ids)",
        ),
    ):
        enc = tok.encode(test)
        records.append(
            record(
                "mr",
                base + "; encode the test documents",
                label,
                TOKENIZER,
                "documents_per_second",
                len(test) / best[name],
                seconds=best[name],
                repeats=repeats,
                mean_tokens=float(enc.lengths.mean()),
                unk_share=float((enc.input_ids == tok.unk_id).sum() / enc.lengths.sum()),
            )
        )
        print(
            f"  {label}: {len(test) / best[name]:,.0f} documents/s, "
            f"{enc.lengths.mean():.1f} tokens each",
            flush=True,
        )
    print(f"  WordPiece fit: {fit_seconds:.2f} s ({len(fit) / fit_seconds:,.0f} documents/s)")
    return records
