from django.contrib import admin

from .models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "reason", "clip", "prompt", "note")
    list_filter = ("reason",)
    readonly_fields = [f.name for f in Report._meta.fields]
