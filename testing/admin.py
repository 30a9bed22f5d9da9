"""Django admin: panels, analytes and policies are configuration admins edit; draws and their
keys are read-only records (never edited, never deleted)."""

from django.contrib import admin

from testing.models import Analyte, Draw, DrawKey, Panel, TestingPolicy


class AnalyteInline(admin.TabularInline):
    model = Analyte
    extra = 0
    fields = ["position", "code", "name", "screen_cutoff", "confirmation_cutoff", "unit", "explained_by"]


@admin.register(Panel)
class PanelAdmin(admin.ModelAdmin):
    list_display = ["name", "specimen_type", "is_active"]
    inlines = [AnalyteInline]


@admin.register(TestingPolicy)
class TestingPolicyAdmin(admin.ModelAdmin):
    list_display = ["phase", "panel", "ramp", "specimen_type", "observed_collection"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Draw)
class DrawAdmin(ReadOnlyAdmin):
    list_display = ["date", "site", "pool_size", "selected_count", "trigger", "snapshot_hash"]
    list_filter = ["site", "trigger"]


@admin.register(DrawKey)
class DrawKeyAdmin(ReadOnlyAdmin):
    list_display = ["month", "site", "commitment", "committed_late", "revealed_at"]
    exclude = ["secret"]
