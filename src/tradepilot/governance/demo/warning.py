"""Demo data: governance warning."""


def build(ctx) -> str:
    return ""
