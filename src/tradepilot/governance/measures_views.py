"""Pages of the governance app's measures part."""

urlpatterns: list = []
