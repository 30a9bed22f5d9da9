from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "iop.bench"
    label = "bench"
    verbose_name = "Benchmark (make bench)"
