"""Demo data: governance evaluation."""


def build(ctx) -> str:
    return ""
