"""Names people type or upload (saved scenarios, model files): what every place that takes one refuses."""

from __future__ import annotations

# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they reorder the text after them,
# so "plan\u202efdp.exe" reads as "planexe.pdf" in a list, a page or the audit trail.
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


def bidi_problem(name: str, what: str = "Names") -> str | None:
    """One sentence when `name` holds a text-direction control character, else None."""
    if any(ch in BIDI_CONTROLS for ch in name):
        return (
            f"{what} cannot contain text-direction control characters (U+202A to U+202E, U+2066 to U+2069): "
            "they make a name read as something else; retype it without them."
        )
    return None
