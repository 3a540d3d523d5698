import pytest


@pytest.fixture
def programme(reference):
    """The programme of every round in governance/data/programme/, with its area tasks and area measures."""
    from tradepilot.governance.programme import load_programme

    return load_programme()
