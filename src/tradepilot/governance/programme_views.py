"""Pages of the governance app's programme part."""

urlpatterns: list = []
