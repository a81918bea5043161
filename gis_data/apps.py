from django.apps import AppConfig


class GisDataConfig(AppConfig):
    name = "gis_data"
    verbose_name = "地理数据 Geodata"
