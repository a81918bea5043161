from django.apps import AppConfig


class RiversConfig(AppConfig):
    name = "rivers"
    verbose_name = "河网 River network"
