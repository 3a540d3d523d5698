"""Pages of the governance app's evaluation part."""

urlpatterns: list = []
