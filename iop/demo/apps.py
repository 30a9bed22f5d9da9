from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "iop.demo"
    label = "demo"
    verbose_name = "Demo clinic generator"
