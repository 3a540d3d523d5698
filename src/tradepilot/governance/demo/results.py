"""Demo data: governance results."""


def build(ctx) -> str:
    return ""
