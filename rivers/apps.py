from django.apps import AppConfig


class RiversConfig(AppConfig):
    name = "rivers"
    verbose_name = "河网 River network"

    def ready(self) -> None:
        from .accounts import connect_signals

        connect_signals()
