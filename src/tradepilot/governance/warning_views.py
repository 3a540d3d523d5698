"""Pages of the governance app's warning part."""

urlpatterns: list = []
