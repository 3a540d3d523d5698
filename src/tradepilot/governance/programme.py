"""Loading the programme (task areas, tasks, guarantees, responsible units, opening measures) from data files."""


def load_programme() -> dict:
    return {}
