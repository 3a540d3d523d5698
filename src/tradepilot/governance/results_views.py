"""Pages of the governance app's results part."""

urlpatterns: list = []
