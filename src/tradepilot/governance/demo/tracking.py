"""Demo data: governance tracking."""


def build(ctx) -> str:
    return ""
