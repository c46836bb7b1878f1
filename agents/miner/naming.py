"""Readable names and stored structures of templates, derived from their signature.

``hook_story>context>turning_point>lesson>cta_question`` is named "Story hook → context → turning
point → lesson → question CTA" (labels from the taxonomy). The stored ``structure`` is the list of
kinds; a kind that comes back later in the post gets an ordinal suffix (``evidence``, ...,
``evidence_2``) because a template's structure lists each beat once.
"""

from __future__ import annotations

import regex

from .signature import Signature
from .taxonomy import Taxonomy

NAME_MAX = 120
_ORDINAL = regex.compile(r"_(\d+)$")


def template_name(signature: Signature, taxonomy: Taxonomy) -> str:
    labels = [taxonomy.kinds[kind].label if kind in taxonomy.kinds else kind for kind, _ in signature]
    if labels:
        labels[0] = labels[0][:1].upper() + labels[0][1:]
    name = " → ".join(labels)
    while len(name) > NAME_MAX and len(labels) > 2:
        labels = labels[:-2] + [labels[-1]]
        name = " → ".join(labels[:-1]) + " → … → " + labels[-1]
    return name[:NAME_MAX]


def structure_of(signature: Signature) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for kind, _ in signature:
        seen[kind] = seen.get(kind, 0) + 1
        out.append(kind if seen[kind] == 1 else f"{kind}_{seen[kind]}")
    return out


def signature_of_structure(structure: list[str], taxonomy: Taxonomy) -> Signature:
    """The signature a stored structure stands for (ordinal suffixes removed, counts of 1)."""
    out = []
    for item in structure:
        kind = item if item in taxonomy.kinds else _ORDINAL.sub("", item)
        out.append((kind, 1))
    return tuple(out)
