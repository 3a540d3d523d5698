"""Demo data: governance measures."""


def build(ctx) -> str:
    return ""
