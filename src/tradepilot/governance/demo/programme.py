"""Demo data: governance programme."""


def build(ctx) -> str:
    return ""
