from ninja import NinjaAPI


def build_api() -> NinjaAPI:
    return NinjaAPI(title="Trade Pilot API", version="1")
