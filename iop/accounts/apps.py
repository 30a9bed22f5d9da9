from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "iop.accounts"
    label = "accounts"
    verbose_name = "Users, roles and sites"

    def ready(self) -> None:
        from iop.accounts import signals  # noqa: F401 (connects the receivers)
